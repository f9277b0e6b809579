// The seccomp filter loader (common/sandbox/seccomp_filter.h), for real: each
// test forks a child that sets NO_NEW_PRIVS, loads a filter and makes one
// allowed or forbidden call; the parent asserts exactly how the child ended
// and what it wrote on stderr. Most tests use tests/policies/good/
// filter_test.policy, compiled by rustiq-policyc like a daemon's policy.
#include "common/sandbox/seccomp_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/filtertest/seccomp_policy.h"
#include "policies/testserver/seccomp_policy.h"

namespace rustiq::sandbox {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Exit codes of a child that did not end the way a test wanted.
constexpr int kLoadFailed = 90;
constexpr int kUnexpected = 91;

struct ChildOutcome {
  int status = 0;
  std::string stderr_text;

  bool KilledBySigsys() const {
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
  }
  bool ExitedWith(int code) const {
    return WIFEXITED(status) && WEXITSTATUS(status) == code;
  }
};

std::ostream& operator<<(std::ostream& out, const ChildOutcome& outcome) {
  if (WIFEXITED(outcome.status)) {
    out << "exited " << WEXITSTATUS(outcome.status);
  } else if (WIFSIGNALED(outcome.status)) {
    out << "killed by signal " << WTERMSIG(outcome.status);
  }
  return out << ", stderr: [" << outcome.stderr_text << "]";
}

// Writes to the child's stderr without the C++ library: after the filter,
// write(2, ...) is about all a child may do.
void Say(absl::string_view text) {
  ssize_t ignored = write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

// Runs `body` in a forked child whose stderr the parent collects. The child
// dumps no core (it dies by SIGSYS on purpose) and exits 0 if body returns.
ChildOutcome RunInChild(const std::function<void()>& body) {
  ChildOutcome outcome;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return outcome;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    body();
    _exit(0);
  }
  close(fds[1]);
  char buffer[1024];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    outcome.stderr_text.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  waitpid(pid, &outcome.status, 0);
  return outcome;
}

void SetNoNewPrivs() { prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }

// In the child: the confinement sequence's last step, or exit kLoadFailed.
void Confine(const SeccompPolicy& policy, SeccompMode mode) {
  SetNoNewPrivs();
  InstallViolationReporter(policy, "filtertest");
  absl::Status status = LoadSeccompFilter(policy, mode);
  if (!status.ok()) {
    Say(status.ToString());
    _exit(kLoadFailed);
  }
}

const SeccompPolicy& TestPolicy() {
  return policies::FiltertestSeccompPolicy();
}

// The report line of a violation, exactly.
std::string ReportLine(absl::string_view syscall, long nr,
                       absl::string_view cause) {
  return absl::StrCat(
      "level=error daemon=filtertest msg=\"sandbox violation\" syscall=",
      syscall, " nr=", nr, " arch=x86_64 cause=", cause, " action=kill");
}

#if defined(__x86_64__)
constexpr bool kX86_64 = true;
#else
constexpr bool kX86_64 = false;
#endif

TEST(SeccompFilter, AllowedCallSucceeds) {
  ChildOutcome child = RunInChild([] {
    const pid_t before = getpid();
    Confine(TestPolicy(), SeccompMode::kEnforce);
    if (syscall(SYS_getpid) != before) _exit(kUnexpected);
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
  EXPECT_EQ(child.stderr_text, "");
}

TEST(SeccompFilter, UnlistedCallIsReportedByNameThenKillsBySigsys) {
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    syscall(SYS_getppid);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(child.KilledBySigsys()) << child;
  if (kX86_64) {
    EXPECT_EQ(child.stderr_text,
              ReportLine("getppid", SYS_getppid, "not-listed") + "\n");
  } else {
    EXPECT_THAT(child.stderr_text, HasSubstr("syscall=getppid"));
  }
}

TEST(SeccompFilter, SocketOutsideItsConditionKills) {
  ChildOutcome unix_socket = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    if (socket(AF_UNIX, SOCK_STREAM, 0) < 0) _exit(kUnexpected);
  });
  EXPECT_TRUE(unix_socket.ExitedWith(0)) << unix_socket;

  ChildOutcome inet_socket = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    socket(AF_INET, SOCK_STREAM, 0);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(inet_socket.KilledBySigsys()) << inet_socket;
  EXPECT_THAT(inet_socket.stderr_text,
              HasSubstr(ReportLine("socket", SYS_socket, "arguments")));
}

TEST(SeccompFilter, WritableAndExecutableMappingKills) {
  ChildOutcome allowed = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    for (int prot : {PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC}) {
      void* p = mmap(nullptr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) _exit(kUnexpected);
    }
  });
  EXPECT_TRUE(allowed.ExitedWith(0)) << allowed;

  ChildOutcome wx = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(wx.KilledBySigsys()) << wx;
  EXPECT_THAT(wx.stderr_text,
              HasSubstr(ReportLine("mmap", SYS_mmap, "arguments")));
}

TEST(SeccompFilter, ErrnoActionFailsTheCallWithoutRunningIt) {
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    std::uint64_t clone_args[11] = {CLONE_NEWUSER};  // struct clone_args
    if (syscall(SYS_clone3, clone_args, sizeof(clone_args)) != -1 ||
        errno != ENOSYS) {
      _exit(kUnexpected);
    }
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
}

TEST(SeccompFilter, ElseErrnoFailsOtherArgumentsWithoutKilling) {
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) _exit(kUnexpected);
    if (socketpair(AF_INET, SOCK_STREAM, 0, fds) != -1 ||
        errno != EAFNOSUPPORT) {
      _exit(kUnexpected + 1);
    }
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
}

TEST(SeccompFilter, ThreadsStartThroughTheCloneFallback) {
  // glibc 2.36 tries clone3 (ENOSYS here), then clone with thread flags,
  // which the policy checks.
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    std::atomic<int> ran{0};
    std::thread thread([&ran] { ran = 1; });
    thread.join();
    if (ran != 1) _exit(kUnexpected);
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
}

TEST(SeccompFilter, ForkAndNamespacesAreRefusedByTheCloneCondition) {
  ChildOutcome fork_child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    fork();  // glibc calls clone(SIGCHLD | ...): not a thread
    _exit(kUnexpected);
  });
  EXPECT_TRUE(fork_child.KilledBySigsys()) << fork_child;
  EXPECT_THAT(fork_child.stderr_text,
              HasSubstr(ReportLine("clone", SYS_clone, "arguments")));

  ChildOutcome namespace_child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    // Thread flags plus a new network namespace (the kernel would refuse
    // the combination too; the filter must not even let it through).
    syscall(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_NEWNET,
            nullptr, nullptr, nullptr, 0);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(namespace_child.KilledBySigsys()) << namespace_child;
  EXPECT_THAT(namespace_child.stderr_text, HasSubstr("syscall=clone "));
}

TEST(SeccompFilter, RtSigactionFollowsThePolicyButSigsysIsTheKill) {
  ChildOutcome other_signal = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    for (int sig : {SIGUSR1, SIGHUP, SIGTERM, SIGRTMAX}) {
      if (sigaction(sig, &ignore, nullptr) != 0) _exit(kUnexpected);
    }
  });
  EXPECT_TRUE(other_signal.ExitedWith(0)) << other_signal;

  // Replacing the SIGSYS handler is the kill itself: no report, no survival.
  ChildOutcome sigsys = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGSYS, &ignore, nullptr);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(sigsys.KilledBySigsys()) << sigsys;
  EXPECT_THAT(sigsys.stderr_text, Not(HasSubstr("sandbox violation")));

  // The kernel reads the signal number from the low 32 bits only.
  ChildOutcome high_bits = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    std::uint64_t kernel_sigaction[4] = {1 /* SIG_IGN */, 0, 0, 0};
    syscall(SYS_rt_sigaction, 0x100000000L | SIGSYS, kernel_sigaction, nullptr,
            8);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(high_bits.KilledBySigsys()) << high_bits;
}

TEST(SeccompFilter, BlockedSigsysStillKillsBySigsys) {
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    sigset_t sigsys;
    sigemptyset(&sigsys);
    sigaddset(&sigsys, SIGSYS);
    if (sigprocmask(SIG_BLOCK, &sigsys, nullptr) != 0) _exit(kUnexpected);
    syscall(SYS_getppid);
    _exit(kUnexpected + 1);
  });
  EXPECT_TRUE(child.KilledBySigsys()) << child;
}

TEST(SeccompFilter, WritesToStderrAreAlwaysAllowedOthersAreNot) {
  // filter_test.policy has no write at all.
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    Say("still here\n");
    ssize_t ignored = write(STDOUT_FILENO, "x", 1);
    (void)ignored;
    _exit(kUnexpected);
  });
  EXPECT_TRUE(child.KilledBySigsys()) << child;
  EXPECT_THAT(child.stderr_text, HasSubstr("still here\n"));
  EXPECT_THAT(child.stderr_text, HasSubstr("syscall=write "));
}

TEST(SeccompFilter, AppliesToThreadsStartedBeforeTheFilter) {
  ChildOutcome child = RunInChild([] {
    std::atomic<bool> go{false};
    std::thread early([&go] {
      while (!go.load()) {
      }
      syscall(SYS_getppid);
    });
    Confine(TestPolicy(), SeccompMode::kEnforce);
    go = true;
    early.join();
    _exit(kUnexpected);
  });
  EXPECT_TRUE(child.KilledBySigsys()) << child;
  EXPECT_THAT(child.stderr_text, HasSubstr("syscall=getppid "));
}

TEST(SeccompFilter, OtherArchitecturesAreKilled) {
  if (!kX86_64) GTEST_SKIP() << "x32 is an x86_64 ABI";
  ChildOutcome child = RunInChild([] {
    Confine(TestPolicy(), SeccompMode::kEnforce);
    syscall(0x40000000L | SYS_getpid);  // the x32 ABI's getpid
    _exit(kUnexpected);
  });
  EXPECT_TRUE(child.KilledBySigsys()) << child;
  // Killed by the filter's bad-architecture action, before any rule.
  EXPECT_THAT(child.stderr_text, Not(HasSubstr("sandbox violation")));
}

TEST(SeccompFilter, ComplainModeLetsForbiddenCallsRun) {
  ChildOutcome child = RunInChild([] {
    const pid_t parent = getppid();
    Confine(TestPolicy(), SeccompMode::kComplain);
    if (syscall(SYS_getppid) != parent) _exit(kUnexpected);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) _exit(kUnexpected + 1);
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(kUnexpected + 2);
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
  EXPECT_EQ(child.stderr_text, "");
}

TEST(SeccompFilter, RefusesToLoadWithoutNoNewPrivs) {
  ChildOutcome child = RunInChild([] {
    InstallViolationReporter(TestPolicy(), "filtertest");
    absl::Status status =
        LoadSeccompFilter(TestPolicy(), SeccompMode::kEnforce);
    Say(status.ToString());
    _exit(status.code() == absl::StatusCode::kFailedPrecondition ? 0
                                                                 : kUnexpected);
  });
  EXPECT_TRUE(child.ExitedWith(0)) << child;
  EXPECT_THAT(child.stderr_text, HasSubstr("PR_SET_NO_NEW_PRIVS is not set"));
}

TEST(SeccompFilter, EnforceNeedsTheViolationReporter) {
  ChildOutcome missing = RunInChild([] {
    SetNoNewPrivs();
    absl::Status status =
        LoadSeccompFilter(TestPolicy(), SeccompMode::kEnforce);
    Say(status.ToString());
    _exit(status.code() == absl::StatusCode::kFailedPrecondition ? 0
                                                                 : kUnexpected);
  });
  EXPECT_TRUE(missing.ExitedWith(0)) << missing;
  EXPECT_THAT(missing.stderr_text, HasSubstr("InstallViolationReporter"));

  ChildOutcome replaced = RunInChild([] {
    SetNoNewPrivs();
    InstallViolationReporter(TestPolicy(), "filtertest");
    signal(SIGSYS, SIG_DFL);
    absl::Status status =
        LoadSeccompFilter(TestPolicy(), SeccompMode::kEnforce);
    _exit(status.code() == absl::StatusCode::kFailedPrecondition ? 0
                                                                 : kUnexpected);
  });
  EXPECT_TRUE(replaced.ExitedWith(0)) << replaced;
}

TEST(SeccompFilter, ExportsTheNativeArchitectureOnly) {
  absl::StatusOr<std::string> pfc =
      ExportSeccompFilterPfc(TestPolicy(), SeccompMode::kEnforce);
  ASSERT_TRUE(pfc.ok()) << pfc.status();
  int arches = 0;
  for (absl::string_view line : absl::StrSplit(*pfc, '\n')) {
    if (absl::StartsWith(line, "# filter for arch ")) ++arches;
  }
  EXPECT_EQ(arches, 1) << *pfc;
  if (kX86_64) {
    EXPECT_THAT(*pfc, HasSubstr("# filter for arch x86_64"));
  }
  EXPECT_THAT(*pfc, HasSubstr("# invalid architecture action\naction "
                              "KILL_PROCESS;"));
  EXPECT_THAT(*pfc, HasSubstr("# default action\n  action TRAP;"));
  EXPECT_THAT(*pfc, HasSubstr("action KILL_PROCESS;\n"));  // rt_sigaction
  absl::StatusOr<std::string> complain =
      ExportSeccompFilterPfc(TestPolicy(), SeccompMode::kComplain);
  ASSERT_TRUE(complain.ok()) << complain.status();
  EXPECT_THAT(*complain, HasSubstr("# default action\n  action LOG;"));
}

// The testserver's real policy (policies/testserver/seccomp.policy): it loads,
// threads still start, network sockets fail softly, new code is a kill.
TEST(TestserverPolicy, LoadsAndKeepsItsPromises) {
  const SeccompPolicy& policy = policies::TestserverSeccompPolicy();
  EXPECT_STREQ(policy.source, "policies/testserver/seccomp.policy");
  for (SeccompMode mode : {SeccompMode::kEnforce, SeccompMode::kComplain}) {
    absl::StatusOr<std::string> pfc = ExportSeccompFilterPfc(policy, mode);
    EXPECT_TRUE(pfc.ok()) << pfc.status();
  }

  ChildOutcome works = RunInChild([&policy] {
    Confine(policy, SeccompMode::kEnforce);
    std::atomic<int> ran{0};
    std::thread thread([&ran] { ran = 1; });
    thread.join();
    if (ran != 1) _exit(kUnexpected);
    const int unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (unix_fd < 0) _exit(kUnexpected + 1);
    close(unix_fd);
    // gRPC's SO_REUSEPORT probe: refused, not killed.
    if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EAFNOSUPPORT) {
      _exit(kUnexpected + 2);
    }
  });
  EXPECT_TRUE(works.ExitedWith(0)) << works;

  ChildOutcome exec_mapping = RunInChild([&policy] {
    Confine(policy, SeccompMode::kEnforce);
    mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
         0);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(exec_mapping.KilledBySigsys()) << exec_mapping;
  EXPECT_THAT(exec_mapping.stderr_text,
              HasSubstr(ReportLine("mmap", SYS_mmap, "arguments")));

  ChildOutcome ptrace_child = RunInChild([&policy] {
    Confine(policy, SeccompMode::kEnforce);
    syscall(SYS_ptrace, 0, 0, 0, 0);
    _exit(kUnexpected);
  });
  EXPECT_TRUE(ptrace_child.KilledBySigsys()) << ptrace_child;
  EXPECT_THAT(ptrace_child.stderr_text,
              HasSubstr(ReportLine("ptrace", SYS_ptrace, "not-listed")));
}

// Hand-written policies the compiler would refuse: the loader refuses them
// too, naming file, line and syscall.
constexpr SeccompComparison kArg7[] = {{.arg = 7, .value = 1}};
constexpr SeccompComparison kNeverMatches[] = {
    {.arg = 2, .op = SeccompCompareOp::kMaskedEq, .value = 2, .mask = 1}};
constexpr SeccompComparison kArg0Twice[] = {
    {.arg = 0, .op = SeccompCompareOp::kGe, .value = 3},
    {.arg = 0, .op = SeccompCompareOp::kLe, .value = 9}};
constexpr SeccompComparison kNotSigterm[] = {
    {.arg = 0, .op = SeccompCompareOp::kNe, .value = SIGTERM}};
constexpr SeccompComparison kMasked[] = {
    {.arg = 0, .op = SeccompCompareOp::kMaskedEq, .value = 1, .mask = 1}};
constexpr SeccompAlternative kArg7Alt[] = {{kArg7}};
constexpr SeccompAlternative kNeverMatchesAlt[] = {{kNeverMatches}};
constexpr SeccompAlternative kArg0TwiceAlt[] = {{kArg0Twice}};
constexpr SeccompAlternative kNotSigtermAlt[] = {{kNotSigterm}};
constexpr SeccompAlternative kMaskedAlt[] = {{kMasked}};

struct BadRule {
  SeccompSyscallRule rule;
  const char* error;
};

TEST(SeccompFilter, RefusesMalformedPolicies) {
  const BadRule bad_rules[] = {
      {{.name = "getppid", .number = SYS_getpid, .line = 3},
       "policy says syscall number 39 but this architecture has 110"},
      {{.name = "nosuchcall", .number = 1000, .line = 3}, "no such syscall"},
      {{.name = "read", .number = SYS_read, .any_of = kArg7Alt, .line = 3},
       "bad comparison"},
      {{.name = "read",
        .number = SYS_read,
        .any_of = kNeverMatchesAlt,
        .line = 3},
       "can never equal"},
      {{.name = "read", .number = SYS_read, .any_of = kArg0TwiceAlt, .line = 3},
       "arg0 compared twice"},
      {{.name = "rt_sigaction",
        .number = SYS_rt_sigaction,
        .any_of = kNotSigtermAlt,
        .line = 3},
       "may match SIGSYS"},
      {{.name = "write",
        .number = SYS_write,
        .action = SeccompRuleAction::kErrno,
        .errno_value = EPERM,
        .line = 3},
       "errno action is not allowed here"},
      {{.name = "socket",
        .number = SYS_socket,
        .any_of = kMaskedAlt,
        .otherwise_errno = EPERM,
        .line = 3},
       "'else errno' needs"},
  };
  for (const BadRule& bad : bad_rules) {
    SCOPED_TRACE(bad.error);
    const SeccompSyscallRule rules[] = {bad.rule};
    const SeccompPolicy policy{
        .daemon = "t", .source = "policies/t/x.policy", .rules = rules};
    absl::StatusOr<std::string> pfc =
        ExportSeccompFilterPfc(policy, SeccompMode::kEnforce);
    ASSERT_FALSE(pfc.ok());
    EXPECT_EQ(pfc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pfc.status().message(), HasSubstr("policies/t/x.policy:3 ("));
    EXPECT_THAT(pfc.status().message(), HasSubstr(bad.error));
  }

  const SeccompSyscallRule twice[] = {
      {.name = "read", .number = SYS_read, .line = 1},
      {.name = "read", .number = SYS_read, .line = 2}};
  absl::StatusOr<std::string> pfc = ExportSeccompFilterPfc(
      {.daemon = "t", .source = "t.policy", .rules = twice},
      SeccompMode::kEnforce);
  EXPECT_THAT(pfc.status().message(), HasSubstr("t.policy:2 (read): syscall "
                                                "listed twice"));
}

TEST(SeccompFilter, ParsesModes) {
  EXPECT_EQ(ParseSeccompMode("enforce").value(), SeccompMode::kEnforce);
  EXPECT_EQ(ParseSeccompMode("complain").value(), SeccompMode::kComplain);
  EXPECT_FALSE(ParseSeccompMode("off").ok());
  EXPECT_STREQ(SeccompModeName(SeccompMode::kComplain), "complain");
}

}  // namespace
}  // namespace rustiq::sandbox
