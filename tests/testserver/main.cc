// rustiq-testserver: the test-only daemon of the RPC layer's integration
// tests and the demo. Thin: the daemon frame (common/daemon) and the Echo
// service.
//   rustiq-testserver [--config FILE] [--name testserver] [--seccomp-complain]
#include "common/audit/security_event.h"
#include "common/daemon/daemon.h"
#include "common/logging/log.h"
#include "common/rpc/server.h"
#include "policies/testserver/policy_files.h"
#include "policies/testserver/seccomp_policy.h"
#include "tests/testserver/echo_service.h"

int main(int argc, char** argv) {
  namespace daemon = rustiq::daemon;
  namespace policies = rustiq::sandbox::policies;
  std::optional<daemon::Flags> flags =
      daemon::ParseFlags(argc, argv, "testserver", /*accept_name=*/true);
  if (!flags) return 2;
  std::optional<rustiq::config::StackConfig> config = daemon::Begin(*flags);
  if (!config) return 1;
  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, flags->name);
  if (!daemon::PrepareAndConfine(*config, *flags, options,
                                 {policies::testserver::kCapabilities,
                                  policies::testserver::kLandlockPaths,
                                  &policies::TestserverSeccompPolicy()})) {
    return 1;
  }
  rustiq::audit::LogSecurityEventSink sink;
  rustiq::testing::EchoService echo;
  auto server = rustiq::rpc::RpcServer::Start(
      options, {rustiq::rpc::Serve<rustiq::test::v1::Echo>(&echo)}, &sink);
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  daemon::ServeUntilStopped(**server);
  return 0;
}
