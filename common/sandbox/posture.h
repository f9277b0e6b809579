// The security posture of a process as the kernel reports it, not as the
// process claims: read from /proc/<pid>/status, /proc/<pid>/limits and
// /proc/<pid>/attr/current. The supervisor and `rustiqctl posture` show it.
#ifndef RUSTIQ_COMMON_SANDBOX_POSTURE_H_
#define RUSTIQ_COMMON_SANDBOX_POSTURE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rustiq::sandbox {

struct Posture {
  pid_t pid = 0;
  uid_t uid_real = 0, uid_effective = 0, uid_saved = 0;
  gid_t gid_real = 0, gid_effective = 0, gid_saved = 0;
  std::vector<gid_t> groups;  // supplementary
  uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0,
           cap_bounding = 0, cap_ambient = 0;
  bool no_new_privs = false;
  int seccomp_mode = 0;  // 0 disabled, 1 strict, 2 filter
  int seccomp_filters = 0;
  // Core dump limit from /proc/<pid>/limits; nullopt if unreadable.
  std::optional<uint64_t> core_limit;
  // Dumpable is not in /proc for other processes: a non-dumpable process's
  // /proc/<pid>/environ (like its other private entries) belongs to root; for
  // ourselves prctl says. nullopt when it cannot be told (a root-owned
  // process).
  std::optional<bool> dumpable;
  // AppArmor (or other LSM) label, "" when the kernel has no such LSM.
  std::string lsm_label;
  // Landlock is not visible in /proc: for this process it is what
  // Confine() applied; for another process it is unknown (-1).
  int landlock_abi = -1;
  bool landlock_applied = false;
  bool seccomp_complain = false;  // for this process: complain mode is on
};

// Reads the posture of `pid` (0: this process).
absl::StatusOr<Posture> ReadPosture(pid_t pid);

// Capability names in a set ("cap_net_admin,cap_sys_time"), "none" if empty.
std::string CapabilityNames(uint64_t set);

// A readable multi-line report.
std::string FormatPosture(const Posture& posture);

// Records what this process applied, for ReadPosture(0) to report.
void NoteSelfLandlock(int abi, bool applied);
void NoteSelfSeccompComplain(bool complain);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_POSTURE_H_
