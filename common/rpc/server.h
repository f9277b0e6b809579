// The server side of rustiq's RPC layer: one gRPC server per daemon on
// unix:<runtime_dir>/<daemon>.sock, mutual TLS with a required client
// certificate, the declared authorization of every method enforced by
// CallAuthorizer, per-caller concurrency bounds, message size limits and the
// standard grpc.health.v1 service (HealthService).
#ifndef RUSTIQ_COMMON_RPC_SERVER_H_
#define RUSTIQ_COMMON_RPC_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "common/rpc/call_authorizer.h"
#include "common/rpc/credentials.h"
#include "common/rpc/health_service.h"

namespace rustiq::rpc {

// Health is served to the supervisor and the CLI.
inline const std::vector<std::string> kHealthCallers = {"svc/supervisord",
                                                        "client/rustiqctl"};

struct ServerOptions {
  std::string daemon;  // "keyd": identity svc/keyd, socket keyd.sock
  std::string trust_domain;
  std::string runtime_dir;
  TlsFiles tls;
  std::string socket_group;  // empty: the process's effective group
  uint32_t max_message_bytes = 4 * 1024 * 1024;
  uint32_t max_concurrent_calls_per_caller = 16;
  int max_threads = 64;
  std::vector<std::string> health_callers = kHealthCallers;
};

// Derives a daemon's server options from the device configuration.
ServerOptions ServerOptionsFromConfig(const config::StackConfig& config,
                                      absl::string_view daemon);

// A service to serve and the full protobuf name of its API
// ("rustiq.v1.Keys"), whose method declarations are enforced.
struct ServiceEntry {
  grpc::Service* service;  // not owned
  std::string full_name;
};
// Builds a ServiceEntry from a generated service class: Serve<Keys>(&impl).
template <typename Api>
ServiceEntry Serve(typename Api::Service* impl) {
  return ServiceEntry{impl, Api::service_full_name()};
}

// What a server needs from the system before its daemon confines itself:
// the socket group resolved (NSS may load libraries) and the runtime
// directory created with its mode, so that Landlock can grant it. Start()
// runs it too. Returns the socket group's gid.
absl::StatusOr<gid_t> PrepareServerPaths(const ServerOptions& options);

class RpcServer {
 public:
  // Validates everything (identity files, declarations, socket path) before
  // listening, and fails with a message that says what to fix.
  // `sink` and `tokens` are not owned; `tokens` may be null.
  static absl::StatusOr<std::unique_ptr<RpcServer>> Start(
      const ServerOptions& options, const std::vector<ServiceEntry>& services,
      audit::SecurityEventSink* sink, TokenVerifier* tokens = nullptr);
  ~RpcServer();

  // Blocks until Shutdown() is called from another thread.
  void Wait();
  // Stops accepting calls, lets calls in flight finish for `grace`, then
  // cancels the rest and removes the socket.
  void Shutdown(absl::Duration grace);

  const std::string& socket_path() const { return socket_path_; }
  const CallerLimiter& limiter() const { return *limiter_; }

 private:
  RpcServer() = default;

  std::string socket_path_;
  std::unique_ptr<MethodAccessTable> table_;
  std::unique_ptr<CallerLimiter> limiter_;
  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_SERVER_H_
