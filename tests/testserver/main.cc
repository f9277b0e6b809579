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
#include "tests/testserver/echo_service.h"

namespace {

int Run(int argc, char** argv) {
  std::string config_flag;
  std::string name = "testserver";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_flag = argv[++i];
    } else if (arg == "--name" && i + 1 < argc) {
      name = argv[++i];
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

  rustiq::audit::LogSecurityEventSink sink;
  rustiq::testing::EchoService echo;
  auto server = rustiq::rpc::RpcServer::Start(
      rustiq::rpc::ServerOptionsFromConfig(*config, name),
      {rustiq::rpc::Serve<rustiq::test::v1::Echo>(&echo)}, &sink);
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
