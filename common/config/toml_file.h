// The policy files written in TOML beside the device configuration
// (policies/authd/roles.toml, policies/keyd/keys.toml): their text parsed,
// and errors that name the file and the line of the value they are about.
// (The device configuration itself, with its drop-ins, is config.h's.) A
// target including this compiles with TOML_HEADER_ONLY=0 TOML_SHARED_LIB=1,
// as rustiq_config does (Debian's toml++ is the compiled library).
#ifndef RUSTIQ_COMMON_CONFIG_TOML_FILE_H_
#define RUSTIQ_COMMON_CONFIG_TOML_FILE_H_

#include <toml++/toml.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::config {

// The root table of `toml_text`; a syntax error is INVALID_ARGUMENT
// "<origin>:<line>: <what is wrong>".
absl::StatusOr<toml::table> ParseTomlFile(absl::string_view toml_text,
                                          absl::string_view origin);

// "<origin>:<line>" of a value, for error messages.
std::string TomlWhere(const toml::node& node, absl::string_view origin);

// INVALID_ARGUMENT "<origin>:<line>: <message>" about a value.
absl::Status TomlError(const toml::node& node, absl::string_view origin,
                       absl::string_view message);

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_TOML_FILE_H_
