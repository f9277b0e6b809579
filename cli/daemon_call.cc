#include "cli/daemon_call.h"

#include <cstdint>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/token_file.h"
#include "common/rpc/client.h"
#include "common/rpc/status.h"

namespace rustiq::cli {

absl::StatusOr<identity::SpiffeId> CliIdentity(
    const GlobalOptions& global, const config::StackConfig& config) {
  absl::StatusOr<identity::SpiffeId> id =
      identity::SpiffeId::ForClient(config.device_id, global.identity);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--as: ", id.status().message()));
  }
  return id;
}

namespace {

absl::StatusOr<DaemonConnection> Connect(const GlobalOptions& global,
                                         absl::string_view daemon,
                                         bool for_streams) {
  absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<identity::SpiffeId> id = CliIdentity(global, *cfg);
  if (!id.ok()) return id.status();
  rpc::ClientOptions options =
      rpc::ClientOptionsForClient(*cfg, global.identity);
  // The channel's default deadline is the longest gRPC's service config
  // takes here (about 49 days): in effect none.
  if (for_streams) options.call_deadline_ms = rpc::kNoDeadline;
  rpc::ChannelFactory channels(std::move(options));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      channels.ForDaemon(daemon);
  if (!channel.ok()) return channel.status();
  return DaemonConnection{*std::move(cfg), *std::move(id), *std::move(channel)};
}

}  // namespace

absl::StatusOr<DaemonConnection> ConnectToDaemon(const GlobalOptions& global,
                                                 absl::string_view daemon) {
  return Connect(global, daemon, /*for_streams=*/false);
}

absl::StatusOr<DaemonConnection> ConnectForStreams(const GlobalOptions& global,
                                                   absl::string_view daemon) {
  return Connect(global, daemon, /*for_streams=*/true);
}

void PrepareCall(const GlobalOptions& global, grpc::ClientContext* ctx) {
  // --timeout exactly, streams included (a unary call's channel default is
  // only a backstop that may end it up to 2 s late,
  // rpc::kServiceConfigEarlyMs; a stream's channel has none).
  if (global.timeout_ms > 0) rpc::SetCallDeadline(ctx, global.timeout_ms);
  // The person's token, when 'rustiqctl login' stored one. Nothing else in
  // the CLI sets call metadata. An unsafe token file is not used (the call
  // then goes without, and a method that needs a permission says to log in).
  absl::StatusOr<std::optional<std::string>> token = ReadToken();
  if (!token.ok()) {
    fprintf(stderr, "rustiqctl: %s\n",
            std::string(token.status().message()).c_str());
    return;
  }
  if (token->has_value()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", **token));
  }
}

int ExitCodeForAnswer(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return kExitFailure;
    default:
      return ExitCodeFor(status);
  }
}

int FailCall(const Output& out, absl::string_view daemon,
             const grpc::Status& status) {
  absl::Status s = rpc::FromGrpcStatus(status);
  int code = ExitCodeForAnswer(s);
  std::string message = absl::StrCat(daemon, ": ", s.message());
  if (out.json()) {
    nlohmann::json err = {{"error", message},
                          {"code", absl::StatusCodeToString(s.code())},
                          {"exit_code", code}};
    // A daemon's message is not trusted to be UTF-8.
    std::fprintf(
        stderr, "%s\n",
        err.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            .c_str());
  } else {
    std::fprintf(stderr, "rustiqctl: %s\n", message.c_str());
  }
  return code;
}

int FailUsage(const Output& out, absl::string_view message) {
  return out.Fail(absl::InvalidArgumentError(message));
}

}  // namespace rustiq::cli
