// Each rustiqctl subcommand registers itself on the CLI11 app and runs with
// the shared global options. One file per command group.
#ifndef RUSTIQ_CLI_COMMANDS_H_
#define RUSTIQ_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "cli/output.h"
#include "common/config/config.h"

namespace rustiq::cli {

struct GlobalOptions {
  std::string config_path;  // --config (else $RUSTIQ_CONFIG, else /etc/...)
  bool json = false;        // --json
  std::string identity = "rustiqctl";  // --as: client/<name> identity
  uint32_t timeout_ms = 0;             // --timeout; 0: the config's deadline
  // Loads the device configuration named by the options.
  absl::StatusOr<config::StackConfig> LoadConfig() const;
};

// The selected command's action; returns the process exit code.
using Action = std::function<int()>;

void AddVersionCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action);
void AddProvisionCommand(CLI::App& app, const GlobalOptions& global,
                         Action* action);
void AddPingCommand(CLI::App& app, const GlobalOptions& global, Action* action);
void AddPostureCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action);
void AddKeysCommand(CLI::App& app, const GlobalOptions& global, Action* action);
void AddCertsCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action);
void AddEventsCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action);
// login, logout, whoami, passwd (cli/cmd_auth.cc).
void AddAuthCommands(CLI::App& app, const GlobalOptions& global,
                     Action* action);
// users and roles (cli/cmd_users.cc).
void AddUsersCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action);
void AddRolesCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action);
// status (cli/cmd_status.cc) and services (cli/cmd_services.cc), through
// rustiq-supervisord.
void AddStatusCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action);
void AddServicesCommand(CLI::App& app, const GlobalOptions& global,
                        Action* action);

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_COMMANDS_H_
