// The seccomp policy compiler's parser and code generator (tools/policyc),
// driven without the CLI.
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/policyc/policy_codegen.h"
#include "tools/policyc/policy_parser.h"
#include "tools/policyc/policy_tables.h"

namespace rustiq::policyc {
namespace {

using sandbox::SeccompCompareOp;
using sandbox::SeccompRuleAction;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kFile[] = "policies/t/seccomp.policy";

// The error lines of a policy that must not parse.
std::vector<std::string> Errors(absl::string_view text) {
  absl::StatusOr<ParsedPolicy> policy = ParsePolicy(text, kFile);
  EXPECT_FALSE(policy.ok()) << "parsed: " << text;
  if (policy.ok()) return {};
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> lines =
      absl::StrSplit(policy.status().message(), '\n');
  for (const std::string& line : lines) {
    // Every error is "file:line: what is wrong" on one line.
    EXPECT_THAT(line, MatchesRegex("policies/t/seccomp\\.policy:[0-9]+: .+"));
  }
  return lines;
}

// The single error of a policy, which must be on `line`.
std::string ErrorAt(absl::string_view text, int line) {
  std::vector<std::string> errors = Errors(text);
  EXPECT_EQ(errors.size(), 1u) << absl::StrJoin(errors, "\n");
  if (errors.empty()) return "";
  const std::string prefix = absl::StrCat(kFile, ":", line, ": ");
  EXPECT_TRUE(absl::StartsWith(errors[0], prefix))
      << errors[0] << " (expected " << prefix << ")";
  return errors[0];
}

TEST(PolicyParser, ParsesAGoodPolicy) {
  absl::StatusOr<ParsedPolicy> policy = ParsePolicy(
      "# comment lines and blank lines are ignored\n"
      "\n"
      "read\n"
      "  write   # trailing comment\n"
      "socket: arg0 == AF_UNIX          # why: gRPC over Unix sockets only\n"
      "mmap: arg2 & PROT_EXEC == 0 || arg2 & PROT_WRITE == 0  # why: no W+X\n"
      "clone: arg0 & CLONE_NEWNS|CLONE_NEWUSER == 0  # why: threads only\n"
      "ioctl: arg1 == FIONBIO || arg1 == 0x5451 && arg0 <= 1023  # why: fds\n"
      "clone3: errno ENOSYS             # why: glibc falls back to clone\n"
      "socketpair: arg0 == AF_UNIX else errno EAFNOSUPPORT  # why: probe\n",
      kFile);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->file, kFile);
  ASSERT_EQ(policy->rules.size(), 8u);

  const ParsedRule& read = policy->rules[0];
  EXPECT_EQ(read.name, "read");
  EXPECT_EQ(read.number, SYS_read);
  EXPECT_EQ(read.line, 3);
  EXPECT_EQ(read.action, SeccompRuleAction::kAllow);
  EXPECT_TRUE(read.any_of.empty());
  EXPECT_EQ(policy->rules[1].line, 4);

  const ParsedRule& socket = policy->rules[2];
  EXPECT_EQ(socket.number, SYS_socket);
  EXPECT_EQ(socket.why, "gRPC over Unix sockets only");
  ASSERT_EQ(socket.any_of.size(), 1u);
  ASSERT_EQ(socket.any_of[0].all_of.size(), 1u);
  EXPECT_EQ(socket.any_of[0].all_of[0].arg, 0);
  EXPECT_EQ(socket.any_of[0].all_of[0].op, SeccompCompareOp::kEq);
  EXPECT_EQ(socket.any_of[0].all_of[0].value, static_cast<unsigned>(AF_UNIX));

  const ParsedRule& mmap = policy->rules[3];
  ASSERT_EQ(mmap.any_of.size(), 2u);
  EXPECT_EQ(mmap.any_of[0].all_of[0].op, SeccompCompareOp::kMaskedEq);
  EXPECT_EQ(mmap.any_of[0].all_of[0].arg, 2);
  EXPECT_EQ(mmap.any_of[0].all_of[0].mask, static_cast<unsigned>(PROT_EXEC));
  EXPECT_EQ(mmap.any_of[0].all_of[0].value, 0u);
  EXPECT_EQ(mmap.any_of[1].all_of[0].mask, static_cast<unsigned>(PROT_WRITE));

  const ParsedRule& clone = policy->rules[4];
  EXPECT_EQ(clone.any_of[0].all_of[0].mask,
            static_cast<unsigned>(CLONE_NEWNS | CLONE_NEWUSER));

  // "a || b && c": && binds tighter.
  const ParsedRule& ioctl = policy->rules[5];
  ASSERT_EQ(ioctl.any_of.size(), 2u);
  EXPECT_EQ(ioctl.any_of[0].all_of.size(), 1u);
  ASSERT_EQ(ioctl.any_of[1].all_of.size(), 2u);
  EXPECT_EQ(ioctl.any_of[1].all_of[0].value, 0x5451u);
  EXPECT_EQ(ioctl.any_of[1].all_of[1].arg, 0);
  EXPECT_EQ(ioctl.any_of[1].all_of[1].op, SeccompCompareOp::kLe);
  EXPECT_EQ(ioctl.any_of[1].all_of[1].value, 1023u);

  const ParsedRule& clone3 = policy->rules[6];
  EXPECT_EQ(clone3.action, SeccompRuleAction::kErrno);
  EXPECT_EQ(clone3.errno_value, ENOSYS);
  EXPECT_TRUE(clone3.any_of.empty());

  const ParsedRule& socketpair = policy->rules[7];
  EXPECT_EQ(socketpair.action, SeccompRuleAction::kAllow);
  EXPECT_EQ(socketpair.otherwise_errno, EAFNOSUPPORT);
  ASSERT_EQ(socketpair.any_of.size(), 1u);
}

TEST(PolicyParser, AcceptsCrlfLineEnds) {
  absl::StatusOr<ParsedPolicy> policy = ParsePolicy("read\r\nwrite\r\n", kFile);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->rules.size(), 2u);
}

TEST(PolicyParser, RejectsUnknownSyscall) {
  EXPECT_THAT(ErrorAt("read\nfoo_bar_baz\n", 2),
              HasSubstr("unknown syscall 'foo_bar_baz'"));
}

TEST(PolicyParser, RejectsSyscallOfAnotherArchitecture) {
  // libseccomp knows socketcall (x86, s390...), x86_64 has none.
  EXPECT_THAT(ErrorAt("socketcall\n", 1), HasSubstr("does not exist on"));
}

TEST(PolicyParser, RejectsBadArgumentIndex) {
  EXPECT_THAT(
      ErrorAt("read\nsocket: arg6 == AF_UNIX  # why: t\n", 2),
      HasSubstr("bad argument index 'arg6' (arguments are arg0..arg5)"));
  EXPECT_THAT(ErrorAt("socket: arg10 == 1  # why: t\n", 1),
              HasSubstr("bad argument index 'arg10'"));
  EXPECT_THAT(ErrorAt("socket: domain == 1  # why: t\n", 1),
              HasSubstr("expected an argument (arg0..arg5), got 'domain'"));
}

TEST(PolicyParser, RejectsBadOperator) {
  EXPECT_THAT(ErrorAt("socket: arg0 => AF_UNIX  # why: t\n", 1),
              HasSubstr("bad operator '=>'"));
  EXPECT_THAT(ErrorAt("socket: arg0 = AF_UNIX  # why: t\n", 1),
              HasSubstr("bad operator '='"));
  EXPECT_THAT(ErrorAt("mmap: arg2 & PROT_EXEC != 0  # why: t\n", 1),
              HasSubstr("a masked comparison is 'argN & MASK == VALUE'"));
}

TEST(PolicyParser, RejectsUnknownConstant) {
  EXPECT_THAT(ErrorAt("socket: arg0 == AF_BOGUS  # why: t\n", 1),
              HasSubstr("unknown constant 'AF_BOGUS'"));
  EXPECT_THAT(
      ErrorAt("clone: arg0 & CLONE_NEWNS|CLONE_NEWFOO == 0  # why: t\n", 1),
      HasSubstr("unknown constant 'CLONE_NEWFOO'"));
}

TEST(PolicyParser, RejectsGarbage) {
  EXPECT_THAT(ErrorAt("read: hello world\n", 1),
              HasSubstr("expected an argument (arg0..arg5), got 'hello'"));
  EXPECT_THAT(ErrorAt("read arg0 == 1\n", 1),
              HasSubstr("expected ':' or end of line after 'read'"));
  EXPECT_THAT(ErrorAt("read:\n", 1), HasSubstr("empty condition"));
  EXPECT_THAT(ErrorAt("read: arg0 ==\n", 1),
              HasSubstr("expected a number or a constant, got end of line"));
  EXPECT_THAT(ErrorAt("read: arg0 == 1 arg1 == 2\n", 1),
              HasSubstr("expected '||', '&&' or end of condition, got 'arg1'"));
  EXPECT_THAT(ErrorAt("read: arg0 == 1 ||\n", 1),
              HasSubstr("expected an argument"));
  EXPECT_THAT(ErrorAt("read: arg0 == $\n", 1),
              HasSubstr("unexpected character '$'"));
  EXPECT_THAT(ErrorAt("read: arg0 == -1\n", 1),
              HasSubstr("negative values are not supported"));
  EXPECT_THAT(ErrorAt("read: arg0 == 12ab\n", 1),
              HasSubstr("bad number '12ab'"));
  EXPECT_THAT(ErrorAt("read: arg0 == 010\n", 1),
              HasSubstr("octal is not supported"));
  EXPECT_THAT(ErrorAt("read: arg0 == 0x10000000000000000\n", 1),
              HasSubstr("larger than 64 bits"));
  EXPECT_THAT(ErrorAt("Read\n", 1), HasSubstr("lower case"));
  EXPECT_THAT(ErrorAt(": arg0 == 1\n", 1),
              HasSubstr("expected a syscall name"));
}

TEST(PolicyParser, RejectsConditionsLibseccompCannotExpress) {
  EXPECT_THAT(ErrorAt("read: arg0 >= 3 && arg0 <= 9\n", 1),
              HasSubstr("arg0 is compared twice in one alternative"));
  EXPECT_THAT(ErrorAt("mmap: arg2 & PROT_READ == PROT_WRITE  # why: t\n", 1),
              HasSubstr("can never hold"));
  EXPECT_THAT(ErrorAt("socket: arg0 == 1 || arg0 == 2 else errno EPERM  "
                      "# why: t\n",
                      1),
              HasSubstr("'else errno' needs a condition of one comparison"));
  EXPECT_THAT(ErrorAt("mmap: arg2 & PROT_EXEC == 0 else errno EPERM  "
                      "# why: t\n",
                      1),
              HasSubstr("'else errno' needs a condition of one comparison"));
}

TEST(PolicyParser, RejectsBadErrnoActions) {
  EXPECT_THAT(ErrorAt("clone3: errno EFOO  # why: t\n", 1),
              HasSubstr("unknown errno 'EFOO'"));
  EXPECT_THAT(ErrorAt("clone3: errno  # why: t\n", 1),
              HasSubstr("the errno action is 'errno NAME'"));
  EXPECT_THAT(ErrorAt("clone3: errno 5000  # why: t\n", 1),
              HasSubstr("out of range"));
  EXPECT_THAT(ErrorAt("socket: arg0 == 1 else EPERM  # why: t\n", 1),
              HasSubstr("'else' must be followed by 'errno NAME'"));
}

TEST(PolicyParser, KeepsTheSandboxesOwnRules) {
  // write(2) and rt_sigaction(SIGSYS) belong to the sandbox
  // (common/sandbox/seccomp_filter.h).
  EXPECT_THAT(ErrorAt("write: errno EPERM\n", 1),
              HasSubstr("errno action is not allowed here"));
  EXPECT_THAT(ErrorAt("rt_sigaction: arg0 != SIGTERM\n", 1),
              HasSubstr("may match SIGSYS"));
  EXPECT_THAT(ErrorAt("rt_sigaction: arg0 == SIGSYS\n", 1),
              HasSubstr("may match SIGSYS"));
  // The kernel reads the int signal number from the low 32 bits.
  EXPECT_THAT(ErrorAt("rt_sigaction: arg0 == 0x10000001f\n", 1),
              HasSubstr("may match SIGSYS"));
  EXPECT_THAT(ErrorAt("rt_sigaction: arg0 > 20\n", 1),
              HasSubstr("may match SIGSYS"));
  // Conditions that cannot match SIGSYS, or that leave arg0 to the sandbox.
  for (absl::string_view ok :
       {"rt_sigaction: arg0 == SIGTERM || arg0 == SIGHUP\n",
        "rt_sigaction: arg0 < SIGSYS\n", "rt_sigaction: arg2 == 0\n",
        "rt_sigaction\n"}) {
    EXPECT_TRUE(ParsePolicy(ok, kFile).ok()) << ok;
  }
}

TEST(PolicyParser, NamesBothLinesOfADuplicate) {
  EXPECT_THAT(ErrorAt("read\nwrite\n\nread\n", 4),
              HasSubstr("duplicate entry for 'read' (first at line 1)"));
}

TEST(PolicyParser, RejectsAnEmptyPolicy) {
  EXPECT_THAT(ErrorAt("", 1), HasSubstr("empty policy"));
  EXPECT_THAT(ErrorAt("# only a comment\n\n   \n", 1),
              HasSubstr("empty policy"));
}

TEST(PolicyParser, RequiresAWhyOnRiskySyscalls) {
  EXPECT_THAT(ErrorAt("read\nptrace\n", 2),
              HasSubstr("'ptrace' is a risky syscall: say why"));
  EXPECT_THAT(ErrorAt("socket: arg0 == AF_UNIX  # because\n", 1),
              HasSubstr("'socket' is a risky syscall"));
  EXPECT_THAT(ErrorAt("mprotect  # why:\n", 1),
              HasSubstr("its '# why:' comment is empty"));
  // The why goes on the syscall's own line.
  EXPECT_THAT(ErrorAt("# why: gRPC\nsocket: arg0 == AF_UNIX\n", 2),
              HasSubstr("risky"));
  EXPECT_TRUE(ParsePolicy("ptrace  # why: a debugger (test)\n", kFile).ok());
  for (absl::string_view risky : {"execve",
                                  "execveat",
                                  "mount",
                                  "umount2",
                                  "pivot_root",
                                  "chroot",
                                  "bpf",
                                  "perf_event_open",
                                  "unshare",
                                  "setns",
                                  "clone",
                                  "clone3",
                                  "socket",
                                  "socketpair",
                                  "ioctl",
                                  "prctl",
                                  "kill",
                                  "tgkill",
                                  "tkill",
                                  "mprotect",
                                  "mmap",
                                  "setuid",
                                  "setgid",
                                  "setresuid",
                                  "setresgid",
                                  "setgroups",
                                  "capset",
                                  "init_module",
                                  "finit_module",
                                  "kexec_load",
                                  "keyctl",
                                  "add_key",
                                  "request_key",
                                  "userfaultfd",
                                  "io_uring_setup",
                                  "personality",
                                  "seccomp",
                                  "open_by_handle_at",
                                  "name_to_handle_at",
                                  "process_vm_readv",
                                  "process_vm_writev",
                                  "memfd_create"}) {
    EXPECT_TRUE(IsRiskySyscall(risky)) << risky;
  }
  EXPECT_FALSE(IsRiskySyscall("read"));
}

TEST(PolicyParser, ReportsEveryErrorInLineOrder) {
  std::vector<std::string> errors =
      Errors("read\nnope\nsocket: arg0 == AF_UNIX\nread\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], HasSubstr(":2: unknown syscall 'nope'"));
  EXPECT_THAT(errors[1], HasSubstr(":3: 'socket' is a risky syscall"));
  EXPECT_THAT(errors[2], HasSubstr(":4: duplicate entry"));
}

TEST(PolicyTables, KnowsTheConstantsDaemonsUse) {
  for (absl::string_view name : {"AF_UNIX",         "AF_INET",
                                 "AF_INET6",        "AF_NETLINK",
                                 "SOCK_STREAM",     "SOCK_DGRAM",
                                 "SOCK_CLOEXEC",    "SOCK_NONBLOCK",
                                 "PROT_READ",       "PROT_WRITE",
                                 "PROT_EXEC",       "MAP_PRIVATE",
                                 "MAP_ANONYMOUS",   "MAP_FIXED",
                                 "CLONE_VM",        "CLONE_THREAD",
                                 "CLONE_NEWNS",     "CLONE_NEWCGROUP",
                                 "CLONE_NEWUTS",    "CLONE_NEWIPC",
                                 "CLONE_NEWUSER",   "CLONE_NEWPID",
                                 "CLONE_NEWNET",    "CLONE_NEWTIME",
                                 "FIONBIO",         "FIOCLEX",
                                 "TCGETS",          "PR_SET_NAME",
                                 "PR_GET_NAME",     "PR_SET_NO_NEW_PRIVS",
                                 "PR_SET_DUMPABLE", "PR_GET_DUMPABLE",
                                 "PR_CAPBSET_READ", "SIGSYS",
                                 "SIGTERM",         "SIGABRT",
                                 "O_RDONLY",        "O_CREAT",
                                 "O_CLOEXEC",       "F_GETFL",
                                 "F_SETFL",         "FUTEX_WAIT",
                                 "FUTEX_WAKE",      "FUTEX_PRIVATE_FLAG",
                                 "MADV_DONTNEED"}) {
    EXPECT_TRUE(LookupConstant(name).has_value()) << name;
  }
  EXPECT_EQ(LookupConstant("CLONE_NEWUSER"), 0x10000000u);
  EXPECT_EQ(LookupConstant("FIONBIO"), 0x5421u);
  EXPECT_FALSE(LookupConstant("AT_FDCWD").has_value());  // negative
  EXPECT_EQ(LookupErrno("ENOSYS"), ENOSYS);
  EXPECT_FALSE(LookupErrno("EWHATEVER").has_value());
}

TEST(PolicyCodegen, NamesTheFunctionAfterTheDaemon) {
  EXPECT_EQ(PolicyFunctionName("testserver"), "TestserverSeccompPolicy");
  EXPECT_EQ(PolicyFunctionName("key-store"), "KeyStoreSeccompPolicy");
  EXPECT_EQ(PolicyFunctionName("auth_d"), "AuthDSeccompPolicy");
  EXPECT_EQ(PolicyHeaderPath("keyd"), "policies/keyd/seccomp_policy.h");
  EXPECT_TRUE(ValidateDaemonName("keyd").ok());
  EXPECT_FALSE(ValidateDaemonName("Keyd").ok());
  EXPECT_FALSE(ValidateDaemonName("../x").ok());
  EXPECT_FALSE(ValidateDaemonName("").ok());
}

TEST(PolicyCodegen, EmitsTheTablesOfThePolicy) {
  absl::StatusOr<ParsedPolicy> policy = ParsePolicy(
      "read\n"
      "mmap: arg2 & PROT_EXEC == 0  # why: no code \\ after start\n"
      "clone3: errno ENOSYS  # why: fallback\n",
      "policies/keyd/seccomp.policy");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string source = GeneratePolicySource(*policy, "keyd");
  EXPECT_THAT(source, HasSubstr("#include \"policies/keyd/seccomp_policy.h\""));
  EXPECT_THAT(source, HasSubstr("const SeccompPolicy& KeydSeccompPolicy()"));
  EXPECT_THAT(source, HasSubstr(".source = \"policies/keyd/seccomp.policy\""));
  EXPECT_THAT(source, HasSubstr("{.name = \"read\", .number = 0,"));
  EXPECT_THAT(source, HasSubstr("{.arg = 2, .op = SeccompCompareOp::kMaskedEq, "
                                ".value = 0x0ULL, .mask = 0x4ULL}"));
  EXPECT_THAT(source, HasSubstr(".action = SeccompRuleAction::kErrno, "
                                ".errno_value = 38"));
  // A backslash in a comment would continue it onto the next line.
  EXPECT_THAT(source, HasSubstr("// why: no code / after start"));
  const std::string header = GeneratePolicyHeader(*policy, "keyd");
  EXPECT_THAT(header, HasSubstr("const SeccompPolicy& KeydSeccompPolicy();"));
  EXPECT_THAT(header, HasSubstr("#ifndef RUSTIQ_GEN_POLICIES_KEYD_"));
}

}  // namespace
}  // namespace rustiq::policyc
