#include "services/supervisord/exit_reason.h"

#include <string.h>
#include <sys/wait.h>

#include <csignal>
#include <string>

#include "absl/strings/str_cat.h"

namespace rustiq::supervisord {

std::string SignalName(int signal) {
  // sigabbrev_np (glibc 2.32): "KILL" for 9, nullptr for a number without
  // a name (the real-time signals, say).
  const char* abbrev = sigabbrev_np(signal);
  if (abbrev == nullptr) return absl::StrCat("SIG", signal);
  return absl::StrCat("SIG", abbrev);
}

ExitReason DescribeExit(
    int wait_status, const std::optional<sandbox::ViolationRecord>& violation,
    absl::string_view killed_by_supervisor) {
  ExitReason reason;
  reason.killed_by_supervisor = std::string(killed_by_supervisor);
  if (WIFEXITED(wait_status)) {
    reason.kind = "exited";
    reason.exit_status = WEXITSTATUS(wait_status);
    reason.text = absl::StrCat("exited with status ", reason.exit_status);
  } else if (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGSYS) {
    // seccomp's kill action, or the reporter's re-raise after writing its
    // line (common/sandbox/seccomp_filter.h).
    reason.kind = "sandbox";
    reason.signal = SIGSYS;
    reason.signal_name = SignalName(SIGSYS);
    reason.syscall = violation.has_value() && !violation->syscall.empty()
                         ? violation->syscall
                         : "unknown";
    reason.text = reason.syscall == "unknown"
                      ? "killed by the sandbox for an unknown syscall (SIGSYS)"
                      : absl::StrCat("killed by the sandbox for syscall ",
                                     reason.syscall, " (SIGSYS)");
  } else if (WIFSIGNALED(wait_status)) {
    reason.kind = "signaled";
    reason.signal = WTERMSIG(wait_status);
    reason.signal_name = SignalName(reason.signal);
    reason.text = absl::StrCat("killed by ", reason.signal_name);
  } else {
    // Stopped or continued: only with WUNTRACED/WCONTINUED, which the
    // supervisor does not ask for. Described rather than hidden.
    reason.kind = "signaled";
    reason.signal = WIFSTOPPED(wait_status) ? WSTOPSIG(wait_status) : 0;
    reason.signal_name = SignalName(reason.signal);
    reason.text =
        absl::StrCat("unexpected wait status 0x", absl::Hex(wait_status));
  }
  if (!reason.killed_by_supervisor.empty()) {
    absl::StrAppend(&reason.text, ", by supervisord (",
                    reason.killed_by_supervisor, ")");
  }
  return reason;
}

}  // namespace rustiq::supervisord
