// The daemons of the stack, in start order (DESIGN.md, "The daemons").
#ifndef RUSTIQ_COMMON_CONFIG_DAEMONS_H_
#define RUSTIQ_COMMON_CONFIG_DAEMONS_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"

namespace rustiq::config {

inline constexpr std::array<absl::string_view, 6> kStackDaemons = {
    "keyd", "eventd", "authd", "updated", "cloudd", "supervisord"};

// The daemons that exist today, as provisioning writes them into
// [supervisord.daemons]: name and the daemons it needs serving first.
struct StackDaemon {
  absl::string_view name;
  std::array<absl::string_view, 2> after;  // "" = none
};
inline constexpr std::array<StackDaemon, 3> kSupervisedDaemons = {{
    {"keyd", {"", ""}},
    {"eventd", {"keyd", ""}},
    {"authd", {"keyd", "eventd"}},
}};

// The users and group of deploy/sysusers.d/rustiq.conf: rustiq-<daemon>,
// all in the group that owns the sockets.
inline constexpr absl::string_view kDaemonUserPrefix = "rustiq-";
inline constexpr absl::string_view kStackGroup = "rustiq";

// A daemon's, user's or group's name on a rustiq device: 1-32 characters
// of [a-z0-9_-], starting with a letter or '_' (what useradd takes and a
// SPIFFE path segment allows). InvalidArgument saying so otherwise.
absl::Status ValidateStackName(absl::string_view name);

// [supervisord.daemons] for the daemons of kSupervisedDaemons, each binary
// <bin_dir>/rustiq-<name>; with `own_users`, each as rustiq-<name> in the
// group rustiq.
std::vector<SupervisedDaemon> StackDaemonsConfig(const std::string& bin_dir,
                                                 bool own_users);

// The admin CLI's client name: its identity is client/rustiqctl.
inline constexpr absl::string_view kCliClientName = "rustiqctl";

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_DAEMONS_H_
