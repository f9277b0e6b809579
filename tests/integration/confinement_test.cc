// The test server's real policy against one forbidden action at a time, in
// the style of Sandbox2's policy tests: rustiq-violator confines itself
// exactly as rustiq-testserver does, then does what the mode names.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sandbox/posture.h"
#include "common/sandbox/violation_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int status = 0;
  std::string out;
  std::string err;
  bool KilledBySigsys() const {
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
  }
};

class ConfinementTest : public ::testing::Test {
 protected:
  // Runs the violator for `action`; waits for it unless `keep` (then it is
  // left running and its pid returned in *pid once it printed "ready").
  Outcome Violate(const std::string& action,
                  const std::vector<std::string>& extra = {},
                  pid_t* keep = nullptr) {
    std::string err_path =
        absl::StrCat(device_.root(), "/violator-", action, ".err");
    int out_pipe[2];
    EXPECT_EQ(pipe(out_pipe), 0);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out_pipe[1], STDOUT_FILENO);
      int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, STDERR_FILENO);
      close(out_pipe[0]);
      std::string bin = BinaryPath("tests/violator/rustiq-violator");
      std::vector<std::string> args = {bin, "--root", device_.root()};
      args.insert(args.end(), extra.begin(), extra.end());
      args.push_back(action);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    Outcome o;
    char buf[256];
    ssize_t n;
    while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) {
      o.out.append(buf, static_cast<size_t>(n));
      if (keep != nullptr && o.out.find("ready") != std::string::npos) break;
    }
    close(out_pipe[0]);
    if (keep != nullptr) {
      *keep = pid;
      return o;
    }
    waitpid(pid, &o.status, 0);
    std::ifstream in(err_path);
    std::stringstream s;
    s << in.rdbuf();
    o.err = s.str();
    return o;
  }

  TestDevice device_;
};

TEST_F(ConfinementTest, ForbiddenSyscallsKillWithARecordNamingThem) {
  struct Case {
    const char* action;
    const char* syscall;
    const char* cause;
  } cases[] = {
      {"ptrace", "ptrace", "not-listed"},
      {"execve", "execve", "not-listed"},
      {"mount", "mount", "not-listed"},
      {"unshare", "unshare", "not-listed"},
      {"bpf", "bpf", "not-listed"},
      {"setuid", "setuid", "not-listed"},
      {"kill-init", "kill", "not-listed"},
      {"mprotect-exec", "mprotect", "arguments"},
      {"mmap-wx", "mmap", "arguments"},
  };
  for (const Case& c : cases) {
    Outcome o = Violate(c.action);
    EXPECT_TRUE(o.KilledBySigsys()) << c.action << ": status " << o.status
                                    << " out " << o.out << " err " << o.err;
    EXPECT_THAT(o.err, HasSubstr(absl::StrCat("syscall=", c.syscall, " nr=")))
        << c.action;
    EXPECT_THAT(o.err, HasSubstr(absl::StrCat("cause=", c.cause))) << c.action;
    EXPECT_THAT(o.err, HasSubstr("daemon=testserver")) << c.action;
    EXPECT_THAT(o.err, HasSubstr("msg=\"sandbox violation\"")) << c.action;
    EXPECT_EQ(o.out, "") << c.action << " continued after the violation";
    // The same record in the file the daemon reads at its next start.
    absl::StatusOr<std::optional<sandbox::ViolationRecord>> record =
        sandbox::TakeViolationRecord(sandbox::ViolationRecordPath(
            device_.config().paths.state_dir, "testserver"));
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_TRUE(record->has_value()) << c.action;
    EXPECT_EQ((*record)->syscall, c.syscall);
    EXPECT_EQ((*record)->cause, c.cause);
  }
}

TEST_F(ConfinementTest, NetworkSocketIsRefusedWithoutNetwork) {
  // gRPC probes AF_INET at start; the policy answers that probe with an
  // errno instead of a kill, and the socket is never created.
  Outcome o = Violate("socket-inet");
  ASSERT_TRUE(WIFEXITED(o.status)) << o.err;
  EXPECT_EQ(o.out, "errno=EAFNOSUPPORT\n");
}

TEST_F(ConfinementTest, LandlockRefusesPathsOutsideAndWritesToReadOnly) {
  Outcome outside = Violate("open-outside");
  EXPECT_EQ(outside.out, "errno=EACCES\n") << outside.err;
  Outcome readonly = Violate("write-readonly");
  EXPECT_EQ(readonly.out, "errno=EACCES\n") << readonly.err;
}

TEST_F(ConfinementTest, AllowedCounterpartsSucceed) {
  for (const char* action :
       {"socket-unix", "mprotect-read", "read-config", "write-state"}) {
    Outcome o = Violate(action);
    EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0)
        << action << ": " << o.out << o.err;
    EXPECT_EQ(o.out, "ok\n") << action;
  }
}

// Capabilities, no_new_privs and Landlock bind only the thread that applies
// them: a process that started a thread first is refused confinement, and
// the action never runs (its control is AllowedCounterpartsSucceed).
TEST_F(ConfinementTest, AThreadStartedBeforeConfinementIsRefused) {
  Outcome o = Violate("write-state", {"--thread-first"});
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 1)
      << "status " << o.status << " out " << o.out << " err " << o.err;
  EXPECT_THAT(o.err, HasSubstr("threads: 1 other thread(s) already running"));
  EXPECT_EQ(o.out, "");
}

TEST_F(ConfinementTest, ComplainModeLogsInsteadOfKilling) {
  // setuid(0) as root changes nothing: a harmless forbidden call.
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Outcome o = Violate("setuid", {"--complain"});
  EXPECT_TRUE(WIFEXITED(o.status)) << o.err;
  EXPECT_EQ(o.out, "ok\n");
  EXPECT_THAT(o.err, HasSubstr("SECCOMP COMPLAIN MODE"));
  EXPECT_THAT(o.err, HasSubstr("seccomp=complain"));
}

TEST_F(ConfinementTest, RootDropsToItsUserWithNothingElse) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  // The unprivileged user must be able to reach the device's directories
  // (in production they belong to the daemon's user and group).
  ASSERT_EQ(chmod(device_.root().c_str(), 0755), 0);
  pid_t pid = -1;
  Outcome started =
      Violate("pause", {"--user", "65534", "--group", "65534"}, &pid);
  ASSERT_GT(pid, 0);
  ASSERT_THAT(started.out, HasSubstr("ready")) << "the violator did not start";
  auto p = sandbox::ReadPosture(pid);
  std::ifstream status_file(absl::StrCat("/proc/", pid, "/status"));
  std::stringstream status_text;
  status_text << status_file.rdbuf();
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->uid_real, 65534u);
  EXPECT_EQ(p->uid_effective, 65534u);
  EXPECT_EQ(p->uid_saved, 65534u);
  EXPECT_EQ(p->gid_real, 65534u);
  EXPECT_EQ(p->gid_effective, 65534u);
  EXPECT_TRUE(p->groups.empty());
  EXPECT_EQ(p->cap_effective, 0u);
  EXPECT_EQ(p->cap_permitted, 0u);
  EXPECT_EQ(p->cap_bounding, 0u);
  EXPECT_EQ(p->cap_ambient, 0u);
  EXPECT_EQ(p->cap_inheritable, 0u);
  EXPECT_TRUE(p->no_new_privs);
  EXPECT_EQ(p->seccomp_mode, 2) << status_text.str();
  EXPECT_GE(p->seccomp_filters, 1);
  ASSERT_TRUE(p->core_limit.has_value());
  EXPECT_EQ(*p->core_limit, 0u);
  ASSERT_TRUE(p->dumpable.has_value());
  EXPECT_FALSE(*p->dumpable);
}

TEST_F(ConfinementTest, ServingTestServerIsConfined) {
  ServerProcess server(device_);
  ASSERT_TRUE(server.WaitServing(absl::Seconds(15))) << server.Log();
  auto p = sandbox::ReadPosture(server.pid());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->no_new_privs);
  EXPECT_EQ(p->seccomp_mode, 2);
  EXPECT_EQ(p->cap_effective, 0u);
  EXPECT_EQ(p->cap_bounding, 0u);
  EXPECT_THAT(server.Log(), HasSubstr("msg=confined"));
  EXPECT_THAT(server.Log(), HasSubstr("seccomp=enforce"));
}

}  // namespace
}  // namespace rustiq::testing
