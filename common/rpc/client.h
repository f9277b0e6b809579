// The client side of rustiq's RPC layer: channels to a daemon by name, with
// this process's identity, that accept only that daemon's identity and give
// every call a deadline.
#ifndef RUSTIQ_COMMON_RPC_CLIENT_H_
#define RUSTIQ_COMMON_RPC_CLIENT_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"
#include "common/rpc/credentials.h"

namespace rustiq::rpc {

struct ClientOptions {
  std::string trust_domain;
  std::string runtime_dir;
  TlsFiles tls;  // this client's own identity and the trust bundle
  // Default deadline of every call made on these channels; a caller may set
  // a shorter one on its ClientContext.
  uint32_t call_deadline_ms = 10000;
  uint32_t max_message_bytes = 4 * 1024 * 1024;
  // Give each channel its own connection instead of sharing one with equal
  // channels (benchmarks measuring handshakes, tests of reconnection).
  bool private_connection = false;
  // Reconnection back-off after a failed connection (the daemon restarting):
  // starts at reconnect_min_ms and grows up to reconnect_max_ms. gRPC's
  // defaults (1 s up to 120 s) suit a network, not a local socket whose
  // daemon the supervisor restarts within a second.
  uint32_t reconnect_min_ms = 100;
  uint32_t reconnect_max_ms = 1000;
};

// Options for a client whose identity is client/<name> (the CLI, local
// applications) or svc/<daemon> (a daemon calling another).
ClientOptions ClientOptionsForClient(const config::StackConfig& config,
                                     absl::string_view client_name);
ClientOptions ClientOptionsForService(const config::StackConfig& config,
                                      absl::string_view daemon);

// Default deadline for channels that carry streams meant to last (a
// daemon following authd's revocations, `events tail`): none.
inline constexpr uint32_t kNoDeadline = UINT32_MAX;

// A daemon's channel to authd on which it follows revoked tokens for its
// whole life (common/auth/daemon_tokens.h): no default deadline.
absl::StatusOr<std::shared_ptr<grpc::Channel>> RevocationChannel(
    const config::StackConfig& config, absl::string_view daemon);

class ChannelFactory {
 public:
  explicit ChannelFactory(ClientOptions options)
      : options_(std::move(options)) {}

  // A channel to <runtime_dir>/<daemon>.sock that accepts only
  // spiffe://<trust-domain>/svc/<daemon>.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ForDaemon(
      absl::string_view daemon) const;
  // A channel to an explicit socket expecting an explicit server identity.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(
      const std::string& socket_path,
      const identity::SpiffeId& expected_server) const;

 private:
  ClientOptions options_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_CLIENT_H_
