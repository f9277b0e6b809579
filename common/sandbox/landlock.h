// Landlock step of the confinement sequence: the file system limited to the
// daemon's own paths. The kernel's Landlock ABI is detected and everything it
// offers is used (file access rights up to ABI 5, TCP bind/connect denial
// from ABI 4 for daemons without network, signal and abstract-socket scoping
// from ABI 6). What was applied is reported, for the posture.
#ifndef RUSTIQ_COMMON_SANDBOX_LANDLOCK_H_
#define RUSTIQ_COMMON_SANDBOX_LANDLOCK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rustiq::sandbox {

struct LandlockRules {
  std::vector<std::string> read_only;   // files or directories
  std::vector<std::string> read_write;  // directories (or files)
  std::vector<std::string> executable;  // read + execute (rarely needed)
  // Deny TCP bind and connect (ABI >= 4). Daemons without network set this.
  bool deny_tcp = true;
  // Scope signals and abstract Unix sockets to the daemon's own domain
  // (ABI >= 6). The supervisor, which signals others, clears it.
  bool scope_signals = true;
};

struct LandlockResult {
  int abi = 0;           // the kernel's Landlock ABI (0: no Landlock)
  bool applied = false;  // a ruleset is in force
  bool tcp_denied = false;
  bool signals_scoped = false;
  std::vector<std::string> skipped_paths;  // listed paths that do not exist
};

// The kernel's Landlock ABI version, 0 when Landlock is unavailable.
int LandlockAbi();

// Restricts this process (all threads created afterwards, and the calling
// thread; call before starting threads or with every thread's consent).
// Paths that do not exist are skipped and reported; any other failure is an
// error. On a kernel without Landlock returns applied=false, not an error:
// the caller decides (see Confine).
absl::StatusOr<LandlockResult> ApplyLandlock(const LandlockRules& rules);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_LANDLOCK_H_
