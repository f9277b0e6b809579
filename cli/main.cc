// rustiqctl: the admin CLI of a rustiq device.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/logging/log.h"

int main(int argc, char** argv) {
  using namespace rustiq::cli;
  // gRPC's own chatter stays out of the CLI's output unless asked for.
  setenv("GRPC_VERBOSITY", "NONE", /*overwrite=*/0);
  rustiq::log::SetDaemonName("rustiqctl");
  rustiq::log::SetMinLevel(rustiq::log::Level::kWarning);

  CLI::App app{"rustiqctl: manage a rustiq device", "rustiqctl"};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--config", global.config_path,
                 "Device configuration file (default: $RUSTIQ_CONFIG, else "
                 "/etc/rustiq/rustiq.toml)");
  app.add_flag("--json", global.json, "Print results as JSON");
  app.add_option("--as", global.identity,
                 "Client identity to use (client/<name>)")
      ->capture_default_str();
  app.add_option("--timeout", global.timeout_ms,
                 "Deadline of each call in milliseconds (default: from the "
                 "configuration)");

  Action action;
  AddVersionCommand(app, global, &action);
  AddProvisionCommand(app, global, &action);
  AddPingCommand(app, global, &action);
  AddPostureCommand(app, global, &action);
  AddKeysCommand(app, global, &action);
  AddCertsCommand(app, global, &action);
  AddEventsCommand(app, global, &action);
  AddAuthCommands(app, global, &action);
  AddUsersCommand(app, global, &action);
  AddRolesCommand(app, global, &action);
  AddStatusCommand(app, global, &action);
  AddServicesCommand(app, global, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line saying what to fix, and where to look.
    std::fprintf(stderr, "rustiqctl: %s (see 'rustiqctl --help')\n", e.what());
    return kExitUsage;
  }
  if (!action) {
    std::fprintf(stderr,
                 "rustiqctl: missing command (see 'rustiqctl --help')\n");
    return kExitUsage;
  }
  return action();
}
