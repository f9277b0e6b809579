#include "common/sandbox/seccomp_filter.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rustiq::sandbox {
namespace {

// AddPolicyRule() splits an rt_sigaction alternative that does not look at
// arg0 into ranges of signal numbers around SIGSYS (see seccomp_filter.h).
static_assert(SIGSYS == 31, "the rt_sigaction split below assumes SIGSYS 31");
// The kernel reads an int argument from the low 32 bits of its register.
constexpr std::uint64_t kLow32 = 0xffffffffULL;

// ---------------------------------------------------------------------------
// The violation reporter. Written once by InstallViolationReporter() (main
// thread, before the filter and before other threads matter), read by the
// SIGSYS handler on any thread.

// si_code of a SIGSYS sent by seccomp (SYS_SECCOMP in <asm-generic/siginfo.h>,
// which clashes with glibc's <signal.h>).
constexpr int kSysSeccomp = 1;

constexpr int kMaxNamedSyscall = 500;
constexpr std::size_t kNameSize = 32;
char g_syscall_names[kMaxNamedSyscall + 1][kNameSize];
// Whether the policy lists the syscall (then only its arguments were wrong).
bool g_syscall_listed[kMaxNamedSyscall + 1];
char g_prefix[192];
std::size_t g_prefix_len = 0;
std::atomic<bool> g_reporter_installed{false};
int g_record_fd = -1;  // also written by the handler when >= 0

// Bounded appends into the handler's stack buffer: async-signal-safe.
struct LineBuffer {
  char data[384];
  std::size_t len = 0;

  void Append(const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n && len < sizeof(data); ++i) {
      data[len++] = s[i];
    }
  }
  void Append(const char* s) { Append(s, std::strlen(s)); }
  void AppendDecimal(long long value) {
    char digits[24];
    std::size_t n = 0;
    unsigned long long v = value < 0
                               ? 0ULL - static_cast<unsigned long long>(value)
                               : static_cast<unsigned long long>(value);
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && n < sizeof(digits));
    if (value < 0) Append("-", 1);
    while (n > 0) Append(&digits[--n], 1);
  }
  void AppendHex32(std::uint32_t value) {
    static constexpr char kHex[] = "0123456789abcdef";
    Append("0x", 2);
    for (int shift = 28; shift >= 0; shift -= 4) {
      Append(&kHex[(value >> shift) & 0xf], 1);
    }
  }
};

const char* ArchName(std::uint32_t arch) {
  switch (arch) {
    case AUDIT_ARCH_X86_64:
      return "x86_64";
    case AUDIT_ARCH_I386:
      return "x86";
    case AUDIT_ARCH_AARCH64:
      return "aarch64";
    case AUDIT_ARCH_ARM:
      return "arm";
    case AUDIT_ARCH_RISCV64:
      return "riscv64";
    default:
      return nullptr;
  }
}

// Ends the process by SIGSYS. In enforce mode the first syscall is the kill
// (the filter's rt_sigaction(SIGSYS) rule); the rest only runs without that
// rule (complain mode, or a SIGSYS sent by someone else before any filter).
[[noreturn]] void DieBySigsys() {
  std::uint64_t default_action[4] = {};  // kernel sigaction: SIG_DFL, no flags
  syscall(SYS_rt_sigaction, SIGSYS, default_action, nullptr, 8);
  syscall(SYS_tgkill, getpid(), gettid(), SIGSYS);  // pending: SIGSYS is
  std::uint64_t sigsys_bit = 1ULL << (SIGSYS - 1);  // blocked in the handler
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &sigsys_bit, nullptr, 8);
  _exit(128 + SIGSYS);
}

void HandleSigsys(int /*signo*/, siginfo_t* info, void* /*context*/) {
  if (info != nullptr && info->si_code == kSysSeccomp) {
    LineBuffer line;
    line.Append(g_prefix, g_prefix_len);
    const int nr = info->si_syscall;
    const char* name = "unknown";
    if (nr >= 0 && nr <= kMaxNamedSyscall && g_syscall_names[nr][0] != '\0') {
      name = g_syscall_names[nr];
    }
    line.Append(name);
    line.Append(" nr=");
    line.AppendDecimal(nr);
    line.Append(" arch=");
    const auto arch = static_cast<std::uint32_t>(info->si_arch);
    if (const char* arch_name = ArchName(arch); arch_name != nullptr) {
      line.Append(arch_name);
    } else {
      line.AppendHex32(arch);
    }
    // cause=arguments: the policy lists the syscall, but not for these
    // arguments (socket(AF_INET) under "socket: arg0 == AF_UNIX").
    const bool listed =
        nr >= 0 && nr <= kMaxNamedSyscall && g_syscall_listed[nr];
    line.Append(listed ? " cause=arguments" : " cause=not-listed");
    line.Append(" action=kill\n");
    for (int fd : {static_cast<int>(STDERR_FILENO), g_record_fd}) {
      if (fd < 0) continue;
      std::size_t done = 0;
      while (done < line.len) {
        ssize_t n = write(fd, line.data + done, line.len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
    }
  }
  DieBySigsys();
}

bool ReporterIsCurrentHandler() {
  if (!g_reporter_installed.load(std::memory_order_acquire)) return false;
  struct sigaction current {};
  if (sigaction(SIGSYS, nullptr, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 &&
         current.sa_sigaction == &HandleSigsys;
}

// ---------------------------------------------------------------------------
// Building the filter.

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterContext = std::unique_ptr<void, FilterDeleter>;

std::string Where(const SeccompPolicy& policy, const SeccompSyscallRule& rule) {
  return absl::StrCat(policy.source != nullptr ? policy.source : "(policy)",
                      ":", rule.line, " (",
                      rule.name != nullptr ? rule.name : "?", ")");
}

std::string ErrnoName(int rc) {
  const char* name = strerrorname_np(rc < 0 ? -rc : rc);
  return name != nullptr ? name : absl::StrCat("errno ", rc);
}

scmp_compare ToLibseccomp(SeccompCompareOp op) {
  switch (op) {
    case SeccompCompareOp::kEq:
      return SCMP_CMP_EQ;
    case SeccompCompareOp::kNe:
      return SCMP_CMP_NE;
    case SeccompCompareOp::kLt:
      return SCMP_CMP_LT;
    case SeccompCompareOp::kLe:
      return SCMP_CMP_LE;
    case SeccompCompareOp::kGt:
      return SCMP_CMP_GT;
    case SeccompCompareOp::kGe:
      return SCMP_CMP_GE;
    case SeccompCompareOp::kMaskedEq:
      return SCMP_CMP_MASKED_EQ;
  }
  return _SCMP_CMP_MIN;  // invalid; refused by ValidateRule first
}

// libseccomp's SCMP_A0() macros are C compound literals; spelled out here.
scmp_arg_cmp Compare(unsigned int arg, scmp_compare op, std::uint64_t a,
                     std::uint64_t b = 0) {
  scmp_arg_cmp out{};
  out.arg = arg;
  out.op = op;
  out.datum_a = a;
  out.datum_b = b;
  return out;
}

// The comparison that holds exactly when `op` does not (not kMaskedEq).
scmp_compare Complement(SeccompCompareOp op) {
  switch (op) {
    case SeccompCompareOp::kEq:
      return SCMP_CMP_NE;
    case SeccompCompareOp::kNe:
      return SCMP_CMP_EQ;
    case SeccompCompareOp::kLt:
      return SCMP_CMP_GE;
    case SeccompCompareOp::kLe:
      return SCMP_CMP_GT;
    case SeccompCompareOp::kGt:
      return SCMP_CMP_LE;
    case SeccompCompareOp::kGe:
      return SCMP_CMP_LT;
    case SeccompCompareOp::kMaskedEq:
      break;
  }
  return _SCMP_CMP_MIN;  // refused by ValidateRule first
}

scmp_arg_cmp ToLibseccomp(const SeccompComparison& cmp) {
  if (cmp.op == SeccompCompareOp::kMaskedEq) {
    return Compare(cmp.arg, SCMP_CMP_MASKED_EQ, cmp.mask, cmp.value);
  }
  return Compare(cmp.arg, ToLibseccomp(cmp.op), cmp.value);
}

bool ValidOp(SeccompCompareOp op) {
  switch (op) {
    case SeccompCompareOp::kEq:
    case SeccompCompareOp::kNe:
    case SeccompCompareOp::kLt:
    case SeccompCompareOp::kLe:
    case SeccompCompareOp::kGt:
    case SeccompCompareOp::kGe:
    case SeccompCompareOp::kMaskedEq:
      return true;
  }
  return false;
}

// Structural checks the policy compiler already made; repeated here because
// a policy can also be written by hand (tests) and the loader trusts nothing.
absl::Status ValidateRule(const SeccompPolicy& policy,
                          const SeccompSyscallRule& rule) {
  if (rule.name == nullptr || rule.name[0] == '\0') {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(policy, rule), ": rule without a syscall name"));
  }
  const int native = seccomp_syscall_resolve_name(rule.name);
  if (native < 0 || native != rule.number) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(policy, rule), ": the policy says syscall number ", rule.number,
        " but this architecture has ",
        native < 0 ? std::string("no such syscall") : absl::StrCat(native),
        " (policy compiled for another architecture?)"));
  }
  if (rule.action == SeccompRuleAction::kErrno) {
    if (rule.errno_value <= 0 || rule.errno_value > 4095) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(policy, rule), ": errno ", rule.errno_value, " out of range"));
    }
    if (rule.number == SCMP_SYS(write) ||
        rule.number == SCMP_SYS(rt_sigaction)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(policy, rule),
          ": the errno action is not allowed here: the sandbox needs write "
          "for violation reports and rt_sigaction for its SIGSYS kill rule"));
    }
  } else if (rule.action != SeccompRuleAction::kAllow) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(policy, rule), ": unknown action"));
  }
  if (rule.otherwise_errno != 0) {
    if (rule.otherwise_errno < 0 || rule.otherwise_errno > 4095) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(policy, rule), ": else errno ",
                       rule.otherwise_errno, " out of range"));
    }
    if (rule.action != SeccompRuleAction::kAllow || rule.any_of.size() != 1 ||
        rule.any_of[0].all_of.size() != 1 ||
        rule.any_of[0].all_of[0].op == SeccompCompareOp::kMaskedEq ||
        rule.number == SCMP_SYS(write) ||
        rule.number == SCMP_SYS(rt_sigaction)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(policy, rule),
          ": 'else errno' needs an allow rule of one unmasked comparison "
          "(not on write or rt_sigaction)"));
    }
  }
  int alternative = 0;
  for (const SeccompAlternative& alt : rule.any_of) {
    ++alternative;
    if (alt.all_of.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(policy, rule), ": alternative ", alternative,
                       " has no comparison"));
    }
    std::array<bool, 6> seen{};
    for (const SeccompComparison& cmp : alt.all_of) {
      if (cmp.arg > 5 || !ValidOp(cmp.op)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(policy, rule), ": alternative ", alternative,
                         ": bad comparison (argument ", cmp.arg, ")"));
      }
      if (seen[cmp.arg]) {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(policy, rule), ": alternative ", alternative, ": arg",
            cmp.arg,
            " compared twice (libseccomp allows one comparison per "
            "argument in a rule)"));
      }
      seen[cmp.arg] = true;
      if (cmp.op == SeccompCompareOp::kMaskedEq &&
          (cmp.value & ~cmp.mask) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(policy, rule), ": alternative ", alternative,
                         ": arg", cmp.arg, " & ", absl::Hex(cmp.mask),
                         " can never equal ", absl::Hex(cmp.value)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status AddRule(scmp_filter_ctx ctx, const SeccompPolicy& policy,
                     const SeccompSyscallRule& rule, std::uint32_t action,
                     const std::vector<scmp_arg_cmp>& cmps,
                     absl::string_view what) {
  int rc = seccomp_rule_add_exact_array(ctx, action, rule.number,
                                        static_cast<unsigned int>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat(Where(policy, rule), ", ", what,
                     ": libseccomp refused the rule: ", ErrnoName(rc)));
  }
  return absl::OkStatus();
}

// Adds one policy rule: one libseccomp rule per alternative (libseccomp ORs
// the rules of a syscall that share an action).
absl::Status AddPolicyRule(scmp_filter_ctx ctx, const SeccompPolicy& policy,
                           const SeccompSyscallRule& rule) {
  const std::uint32_t action =
      rule.action == SeccompRuleAction::kErrno
          ? SCMP_ACT_ERRNO(static_cast<std::uint16_t>(rule.errno_value))
          : SCMP_ACT_ALLOW;
  const bool is_rt_sigaction = rule.number == SCMP_SYS(rt_sigaction);

  // Unconditional: one alternative without comparisons.
  std::vector<std::vector<scmp_arg_cmp>> alternatives;
  if (rule.any_of.empty()) alternatives.emplace_back();
  for (const SeccompAlternative& alt : rule.any_of) {
    std::vector<scmp_arg_cmp>& cmps = alternatives.emplace_back();
    for (const SeccompComparison& cmp : alt.all_of) {
      cmps.push_back(ToLibseccomp(cmp));
    }
  }

  if (rule.otherwise_errno != 0) {
    // ValidateRule: one alternative, one unmasked comparison. The two rules
    // are disjoint, so libseccomp's (undefined) order between actions of
    // overlapping rules never matters.
    const SeccompComparison& cmp = rule.any_of[0].all_of[0];
    if (absl::Status s = AddRule(
            ctx, policy, rule,
            SCMP_ACT_ERRNO(static_cast<std::uint16_t>(rule.otherwise_errno)),
            {Compare(cmp.arg, Complement(cmp.op), cmp.value)}, "else errno");
        !s.ok()) {
      return s;
    }
  }

  int index = 0;
  for (std::vector<scmp_arg_cmp>& cmps : alternatives) {
    ++index;
    const std::string what = absl::StrCat("alternative ", index);
    if (!is_rt_sigaction) {
      if (absl::Status s = AddRule(ctx, policy, rule, action, cmps, what);
          !s.ok()) {
        return s;
      }
      continue;
    }
    // rt_sigaction: keep every allowed alternative away from SIGSYS.
    const SeccompAlternative* original =
        rule.any_of.empty() ? nullptr : &rule.any_of[index - 1];
    bool looks_at_arg0 = false;
    if (original != nullptr) {
      for (const SeccompComparison& cmp : original->all_of) {
        looks_at_arg0 = looks_at_arg0 || cmp.arg == 0;
      }
    }
    if (looks_at_arg0) {
      if (SeccompAlternativeMayMatchInt(*original, 0, SIGSYS)) {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(policy, rule), ", ", what,
            ": the condition on arg0 may match SIGSYS; the sandbox reserves "
            "rt_sigaction(SIGSYS) (use arg0 == <signal> for each signal)"));
      }
      if (absl::Status s = AddRule(ctx, policy, rule, action, cmps, what);
          !s.ok()) {
        return s;
      }
      continue;
    }
    const scmp_arg_cmp below = Compare(0, SCMP_CMP_LE, SIGSYS - 1);  // 0..30
    const scmp_arg_cmp above =
        Compare(0, SCMP_CMP_MASKED_EQ, ~0x1fULL, 0x20);  // 32..63
    const scmp_arg_cmp last = Compare(0, SCMP_CMP_EQ, kSeccompMaxSignal);
    for (const scmp_arg_cmp& range : {below, above, last}) {
      std::vector<scmp_arg_cmp> split = cmps;
      split.push_back(range);
      if (absl::Status s = AddRule(ctx, policy, rule, action, split,
                                   absl::StrCat(what, " (without SIGSYS)"));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FilterContext> BuildFilter(const SeccompPolicy& policy,
                                          SeccompMode mode) {
  if (policy.source == nullptr || policy.daemon == nullptr) {
    return absl::InvalidArgumentError("seccomp policy without daemon/source");
  }
  std::set<int> numbers;
  for (const SeccompSyscallRule& rule : policy.rules) {
    if (absl::Status s = ValidateRule(policy, rule); !s.ok()) return s;
    if (!numbers.insert(rule.number).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(policy, rule), ": syscall listed twice"));
    }
  }

  FilterContext ctx(seccomp_init(mode == SeccompMode::kEnforce ? SCMP_ACT_TRAP
                                                               : SCMP_ACT_LOG));
  if (ctx == nullptr) {
    return absl::InternalError("seccomp_init failed");
  }
  // seccomp_init() adds the native architecture and nothing else; any other
  // ABI (x86 int 0x80, x32) is a bad architecture: kill the process.
  struct Attribute {
    scmp_filter_attr attr;
    std::uint32_t value;
    const char* name;
  };
  const Attribute attributes[] = {
      {SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "ACT_BADARCH"},
      // The confinement sequence sets NO_NEW_PRIVS itself, earlier.
      {SCMP_FLTATR_CTL_NNP, 0, "CTL_NNP"},
      // All threads, or none: gRPC's threads exist before the filter.
      {SCMP_FLTATR_CTL_TSYNC, 1, "CTL_TSYNC"},
  };
  for (const Attribute& a : attributes) {
    if (int rc = seccomp_attr_set(ctx.get(), a.attr, a.value); rc != 0) {
      return absl::InternalError(
          absl::StrCat("seccomp_attr_set(", a.name, "): ", ErrnoName(rc)));
    }
  }

  for (const SeccompSyscallRule& rule : policy.rules) {
    if (absl::Status s = AddPolicyRule(ctx.get(), policy, rule); !s.ok()) {
      return s;
    }
  }

  // Implicit rules (seccomp_filter.h). write(2, ...) for the violation line:
  // a conditional allow next to the policy's own write rule (if any) widens
  // nothing the policy did not already allow but fd 2.
  if (int rc =
          seccomp_rule_add_exact(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
                                 Compare(0, SCMP_CMP_EQ, STDERR_FILENO));
      rc != 0) {
    return absl::InternalError(absl::StrCat(
        "implicit rule write(2): libseccomp refused it: ", ErrnoName(rc)));
  }
  // And write() on the violation record's descriptor, for the same line.
  if (g_record_fd >= 0 && g_record_fd != STDERR_FILENO) {
    if (int rc = seccomp_rule_add_exact(
            ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
            Compare(0, SCMP_CMP_EQ, static_cast<std::uint64_t>(g_record_fd)));
        rc != 0) {
      return absl::InternalError(
          absl::StrCat("implicit rule write(record): libseccomp refused it: ",
                       ErrnoName(rc)));
    }
  }
  if (mode == SeccompMode::kEnforce) {
    // The int signal number is compared on its low 32 bits, as the kernel
    // reads it: 0x1_0000001f is SIGSYS too.
    if (int rc = seccomp_rule_add_exact(
            ctx.get(), SCMP_ACT_KILL_PROCESS, SCMP_SYS(rt_sigaction), 1,
            Compare(0, SCMP_CMP_MASKED_EQ, kLow32, SIGSYS));
        rc != 0) {
      return absl::InternalError(
          absl::StrCat("implicit rule rt_sigaction(SIGSYS): libseccomp "
                       "refused it: ",
                       ErrnoName(rc)));
    }
  }
  return ctx;
}

}  // namespace

const char* SeccompModeName(SeccompMode mode) {
  switch (mode) {
    case SeccompMode::kEnforce:
      return "enforce";
    case SeccompMode::kComplain:
      return "complain";
  }
  return "enforce";
}

absl::StatusOr<SeccompMode> ParseSeccompMode(absl::string_view text) {
  if (text == "enforce") return SeccompMode::kEnforce;
  if (text == "complain") return SeccompMode::kComplain;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown seccomp mode '", text, "' (expected enforce or complain)"));
}

void InstallViolationReporter(const SeccompPolicy& policy,
                              absl::string_view daemon, int record_fd) {
  g_record_fd = record_fd;
  std::string safe_daemon;
  for (char c : daemon.substr(0, 64)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    safe_daemon.push_back(ok ? c : '_');
  }
  if (safe_daemon.empty()) safe_daemon = "unknown";
  const std::string prefix =
      absl::StrCat("level=error daemon=", safe_daemon,
                   " msg=\"sandbox violation\" syscall=");
  static_assert(sizeof(g_prefix) > 64 + 64);
  std::memcpy(g_prefix, prefix.data(), prefix.size());
  g_prefix_len = prefix.size();

  // Names for every syscall number the handler may see (libseccomp's
  // resolver allocates, so it cannot run in the handler).
  for (int nr = 0; nr <= kMaxNamedSyscall; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    g_syscall_names[nr][0] = '\0';
    if (name != nullptr) {
      std::strncpy(g_syscall_names[nr], name, kNameSize - 1);
      g_syscall_names[nr][kNameSize - 1] = '\0';
      std::free(name);
    }
    g_syscall_listed[nr] = false;
  }
  for (const SeccompSyscallRule& rule : policy.rules) {
    if (rule.number >= 0 && rule.number <= kMaxNamedSyscall) {
      g_syscall_listed[rule.number] = true;
    }
  }
  struct sigaction action {};
  action.sa_sigaction = &HandleSigsys;
  action.sa_flags = SA_SIGINFO;
  sigfillset(&action.sa_mask);  // nothing interleaves with the report
  if (sigaction(SIGSYS, &action, nullptr) == 0) {
    g_reporter_installed.store(true, std::memory_order_release);
  }
}

absl::Status LoadSeccompFilter(const SeccompPolicy& policy, SeccompMode mode) {
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return absl::FailedPreconditionError(
        "seccomp: PR_SET_NO_NEW_PRIVS is not set; the confinement sequence "
        "sets it before loading the filter");
  }
  if (mode == SeccompMode::kEnforce && !ReporterIsCurrentHandler()) {
    return absl::FailedPreconditionError(
        "seccomp: the violation reporter is not the SIGSYS handler; call "
        "InstallViolationReporter() before LoadSeccompFilter()");
  }
  absl::StatusOr<FilterContext> ctx = BuildFilter(policy, mode);
  if (!ctx.ok()) return ctx.status();
  if (int rc = seccomp_load(ctx->get()); rc != 0) {
    return absl::InternalError(absl::StrCat(
        "seccomp_load of ", policy.source, " (", SeccompModeName(mode),
        "): ", ErrnoName(rc),
        rc == -ESRCH ? " (a thread could not be synchronised)" : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExportSeccompFilterPfc(const SeccompPolicy& policy,
                                                   SeccompMode mode) {
  absl::StatusOr<FilterContext> ctx = BuildFilter(policy, mode);
  if (!ctx.ok()) return ctx.status();
  const int fd = memfd_create("rustiq-seccomp-pfc", MFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("memfd_create: ", ErrnoName(errno)));
  }
  std::string text;
  int rc = seccomp_export_pfc(ctx->get(), fd);
  if (rc == 0 && lseek(fd, 0, SEEK_SET) == 0) {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("seccomp_export_pfc: ", ErrnoName(rc)));
  }
  return text;
}

}  // namespace rustiq::sandbox
