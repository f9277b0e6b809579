#include "common/rpc/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/pki/identity_files.h"
#include "common/rpc/unix_socket.h"

namespace rustiq::rpc {
namespace {

ClientOptions FromConfig(const config::StackConfig& config,
                         const pki::IdentityPaths& id) {
  ClientOptions o;
  o.trust_domain = config.device_id;
  o.runtime_dir = config.paths.runtime_dir;
  o.tls = TlsFilesFor(config, id);
  o.call_deadline_ms = config.rpc.call_deadline_ms;
  o.max_message_bytes = config.rpc.max_message_bytes;
  return o;
}

}  // namespace

ClientOptions ClientOptionsForClient(const config::StackConfig& config,
                                     absl::string_view client_name) {
  return FromConfig(config,
                    pki::ForClient(config.paths.state_dir, client_name));
}

ClientOptions ClientOptionsForService(const config::StackConfig& config,
                                      absl::string_view daemon) {
  return FromConfig(config, pki::ForService(config.paths.state_dir, daemon));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelFactory::ForDaemon(
    absl::string_view daemon) const {
  absl::StatusOr<identity::SpiffeId> server =
      identity::SpiffeId::ForService(options_.trust_domain, daemon);
  if (!server.ok()) return server.status();
  return Connect(DaemonSocketPath(options_.runtime_dir, daemon), *server);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelFactory::Connect(
    const std::string& socket_path,
    const identity::SpiffeId& expected_server) const {
  // Fail early, naming the file, rather than at the handshake.
  for (const std::string* path :
       {&options_.tls.key_path, &options_.tls.cert_path,
        &options_.tls.trust_bundle_path}) {
    absl::StatusOr<std::string> data = pki::ReadSmallFile(*path, 256 * 1024);
    if (!data.ok()) return data.status();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  // The default method config gives every call on the channel a deadline;
  // a shorter deadline set by the caller still wins.
  const uint64_t timeout_ms = ServiceConfigTimeoutMs(options_.call_deadline_ms);
  args.SetServiceConfigJSON(absl::StrCat(
      R"({"methodConfig":[{"name":[{}],"timeout":")", timeout_ms / 1000, ".",
      absl::Dec(timeout_ms % 1000, absl::kZeroPad3), R"(s"}]})"));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.reconnect_min_ms));
  // (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is not set: despite its name, gRPC
  // uses it as the connection attempt's timeout, which must stay long
  // enough for a handshake on a loaded device.)
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.reconnect_max_ms));
  if (options_.private_connection) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  }
  return grpc::CreateCustomChannel(
      "unix:" + socket_path,
      MakeChannelCredentials(options_.tls, expected_server), args);
}

uint64_t ServiceConfigTimeoutMs(uint32_t call_deadline_ms) {
  if (call_deadline_ms == kNoDeadline) return call_deadline_ms;
  return uint64_t{call_deadline_ms} + kServiceConfigEarlyMs;
}

void SetCallDeadline(grpc::ClientContext* ctx, uint32_t call_deadline_ms) {
  if (call_deadline_ms == kNoDeadline) return;
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(call_deadline_ms));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> RevocationChannel(
    const config::StackConfig& config, absl::string_view daemon) {
  ClientOptions options = ClientOptionsForService(config, daemon);
  options.call_deadline_ms = kNoDeadline;
  return ChannelFactory(options).ForDaemon("authd");
}

}  // namespace rustiq::rpc
