// The TLS material of an endpoint (server or client) and the gRPC credentials
// built from it. Key, certificate and trust bundle are watched on disk and
// re-read every `refresh_seconds`, so a renewed certificate or a new trust
// bundle is used without a restart (files must be replaced atomically; see
// pki::WriteIdentity).
#ifndef RUSTIQ_COMMON_RPC_CREDENTIALS_H_
#define RUSTIQ_COMMON_RPC_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/identity_files.h"

namespace rustiq::rpc {

struct TlsFiles {
  std::string key_path;
  std::string cert_path;
  std::string trust_bundle_path;
  uint32_t refresh_seconds = 60;
};

// The files of identity `id` on the device described by `config`: its key
// and certificate, the device trust bundle, the configured refresh interval.
TlsFiles TlsFilesFor(const config::StackConfig& config,
                     const pki::IdentityPaths& id);

// Checks before use, so that a misprovisioned endpoint fails at start with a
// message naming the file, not at the first handshake: all three files are
// readable, the certificate parses, carries exactly `expected` as its one URI
// SAN and is currently valid.
absl::Status CheckOwnIdentity(const TlsFiles& files,
                              const identity::SpiffeId& expected);

// Server credentials: TLS with a required and verified client certificate.
// gRPC 1.51 offers no way to pin the TLS version through this API; see
// docs/identity.md for what is negotiated.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsFiles& files);

// Client credentials that accept only a server whose certificate chains to
// the trust bundle and whose one URI SAN is exactly `expected_server`.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const TlsFiles& files, const identity::SpiffeId& expected_server);

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_CREDENTIALS_H_
