// rustiqctl ping DAEMON: the grpc.health.v1 check of one daemon, over the
// same mTLS channel every admin command uses.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "common/rpc/client.h"
#include "common/rpc/status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace rustiq::cli {
namespace {

using grpc::health::v1::HealthCheckResponse;

int Ping(const GlobalOptions& global, const std::string& daemon) {
  Output out(global.json);
  absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
  if (!cfg.ok()) return out.Fail(cfg.status());
  rpc::ChannelFactory channels(
      rpc::ClientOptionsForClient(*cfg, global.identity));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      channels.ForDaemon(daemon);
  if (!channel.ok()) return out.Fail(channel.status());

  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext ctx;
  rpc::SetCallDeadline(&ctx, cfg->rpc.call_deadline_ms);  // --timeout applied
  grpc::health::v1::HealthCheckRequest req;
  HealthCheckResponse resp;
  auto start = std::chrono::steady_clock::now();
  grpc::Status status = stub->Check(&ctx, req, &resp);
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (!status.ok()) {
    absl::Status s = rpc::FromGrpcStatus(status);
    return out.Fail(
        absl::Status(s.code(), absl::StrCat(daemon, ": ", s.message())));
  }
  std::string state = HealthCheckResponse::ServingStatus_Name(resp.status());
  out.Result(absl::StrFormat("%s: %s (%.1f ms)", daemon, state, ms),
             {{"daemon", daemon}, {"status", state}, {"latency_ms", ms}});
  return resp.status() == HealthCheckResponse::SERVING ? kExitOk
                                                       : kExitNotServing;
}

}  // namespace

void AddPingCommand(CLI::App& app, const GlobalOptions& global,
                    Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "ping", "Check that a daemon is up and serving (grpc.health.v1)");
  auto daemon = std::make_shared<std::string>();
  cmd->add_option("daemon", *daemon, "Daemon name, e.g. keyd")->required();
  cmd->callback([&global, action, daemon] {
    *action = [&global, daemon] { return Ping(global, *daemon); };
  });
}

}  // namespace rustiq::cli
