// The client side of rustiq's RPC layer: channels to a daemon by name, with
// this process's identity, that accept only that daemon's identity and give
// every call a deadline.
#ifndef RUSTIQ_COMMON_RPC_CLIENT_H_
#define RUSTIQ_COMMON_RPC_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstdint>
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
  // a shorter one on its ClientContext. Enforced through gRPC's service
  // config, which in gRPC 1.51 ends calls up to 2 s early (see
  // kServiceConfigEarlyMs): a caller that needs the figure itself, short
  // ones above all, sets it on the context with SetCallDeadline().
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

// gRPC 1.51 computes a service-config timeout from the call's start time
// read against a process epoch that it truncates to the whole second, and
// the call ends up to 2 s before the timeout has passed: measured here (a
// fresh channel per figure, two processes), timeouts up to 1,001 ms and up
// to 1,500 ms ended every call at once, 2,000 ms worked. Channels therefore get
// call_deadline_ms plus this in their service config, which makes it a backstop
// that never fires early, and the configured figure itself is set on each
// call's context (SetCallDeadline). A deadline set on the ClientContext is
// computed correctly by gRPC.
inline constexpr uint32_t kServiceConfigEarlyMs = 2000;

// The timeout a channel's service config gets for `call_deadline_ms`.
uint64_t ServiceConfigTimeoutMs(uint32_t call_deadline_ms);

// Sets the deadline `call_deadline_ms` from now on `ctx` (nothing for
// kNoDeadline).
void SetCallDeadline(grpc::ClientContext* ctx, uint32_t call_deadline_ms);

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
