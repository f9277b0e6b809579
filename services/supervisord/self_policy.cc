#include "services/supervisord/self_policy.h"

#include "common/sandbox/hardening.h"
#include "common/sandbox/policy_files.h"
#include "common/sandbox/privileges.h"

namespace rustiq::supervisord {

absl::StatusOr<std::vector<int>> SupervisordCapabilities() {
  absl::StatusOr<std::vector<std::string>> names =
      sandbox::ParseCapabilitiesFile(SupervisordCapabilitiesText(),
                                     "policies/supervisord/capabilities");
  if (!names.ok()) return names.status();
  return sandbox::ParseCapabilities(*names);
}

absl::Status ConfineSupervisord(bool as_root) {
  std::vector<int> keep;
  if (as_root) {
    absl::StatusOr<std::vector<int>> caps = SupervisordCapabilities();
    if (!caps.ok()) return caps.status();
    keep = *caps;
  }
  if (absl::Status s = sandbox::DropPrivileges(std::nullopt, keep); !s.ok()) {
    return s;
  }
  return sandbox::HardenProcess();
}

}  // namespace rustiq::supervisord
