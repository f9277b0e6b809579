// The fixed tables of the policy compiler: named constants a condition may
// use, errno names the errno action may use, and the syscalls that need a
// "# why:" comment. Values come from the build host's kernel and libc
// headers, like the syscall numbers (see README.md, "Architecture").
#ifndef RUSTIQ_TOOLS_POLICYC_POLICY_TABLES_H_
#define RUSTIQ_TOOLS_POLICYC_POLICY_TABLES_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace rustiq::policyc {

// AF_UNIX, PROT_EXEC, CLONE_NEWUSER, FIONBIO, PR_SET_NAME, SIGSYS, O_CREAT,
// F_SETFL, FUTEX_WAKE, MADV_DONTNEED, ... (the full list is in
// policy_tables.cc). nullopt for an unknown name.
std::optional<std::uint64_t> LookupConstant(absl::string_view name);

// EPERM, ENOSYS, EAFNOSUPPORT, ... nullopt for an unknown name.
std::optional<int> LookupErrno(absl::string_view name);

// Syscalls that widen what a compromised daemon can do (code injection,
// privilege or namespace changes, other processes, the kernel's larger attack
// surfaces). Listing one requires a "# why:" comment on its line.
bool IsRiskySyscall(absl::string_view name);

}  // namespace rustiq::policyc

#endif  // RUSTIQ_TOOLS_POLICYC_POLICY_TABLES_H_
