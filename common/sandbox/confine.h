// The confinement sequence every daemon applies to itself (DESIGN.md,
// "Confinement"), after it has opened what it needs and before it starts any
// thread or serves its first request, in this order:
//   1. when root: drop supplementary groups, switch to the daemon's user;
//   2. keep only the capabilities on its list (bounding set cleared of the
//      rest, ambient empty);
//   3. no_new_privs, not dumpable, RLIMIT_CORE 0;
//   4. Landlock: the file system limited to the daemon's paths;
//   5. last, the seccomp allow-list (violations reported by name, then the
//      process dies by SIGSYS).
// Each step is checked; a failure is fatal (ConfineOrDie) because a daemon
// never runs half-confined. Confinement refuses to begin while another
// thread runs: steps 1-4 would not reach it.
#ifndef RUSTIQ_COMMON_SANDBOX_CONFINE_H_
#define RUSTIQ_COMMON_SANDBOX_CONFINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sandbox/landlock.h"
#include "common/sandbox/policy_files.h"
#include "common/sandbox/privileges.h"
#include "common/sandbox/seccomp_filter.h"

namespace rustiq::sandbox {

struct ConfinementSpec {
  std::string daemon;
  // The user to become when started as root; ignored otherwise.
  std::optional<UserAndGroup> run_as;
  std::vector<std::string> capabilities;
  LandlockRules landlock;
  // Refuse to run on a kernel without Landlock (production); a development
  // machine may allow it, loudly.
  bool require_landlock = false;
  const SeccompPolicy* seccomp = nullptr;  // compiled in; not owned
  // Complain mode, for writing policies: seccomp logs instead of killing.
  // Never the default; announced loudly and visible in the posture.
  bool complain = false;
  // Where a violation is also recorded (violation_record.h); empty: stderr
  // only. Opened (created) before the privileges are dropped.
  std::string violation_record_path;
};

struct ConfinementReport {
  LandlockResult landlock;
  bool seccomp_loaded = false;
  bool complain = false;
};

// Builds a daemon's spec from its compiled-in policy: the texts of
// policies/<daemon>/capabilities and landlock.paths (embedded by
// rustiq-policy-embed, header policies/<daemon>/policy_files.h), the device's
// path roots, and its compiled seccomp policy (not owned; static).
absl::StatusOr<ConfinementSpec> SpecFromPolicy(
    absl::string_view daemon, absl::string_view capabilities_text,
    absl::string_view landlock_text, const PathRoots& roots,
    const SeccompPolicy& seccomp);

absl::StatusOr<ConfinementReport> Confine(const ConfinementSpec& spec);

// For main(): confines or exits with a one-line error naming the step.
ConfinementReport ConfineOrDie(const ConfinementSpec& spec);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_CONFINE_H_
