// The [supervisord] section of the device configuration and its
// [supervisord.daemons.<name>] tables (config.h: SupervisordConfig).
// Internal to rustiq_config.
#ifndef RUSTIQ_COMMON_CONFIG_SUPERVISORD_SECTION_H_
#define RUSTIQ_COMMON_CONFIG_SUPERVISORD_SECTION_H_

#include <toml++/toml.h>

#include <string>

#include "absl/status/status.h"
#include "common/config/config.h"

namespace rustiq::config {

// `complete` is false for a drop-in: a daemon's binary may then come from
// the main file, and `after` may name daemons the drop-in does not define.
absl::Status ReadSupervisordSection(const toml::table* table,
                                    const std::string& origin, bool complete,
                                    SupervisordConfig* out);

toml::table RenderSupervisordSection(const SupervisordConfig& config);

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_SUPERVISORD_SECTION_H_
