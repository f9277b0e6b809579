// Why a daemon ended, from its wait status and, for a death by SIGSYS, the
// violation line its seccomp reporter wrote to stderr
// (common/sandbox/seccomp_filter.h, parsed by ParseViolationLine).
#ifndef RUSTIQ_SERVICES_SUPERVISORD_EXIT_REASON_H_
#define RUSTIQ_SERVICES_SUPERVISORD_EXIT_REASON_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/sandbox/violation_record.h"

namespace rustiq::supervisord {

struct ExitReason {
  std::string kind;         // "exited", "signaled" or "sandbox"
  int exit_status = 0;      // kind "exited"
  int signal = 0;           // "signaled", "sandbox"
  std::string signal_name;  // "SIGKILL"; "SIG<n>" for one without a name
  std::string syscall;      // "sandbox": the syscall, "unknown" if no line said
  std::string killed_by_supervisor;  // "health", "start-timeout", "stop"
  // "exited with status 1", "killed by SIGKILL", "killed by the sandbox
  // for syscall ptrace (SIGSYS)", and ", by supervisord (health)" when it
  // was supervisord that killed it.
  std::string text;
  bool clean() const { return kind == "exited" && exit_status == 0; }
};

// `wait_status` from waitpid; `violation`: the daemon's last violation
// line, if it wrote one during this run.
ExitReason DescribeExit(
    int wait_status, const std::optional<sandbox::ViolationRecord>& violation,
    absl::string_view killed_by_supervisor = "");

// "SIGKILL" for 9; "SIG<n>" otherwise unknown.
std::string SignalName(int signal);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_EXIT_REASON_H_
