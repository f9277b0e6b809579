// Process hardening step of the confinement sequence: no new privileges
// (setuid binaries and file capabilities stop working, and seccomp filters
// may be loaded unprivileged), not dumpable (no ptrace attach from the same
// user, /proc/<pid> files owned by root, no core) and RLIMIT_CORE 0.
#ifndef RUSTIQ_COMMON_SANDBOX_HARDENING_H_
#define RUSTIQ_COMMON_SANDBOX_HARDENING_H_

#include "absl/status/status.h"

namespace rustiq::sandbox {

// Applies and verifies all three; any failure is returned and must be fatal.
absl::Status HardenProcess();

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_HARDENING_H_
