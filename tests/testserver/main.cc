// rustiq-testserver: the test-only daemon of the RPC layer's integration
// tests and the demo. Thin: configuration, server, signals.
//   rustiq-testserver --config <file> [--name testserver]
#include <signal.h>

#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "common/logging/log.h"
#include "common/rpc/server.h"
#include "common/sandbox/confine.h"
#include "policies/testserver/policy_files.h"
#include "policies/testserver/seccomp_policy.h"
#include "tests/testserver/echo_service.h"

namespace {

int Run(int argc, char** argv) {
  std::string config_flag;
  std::string name = "testserver";
  bool complain = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_flag = argv[++i];
    } else if (arg == "--name" && i + 1 < argc) {
      name = argv[++i];
    } else if (arg == "--seccomp-complain") {
      complain = true;
    } else {
      fprintf(stderr,
              "usage: rustiq-testserver [--config FILE] [--name NAME]\n");
      return 2;
    }
  }
  rustiq::log::SetDaemonName(name);
  absl::StatusOr<rustiq::config::StackConfig> config =
      rustiq::config::LoadConfig(
          rustiq::config::ResolveConfigPath(config_flag));
  if (!config.ok()) {
    rustiq::log::Error("cannot load configuration",
                       {{"error", config.status().message()}});
    return 1;
  }
  rustiq::log::Level level;
  if (rustiq::log::ParseLevel(config->log.level, &level)) {
    rustiq::log::SetMinLevel(level);
  }

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // Confinement comes before the server starts any thread; what it needs
  // from the system is resolved and created first.
  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, name);
  if (absl::StatusOr<gid_t> gid = rustiq::rpc::PrepareServerPaths(options);
      !gid.ok()) {
    rustiq::log::Error("cannot prepare the socket directory",
                       {{"error", gid.status().message()}});
    return 1;
  }
  namespace policies = rustiq::sandbox::policies;
  absl::StatusOr<rustiq::sandbox::ConfinementSpec> spec =
      rustiq::sandbox::SpecFromPolicy(
          name, policies::testserver::kCapabilities,
          policies::testserver::kLandlockPaths,
          {config->paths.config_dir, config->paths.state_dir,
           config->paths.runtime_dir, name},
          policies::TestserverSeccompPolicy());
  if (!spec.ok()) {
    rustiq::log::Error("bad compiled-in policy",
                       {{"error", spec.status().message()}});
    return 1;
  }
  spec->complain = complain;
  rustiq::sandbox::ConfineOrDie(*spec);

  rustiq::audit::LogSecurityEventSink sink;
  rustiq::testing::EchoService echo;
  auto server = rustiq::rpc::RpcServer::Start(
      options, {rustiq::rpc::Serve<rustiq::test::v1::Echo>(&echo)}, &sink);
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    rustiq::log::Info("stopping", {{"signal", sig}});
    (*server)->Shutdown(absl::Seconds(2));
  });
  (*server)->Wait();
  waiter.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
