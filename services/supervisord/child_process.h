// Starting one daemon as a child of supervisord (standalone mode): fork,
// then in the child, before exec: its own session and process group (no
// controlling terminal), stdin from /dev/null, stdout and stderr into a
// pipe supervisord reads (log_relay.h),
// no other descriptor, default signal dispositions and an empty signal
// mask, the bounding set emptied (clear_bounding_set), supplementary groups
// dropped and the configured group and user taken (when supervisord is root),
// and last the parent-death signal (SIGKILL: the kernel clears it on a
// credential change, so it is set after the switch), then execve with a fixed
// environment. A failure in the child before exec (no such user, no such
// binary) is reported back through a close-on-exec pipe, so Spawn() returns it
// as an error naming the step.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_CHILD_PROCESS_H_
#define RUSTIQ_SERVICES_SUPERVISORD_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rustiq::supervisord {

struct LaunchSpec {
  std::string binary;             // absolute path
  std::vector<std::string> args;  // argv[1..]
  // "NAME=value" entries: the child's whole environment.
  std::vector<std::string> env;
  // Switched to when set (supervisord must be root for that).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Empty the capability bounding set before the switch (needs
  // CAP_SETPCAP): nothing the daemon runs can ever regain a capability.
  bool clear_bounding_set = false;
};

struct Child {
  pid_t pid = -1;      // also its process group id
  int output_fd = -1;  // read end of its stdout/stderr pipe (close-on-exec)
};

// Starts the child. The caller reaps it (waitpid) and closes output_fd.
// Errors: FailedPrecondition for a spec refused before forking (binary not
// absolute, missing, not a regular executable file; an environment entry
// that is not NAME=value); the errno of the failed step otherwise ("cannot
// start /usr/bin/x: execve: No such file or directory", "cannot switch to
// uid 999: setuid: Operation not permitted"), the child already reaped.
// Call it from a thread that lives as long as the child: the kernel sends
// the parent-death signal when the forking *thread* exits.
absl::StatusOr<Child> Spawn(const LaunchSpec& spec);

// Makes this process the reaper of its orphaned descendants
// (PR_SET_CHILD_SUBREAPER), so that nothing a daemon forks escapes.
absl::Status BecomeSubreaper();

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_CHILD_PROCESS_H_
