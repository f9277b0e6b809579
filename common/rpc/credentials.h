// The gRPC credentials built from an endpoint's TLS material (tls_files.h).
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
#include "common/rpc/tls_files.h"

namespace rustiq::rpc {

// The files of identity `id` on the device described by `config`: its key
// and certificate, the device trust bundle, the configured refresh interval,
// and the watcher that any other TlsFiles for them alive now holds.
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
