// The data of a seccomp allow-list: what rustiq-policyc generates from
// policies/<daemon>/seccomp.policy and what LoadSeccompFilter() turns into a
// kernel filter (see seccomp_filter.h). Header-only and free of libseccomp, so
// that the policy compiler (a host tool) shares the exact same types and
// checks as the runtime.
//
// Everything here is a literal type: a generated policy is a set of constexpr
// tables in read-only memory, referenced by std::span and const char*. Nothing
// owns anything; the tables live for the whole process.
#ifndef RUSTIQ_COMMON_SANDBOX_SECCOMP_POLICY_H_
#define RUSTIQ_COMMON_SANDBOX_SECCOMP_POLICY_H_

#include <cstdint>
#include <span>

namespace rustiq::sandbox {

// How one syscall argument is compared. Comparisons are on the full 64-bit
// register, unsigned, as libseccomp does them.
enum class SeccompCompareOp : std::uint8_t {
  kEq,        // arg == value
  kNe,        // arg != value
  kLt,        // arg <  value
  kLe,        // arg <= value
  kGt,        // arg >  value
  kGe,        // arg >= value
  kMaskedEq,  // (arg & mask) == value
};

struct SeccompComparison {
  std::uint8_t arg = 0;  // 0..5
  SeccompCompareOp op = SeccompCompareOp::kEq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  // kMaskedEq only; 0 otherwise
};

// One alternative of a rule: all of its comparisons must hold. libseccomp
// accepts at most one comparison per argument in an alternative.
struct SeccompAlternative {
  std::span<const SeccompComparison> all_of{};
};

enum class SeccompRuleAction : std::uint8_t {
  kAllow,  // run the syscall
  kErrno,  // fail it with errno_value without running it (harmless probes,
           // and clone3, whose struct argument no filter can inspect)
};

// One line of a policy.
struct SeccompSyscallRule {
  const char* name = nullptr;  // as in the policy ("mmap"), for reports
  // The native syscall number, resolved by the policy compiler. The loader
  // checks it against the running architecture and refuses a mismatch.
  int number = -1;
  SeccompRuleAction action = SeccompRuleAction::kAllow;
  int errno_value = 0;  // kErrno only
  // Empty: the action applies to every call. Otherwise it applies when any
  // alternative holds; other calls get the default action (violation)...
  std::span<const SeccompAlternative> any_of{};
  // ... unless this is not 0: then the other calls fail with this errno
  // ("socket: arg0 == AF_UNIX else errno EAFNOSUPPORT", for a library's
  // harmless probe). kAllow with exactly one comparison that is not masked,
  // so that its complement is one comparison too.
  int otherwise_errno = 0;
  int line = 0;  // line in the policy file, for error messages
};

struct SeccompPolicy {
  const char* daemon = nullptr;
  const char* source = nullptr;  // "policies/<daemon>/seccomp.policy"
  std::span<const SeccompSyscallRule> rules{};
};

// The largest signal number on Linux (_NSIG - 1). Used to keep rt_sigaction
// rules away from SIGSYS (see seccomp_filter.h).
inline constexpr std::uint64_t kSeccompMaxSignal = 64;

// True when some 64-bit argument whose low 32 bits equal `low32` satisfies
// `cmp`. The kernel truncates int arguments (a signal number, a socket
// family) to their low 32 bits, so this is the question "can this comparison
// let a call through that the kernel will read as `low32`?".
constexpr bool SeccompComparisonMayMatchInt(const SeccompComparison& cmp,
                                            std::uint32_t low32) {
  constexpr std::uint64_t kLow = 0xffffffffULL;
  const std::uint64_t smallest = low32;  // high bits all 0
  const std::uint64_t largest = (~kLow) | std::uint64_t{low32};  // all 1
  switch (cmp.op) {
    case SeccompCompareOp::kEq:
      return (cmp.value & kLow) == low32;
    case SeccompCompareOp::kNe:
      return true;  // many values with these low bits differ from cmp.value
    case SeccompCompareOp::kLt:
      return smallest < cmp.value;
    case SeccompCompareOp::kLe:
      return smallest <= cmp.value;
    case SeccompCompareOp::kGt:
      return largest > cmp.value;
    case SeccompCompareOp::kGe:
      return largest >= cmp.value;
    case SeccompCompareOp::kMaskedEq:
      // The high bits are free, the low ones fixed to low32.
      return (cmp.value & ~cmp.mask) == 0 &&
             (std::uint64_t{low32} & cmp.mask & kLow) == (cmp.value & kLow);
  }
  return true;
}

// True when the alternative may let a call through whose argument `arg`
// reads as the int `low32` in the kernel (an alternative that does not look
// at `arg` always may).
constexpr bool SeccompAlternativeMayMatchInt(const SeccompAlternative& alt,
                                             std::uint8_t arg,
                                             std::uint32_t low32) {
  for (const SeccompComparison& cmp : alt.all_of) {
    if (cmp.arg == arg && !SeccompComparisonMayMatchInt(cmp, low32)) {
      return false;
    }
  }
  return true;
}

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_SECCOMP_POLICY_H_
