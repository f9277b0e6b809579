// The last step of a daemon's confinement: a seccomp allow-list built with
// libseccomp from the daemon's compiled policy (policies/<daemon>/, compiled
// by tools/policyc into a SeccompPolicy; see seccomp_policy.h).
//
// Shape of the filter (enforce mode):
//   - native architecture only; a call from any other ABI (int 0x80, x32)
//     kills the process (SCMP_FLTATR_ACT_BADARCH = kill-process);
//   - the policy's rules: allow, or fail with an errno, optionally only when
//     an argument condition holds ("else errno E": the calls the condition
//     does not match fail with E instead of being violations);
//   - two rules every filter gets, whatever the policy says:
//       write(2, ...)            allowed, so a violation can be reported;
//       rt_sigaction(SIGSYS,...) kills the process (see below);
//   - everything else: SCMP_ACT_TRAP, i.e. SIGSYS to the offending thread.
//
// Why TRAP and not kill-process directly: a killed process cannot say which
// syscall it was killed for. InstallViolationReporter() installs a SIGSYS
// handler that writes one line naming the syscall, then ends the process by
// calling rt_sigaction(SIGSYS, SIG_DFL), which the filter answers with
// kill-process. So a violation always ends in death by SIGSYS, and code that
// has taken over the process cannot replace the SIGSYS handler to survive: the
// attempt is itself the kill. (If SIGSYS is blocked or ignored when a
// violation happens, the kernel forces the default action: death by SIGSYS.)
//
// rt_sigaction for other signals follows the policy. To keep the kill rule
// reachable (libseccomp drops a conditional rule when the same syscall also
// has an unconditional one, and overlapping rules with different actions have
// no defined order), every rt_sigaction alternative of the policy must exclude
// SIGSYS: an alternative that does not look at arg0 is split into
// "arg0 <= 30", "arg0 in 32..63" and "arg0 == 64"; one whose arg0 condition
// may match SIGSYS (even through the high 32 bits the kernel ignores) is
// refused. `write` and `rt_sigaction` may not use the errno action.
//
// Complain mode: the same rules, but the default action is SCMP_ACT_LOG (the
// kernel runs the call and logs it) and there is no rt_sigaction kill rule.
// The caller must print a loud warning. Reading the log: each call outside
// the policy produces an audit record of type 1326 (SECCOMP), e.g.
//   audit: type=1326 audit(...): auid=... uid=... pid=812 comm="keyd"
//     exe="/usr/libexec/rustiq/keyd" sig=0 arch=c000003e syscall=110
//     compat=0 ip=0x7f... code=0x7ffc0000
// code=0x7ffc0000 is SECCOMP_RET_LOG, arch c000003e is x86_64 and syscall is
// the native number: `ausearch -m SECCOMP -c keyd` (with auditd) or
// `journalctl -k | grep type=1326` / `dmesg | grep type=1326` (without; the
// kernel rate-limits these), then `scmp_sys_resolver 110` (package
// "seccomp") or `ausyscall 110` to get the name. The kernel logs only if
// "log" is listed in /proc/sys/kernel/seccomp/actions_logged (the default).
//
// Order of calls (main thread, after NO_NEW_PRIVS, before serving):
//   InstallViolationReporter(policy, daemon);   // before: rt_sigaction(SIGSYS)
//                                               // is the kill afterwards
//   absl::Status s = LoadSeccompFilter(policy, SeccompMode::kEnforce);
//   if (!s.ok()) { log it; abort(); }           // never run half-confined
#ifndef RUSTIQ_COMMON_SANDBOX_SECCOMP_FILTER_H_
#define RUSTIQ_COMMON_SANDBOX_SECCOMP_FILTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sandbox/seccomp_policy.h"

namespace rustiq::sandbox {

enum class SeccompMode {
  kEnforce,   // outside the policy: report, then kill the process (SIGSYS)
  kComplain,  // outside the policy: the kernel logs the call and runs it
};

// "enforce" / "complain".
const char* SeccompModeName(SeccompMode mode);
absl::StatusOr<SeccompMode> ParseSeccompMode(absl::string_view text);

// Installs the SIGSYS handler that reports a violation as one line on stderr
//   level=error daemon=<daemon> msg="sandbox violation" syscall=ptrace
//   nr=101 arch=x86_64 cause=not-listed action=kill
// (cause=arguments when the policy lists the syscall but its condition did
// not hold, e.g. socket(AF_INET) under "socket: arg0 == AF_UNIX") and then
// ends the process (see above). Everything the handler needs (the
// line prefix, the names of syscalls 0..500) is computed here, so the handler
// itself only formats into a stack buffer and calls write(2): no malloc, no
// stdio, no locks. No timestamp: clock_gettime may be a real syscall on some
// clock sources, and the journal stamps the line anyway.
// Call once, from the main thread, before LoadSeccompFilter(); `daemon` is
// reduced to [A-Za-z0-9._-] and 64 bytes. Not thread-safe.
// `record_fd` (>= 0): the line is also appended there (violation_record.h),
// and the filter allows write() on that descriptor as it does on fd 2.
void InstallViolationReporter(const SeccompPolicy& policy,
                              absl::string_view daemon, int record_fd = -1);

// Builds the filter of `policy` and loads it into the calling process, on
// every thread (SCMP_FLTATR_CTL_TSYNC). Irreversible; call once (a second
// load would itself need syscalls the first filter does not allow).
// Preconditions, each a FailedPrecondition error when not met:
//   - PR_SET_NO_NEW_PRIVS is already set (the filter does not set it: the
//     confinement sequence does, and a filter loaded without it would mean
//     the sequence is broken);
//   - kEnforce: InstallViolationReporter() was called and its handler is
//     still the SIGSYS handler.
// A malformed policy (bad argument index, a syscall number that does not
// match this architecture, an rt_sigaction rule that may match SIGSYS, ...)
// is InvalidArgument; a libseccomp failure is Internal. Every message names
// the policy file, line and syscall. On any error nothing is loaded.
absl::Status LoadSeccompFilter(const SeccompPolicy& policy, SeccompMode mode);

// The filter LoadSeccompFilter() would load, as libseccomp's pseudo filter
// code (PFC), without loading it: for reviews ("what does this policy really
// allow?") and tests. Needs no precondition.
absl::StatusOr<std::string> ExportSeccompFilterPfc(const SeccompPolicy& policy,
                                                   SeccompMode mode);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_SECCOMP_FILTER_H_
