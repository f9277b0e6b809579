// The parser of rustiq's seccomp policy files
// (policies/<daemon>/seccomp.policy) used by rustiq-policyc at build time. The
// format (README.md has the long version):
//
//   # comment lines and blank lines are ignored
//   read
//   futex: arg1 & 0x7f == FUTEX_WAIT || arg1 & 0x7f == FUTEX_WAKE
//   socket: arg0 == AF_UNIX                  # why: gRPC over Unix sockets only
//   mmap: arg2 & PROT_EXEC == 0 || arg2 & PROT_WRITE == 0  # why: never W+X
//   clone3: errno ENOSYS        # why: glibc falls back to clone, checked below
//   socket: arg0 == AF_UNIX else errno EAFNOSUPPORT   # why: ... and a probe
//
//   line        := [ entry ] [ "#" comment ]
//   entry       := syscall [ ":" ( condition [ "else" "errno" ERRNO ]
//                                  | "errno" ERRNO ) ]
//   condition   := alternative { "||" alternative }
//   alternative := comparison { "&&" comparison }
//   comparison  := ARG OP value | ARG "&" value "==" value
//   ARG         := arg0 .. arg5
//   OP          := == | != | < | <= | > | >=
//   value       := atom { "|" atom }
//   atom        := decimal | 0xhex | CONSTANT (a fixed table, policy_tables.h)
//   ERRNO       := an errno name (ENOSYS, EPERM, ...) or a number 1..4095
//
// Rules checked (each violation one error line "file:line: what is wrong"):
//   - the syscall exists on the native architecture (libseccomp);
//   - each syscall at most once (the error names both lines);
//   - a syscall of the risky set has "# why: <reason>" on its line;
//   - one comparison per argument within an alternative (libseccomp's rule);
//     a masked value has no bit outside its mask (it could never match);
//   - rt_sigaction conditions never match SIGSYS, and neither write nor
//     rt_sigaction uses the errno action (the sandbox reserves them, see
//     common/sandbox/seccomp_filter.h);
//   - "else errno" only after a condition of one unmasked comparison (its
//     complement must be one comparison too);
//   - at least one syscall.
#ifndef RUSTIQ_TOOLS_POLICYC_POLICY_PARSER_H_
#define RUSTIQ_TOOLS_POLICYC_POLICY_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sandbox/seccomp_policy.h"

namespace rustiq::policyc {

struct ParsedAlternative {
  std::vector<sandbox::SeccompComparison> all_of;
};

struct ParsedRule {
  std::string name;
  int number = -1;  // native syscall number
  int line = 0;
  sandbox::SeccompRuleAction action = sandbox::SeccompRuleAction::kAllow;
  int errno_value = 0;
  std::vector<ParsedAlternative> any_of;  // empty: unconditional
  int otherwise_errno = 0;                // "else errno E"; 0: none
  std::string body;                       // text after ':' as written
  std::string why;                        // text after "# why:", if any
};

struct ParsedPolicy {
  std::string file;
  std::vector<ParsedRule> rules;  // in file order
};

// Parses and checks `text`, the contents of the policy file `file` (used in
// error messages only). On any error: InvalidArgument whose message has one
// line per error, each "file:line: what is wrong", in line order.
absl::StatusOr<ParsedPolicy> ParsePolicy(absl::string_view text,
                                         absl::string_view file);

// The native syscall number of `name` (libseccomp), or an error message
// ("unknown syscall 'foo'").
absl::StatusOr<int> ResolveNativeSyscall(absl::string_view name);

}  // namespace rustiq::policyc

#endif  // RUSTIQ_TOOLS_POLICYC_POLICY_PARSER_H_
