// supervisord's own confinement in standalone mode (docs/supervisord.md,
// "Its own confinement"): the capabilities of policies/supervisord/
// capabilities when started as root (none otherwise), bounding set cleared
// of the rest, then no_new_privs, not dumpable and RLIMIT_CORE 0. No
// seccomp filter and no Landlock domain: both survive fork and exec, so
// every daemon would run under supervisord's filter and domain as well as
// its own, and its SIGSYS reporter (which must be installable) would be
// killed by supervisord's filter.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_SELF_POLICY_H_
#define RUSTIQ_SERVICES_SUPERVISORD_SELF_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::supervisord {

// The compiled-in text of policies/supervisord/capabilities.
absl::string_view SupervisordCapabilitiesText();
// Its capabilities (libcap-ng numbers).
absl::StatusOr<std::vector<int>> SupervisordCapabilities();

// `as_root`: supervisord was started as root and keeps its capabilities.
absl::Status ConfineSupervisord(bool as_root);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_SELF_POLICY_H_
