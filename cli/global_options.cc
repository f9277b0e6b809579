#include "cli/commands.h"

namespace rustiq::cli {

absl::StatusOr<config::StackConfig> GlobalOptions::LoadConfig() const {
  absl::StatusOr<config::StackConfig> cfg =
      config::LoadConfig(config::ResolveConfigPath(config_path));
  if (!cfg.ok()) {
    // Any config problem maps to the configuration exit code.
    return absl::FailedPreconditionError(cfg.status().message());
  }
  if (timeout_ms > 0) cfg->rpc.call_deadline_ms = timeout_ms;
  return cfg;
}

}  // namespace rustiq::cli
