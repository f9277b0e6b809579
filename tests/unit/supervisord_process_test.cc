// The process layer of rustiq-supervisord, with real processes: Spawn()'s
// child set-up (process group, descriptors, signals, environment,
// credentials, parent-death signal), the exit description, the log relay
// and the memory reading.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/supervisord/child_process.h"
#include "services/supervisord/exit_reason.h"
#include "services/supervisord/log_relay.h"
#include "services/supervisord/proc_memory.h"
#include "tests/support/temp_dir.h"

namespace rustiq::supervisord {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TempDir;
using ::testing::UnorderedElementsAre;

constexpr int kWaitMs = 30000;  // generous: only a broken test waits this long

constexpr const char kViolationLine[] =
    "level=critical daemon=x msg=\"sandbox violation\" syscall=ptrace nr=101 "
    "arch=x86_64 cause=not-listed";

LaunchSpec Shell(const std::string& script) {
  return LaunchSpec{.binary = "/bin/sh",
                    .args = {"-c", script},
                    .env = {"PATH=/usr/bin:/bin"},
                    .uid = std::nullopt,
                    .gid = std::nullopt};
}

LaunchSpec Sleeper() {
  return LaunchSpec{.binary = "/bin/sleep",
                    .args = {"1000"},
                    .env = {},
                    .uid = std::nullopt,
                    .gid = std::nullopt};
}

int Reap(pid_t pid) {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  EXPECT_EQ(got, pid) << strerror(errno);
  return status;
}

// Kills and reaps a child; for tests that started a sleeper.
void KillAndReap(const Child& child) {
  kill(child.pid, SIGKILL);
  Reap(child.pid);
  if (child.output_fd >= 0) close(child.output_fd);
}

// Reads everything from `fd` until end of file.
std::string ReadAll(int fd) {
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// The value of `field` ("SigBlk") in /proc/<pid>/status.
std::string StatusField(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string value = line.substr(field.size() + 1);
      size_t start = value.find_first_not_of(" \t");
      return start == std::string::npos ? "" : value.substr(start);
    }
  }
  return "<no " + field + ">";
}

// An anonymous in-memory file the relay writes to, read back at the end.
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("relay-out", MFD_CLOEXEC)) {}
  ~MemoryFile() { close(fd_); }
  int fd() const { return fd_; }
  std::string Contents() const {
    std::string text;
    char buf[4096];
    off_t offset = 0;
    ssize_t n;
    while ((n = pread(fd_, buf, sizeof(buf), offset)) > 0) {
      text.append(buf, static_cast<size_t>(n));
      offset += n;
    }
    return text;
  }

 private:
  int fd_;
};

// Writes `content` to `path` with `mode`; returns the path.
std::string WriteFile(const std::string& path, const std::string& content,
                      mode_t mode) {
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
  return path;
}

// Runs `body` in a forked process and returns what it wrote to the pipe
// it is given, after the process exited. For steps that must happen in a
// process of their own (dropping root, exiting under a grandchild).
template <typename Body>
std::string InForkedProcess(Body body) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    body(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string said = ReadAll(fds[0]);
  close(fds[0]);
  int status = Reap(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return said;
}

void Say(int fd, const std::string& text) {
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
}

TEST(ChildProcess, SpawnsAndReportsExitStatus) {
  absl::StatusOr<Child> child = Spawn(Shell("exit 3"));
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_GT(child->pid, 0);
  EXPECT_GE(child->output_fd, 0);
  int status = Reap(child->pid);
  close(child->output_fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  ExitReason reason = DescribeExit(status, std::nullopt);
  EXPECT_EQ(reason.kind, "exited");
  EXPECT_EQ(reason.exit_status, 3);
  EXPECT_EQ(reason.text, "exited with status 3");
  EXPECT_FALSE(reason.clean());
}

TEST(ChildProcess, OutputFdIsCloseOnExec) {
  absl::StatusOr<Child> child = Spawn(Sleeper());
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE(fcntl(child->output_fd, F_GETFD) & FD_CLOEXEC);
  KillAndReap(*child);
}

TEST(ChildProcess, RefusesRelativeBinary) {
  LaunchSpec spec = Shell("exit 0");
  spec.binary = "bin/sh";
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(child.status().message(), HasSubstr("not an absolute path"));
}

TEST(ChildProcess, RefusesMissingBinary) {
  LaunchSpec spec = Shell("exit 0");
  spec.binary = "/nonexistent/rustiq-no-such-daemon";
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(child.status().message(),
            "cannot start /nonexistent/rustiq-no-such-daemon: No such file or "
            "directory");
}

TEST(ChildProcess, RefusesDirectoryAndNonExecutableFile) {
  TempDir dir;
  LaunchSpec spec = Shell("exit 0");
  spec.binary = dir.path();
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr("not a regular file"));

  spec.binary = WriteFile(dir / "plain", "#!/bin/sh\n", 0644);
  child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(child.status().message(), HasSubstr("not executable"));
}

TEST(ChildProcess, RefusesEnvironmentEntryWithoutEquals) {
  LaunchSpec spec = Shell("exit 0");
  spec.env = {"PATH=/bin", "JUSTANAME"};
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr("JUSTANAME"));
}

// An executable file the kernel cannot run: the failure happens in the
// child, at execve, and comes back through the error pipe.
TEST(ChildProcess, ReportsExecFailureFromTheChild) {
  TempDir dir;
  LaunchSpec spec = Shell("");
  spec.binary = WriteFile(dir / "garbage", "not a program\n", 0755);
  spec.args = {};
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().message(),
            absl::StrCat("cannot start ", spec.binary,
                         ": execve: Exec format error"));
  // The failed child was reaped by Spawn(): no child is left.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcess, ChildHasItsOwnSessionAndProcessGroup) {
  absl::StatusOr<Child> child = Spawn(Sleeper());
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(getpgid(child->pid), child->pid);
  EXPECT_NE(getpgid(child->pid), getpgrp());
  // Its own session: no controlling terminal of supervisord's.
  EXPECT_EQ(getsid(child->pid), child->pid);
  KillAndReap(*child);
}

// supervisord blocks SIGTERM in its threads and may ignore signals; the
// child must start with none of that (an ignored signal survives execve).
TEST(ChildProcess, SignalMaskIsEmptyAndNothingIgnored) {
  sigset_t block;
  sigset_t previous;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGCHLD);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &previous), 0);
  struct sigaction ignore {};
  struct sigaction previous_usr1 {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGUSR1, &ignore, &previous_usr1), 0);

  absl::StatusOr<Child> child = Spawn(Sleeper());
  // This (main) thread does block and ignore, so the checks below can fail.
  EXPECT_NE(StatusField(getpid(), "SigBlk"), "0000000000000000");
  EXPECT_NE(StatusField(getpid(), "SigIgn"), "0000000000000000");
  sigaction(SIGUSR1, &previous_usr1, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(StatusField(child->pid, "SigBlk"), "0000000000000000");
  EXPECT_EQ(StatusField(child->pid, "SigIgn"), "0000000000000000");
  KillAndReap(*child);
}

TEST(ChildProcess, OnlyStandardDescriptorsAreInherited) {
  // A descriptor the parent leaks (not close-on-exec).
  int leaked = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  absl::StatusOr<Child> child = Spawn(Sleeper());
  close(leaked);
  ASSERT_TRUE(child.ok()) << child.status();
  // Right after the exec the dynamic loader briefly holds the libraries it
  // maps on descriptor 3 and up; once sleep sleeps it holds only what it
  // inherited. A leaked descriptor stays, so the deadline makes this fail.
  std::vector<std::string> fds;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  do {
    fds.clear();
    for (const auto& entry : std::filesystem::directory_iterator(
             absl::StrCat("/proc/", child->pid, "/fd"))) {
      fds.push_back(entry.path().filename().string());
    }
    if (fds.size() <= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_THAT(fds, UnorderedElementsAre("0", "1", "2"));
  const std::string fd_dir = absl::StrCat("/proc/", child->pid, "/fd/");
  EXPECT_EQ(std::filesystem::read_symlink(fd_dir + "0"), "/dev/null");
  EXPECT_EQ(std::filesystem::read_symlink(fd_dir + "1"),
            std::filesystem::read_symlink(fd_dir + "2"));
  EXPECT_THAT(std::filesystem::read_symlink(fd_dir + "1").string(),
              HasSubstr("pipe:"));
  KillAndReap(*child);
}

TEST(ChildProcess, EnvironmentIsExactlyTheSpec) {
  ASSERT_EQ(setenv("RUSTIQ_TEST_LEAK", "from-the-parent", 1), 0);
  LaunchSpec spec{.binary = "/usr/bin/env",
                  .args = {},
                  .env = {"A=1", "B=two words"},
                  .uid = std::nullopt,
                  .gid = std::nullopt};
  absl::StatusOr<Child> child = Spawn(spec);
  unsetenv("RUSTIQ_TEST_LEAK");
  ASSERT_TRUE(child.ok()) << child.status();
  std::string output = ReadAll(child->output_fd);
  close(child->output_fd);
  int status = Reap(child->pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(output, "A=1\nB=two words\n");
}

TEST(ChildProcess, SwitchesUserAndGroupWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  LaunchSpec spec = Sleeper();
  spec.uid = 65534;
  spec.gid = 65534;
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(StatusField(child->pid, "Uid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(StatusField(child->pid, "Gid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(StatusField(child->pid, "Groups"), "");
  KillAndReap(*child);
}

// A user switch alone drops root's supplementary groups too.
TEST(ChildProcess, UserSwitchAloneDropsSupplementaryGroups) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string said = InForkedProcess([](int out) {
    gid_t groups[] = {0, 4};
    if (setgroups(2, groups) != 0) return Say(out, "setgroups failed");
    LaunchSpec spec = Sleeper();
    spec.uid = 65534;
    absl::StatusOr<Child> child = Spawn(spec);
    if (!child.ok()) return Say(out, std::string(child.status().message()));
    Say(out, absl::StrCat("groups=[", StatusField(child->pid, "Groups"), "]"));
    KillAndReap(*child);
  });
  EXPECT_EQ(said, "groups=[]");
}

// The switch happens before execve: a binary only root may run fails.
TEST(ChildProcess, ExecRunsWithTheSwitchedUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir dir;
  LaunchSpec spec = Shell("");
  spec.binary = WriteFile(dir / "root-only", "#!/bin/sh\nexit 0\n", 0700);
  spec.args = {};
  spec.uid = 65534;
  spec.gid = 65534;
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().message(),
            absl::StrCat("cannot start ", spec.binary,
                         ": execve: Permission denied"));
  EXPECT_EQ(child.status().code(), absl::StatusCode::kPermissionDenied);
}

// The binary is opened before the user switch: a daemon whose user cannot
// traverse the directories above its binary (a build under /root, 0700)
// still starts, while the file's own execute permission is still checked
// as that user (ExecRunsWithTheSwitchedUser).
TEST(ChildProcess, BinaryBehindADirectoryTheUserCannotEnterStarts) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
  const std::string binary =
      WriteFile(dir / "true", testing::ReadAll("/bin/true"), 0755);
  LaunchSpec spec{
      .binary = binary, .args = {}, .env = {}, .uid = 65534, .gid = 65534};
  absl::StatusOr<Child> child = Spawn(spec);
  ASSERT_TRUE(child.ok()) << child.status();
  close(child->output_fd);
  int status = Reap(child->pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Without root, the switch fails in the child and says which uid. (As
// root, the test first becomes nobody in a process of its own.)
TEST(ChildProcess, ReportsFailedUserSwitch) {
  auto spawn_as_root = [](int out) {
    LaunchSpec spec = Sleeper();
    spec.uid = 0;
    absl::StatusOr<Child> child = Spawn(spec);
    if (child.ok()) {
      KillAndReap(*child);
      return Say(out, "started");
    }
    Say(out, std::string(child.status().message()));
  };
  std::string said = InForkedProcess([&](int out) {
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 ||
                           setuid(65534) != 0)) {
      return Say(out, "could not drop root");
    }
    spawn_as_root(out);
  });
  // setgroups is the first step of the switch and already needs root.
  EXPECT_EQ(said, "cannot switch to uid 0: setgroups: Operation not permitted");
}

// The child of a process that exits is killed (PR_SET_PDEATHSIG), and,
// this test being a subreaper, comes back here to be reaped.
void ExpectChildDiesWithItsParent(const LaunchSpec& spec) {
  ASSERT_TRUE(BecomeSubreaper().ok());
  std::string said = InForkedProcess([&spec](int out) {
    absl::StatusOr<Child> child = Spawn(spec);
    if (!child.ok()) return Say(out, std::string(child.status().message()));
    Say(out, absl::StrCat(child->pid));
    // Exits without reaping: the grandchild's parent is gone.
  });
  pid_t grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(said, &grandchild)) << said;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  int status = 0;
  pid_t got = 0;
  while ((got = waitpid(grandchild, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (got == 0) {
    kill(grandchild, SIGKILL);
    Reap(grandchild);
    FAIL() << "the grandchild outlived its parent";
  }
  ASSERT_EQ(got, grandchild) << strerror(errno);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ChildProcess, ChildDiesWithItsParent) {
  ExpectChildDiesWithItsParent(Sleeper());
}

// A change of credentials clears the parent-death signal (commit_creds):
// it must be set after the user switch, or a daemon running as its own
// user would outlive a killed supervisord.
TEST(ChildProcess, ChildDiesWithItsParentAfterAUserSwitch) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  LaunchSpec spec = Sleeper();
  spec.uid = 65534;
  spec.gid = 65534;
  ExpectChildDiesWithItsParent(spec);
}

TEST(ChildProcess, OutputIsRelayedAndLastLinesKept) {
  MemoryFile out;
  LogRelay relay(out.fd(), /*keep_lines=*/2);
  relay.Start();
  absl::StatusOr<Child> child =
      Spawn(Shell("echo one; echo two >&2; printf three"));
  ASSERT_TRUE(child.ok()) << child.status();
  relay.Add(child->pid, child->output_fd);
  int status = Reap(child->pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(relay.WaitClosed(child->pid, kWaitMs));
  // "three" had no newline: flushed as a line at end of file.
  EXPECT_THAT(relay.LastLines(child->pid), ElementsAre("two", "three"));
  EXPECT_EQ(relay.Violation(child->pid), std::nullopt);
  relay.Stop();
  EXPECT_EQ(out.Contents(), "one\ntwo\nthree\n");
}

TEST(ChildProcess, SandboxViolationIsDescribed) {
  MemoryFile out;
  LogRelay relay(out.fd());
  relay.Start();
  // ulimit: no core file from the SIGSYS.
  absl::StatusOr<Child> child =
      Spawn(Shell(absl::StrCat("ulimit -c 0; echo starting; echo '",
                               kViolationLine, "' >&2; kill -SYS $$")));
  ASSERT_TRUE(child.ok()) << child.status();
  relay.Add(child->pid, child->output_fd);
  int status = Reap(child->pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
  ASSERT_TRUE(relay.WaitClosed(child->pid, kWaitMs));
  std::optional<sandbox::ViolationRecord> violation =
      relay.Violation(child->pid);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->syscall, "ptrace");
  EXPECT_EQ(violation->nr, "101");
  EXPECT_EQ(violation->line, kViolationLine);
  ExitReason reason = DescribeExit(status, violation);
  EXPECT_EQ(reason.kind, "sandbox");
  EXPECT_EQ(reason.signal, SIGSYS);
  EXPECT_EQ(reason.signal_name, "SIGSYS");
  EXPECT_EQ(reason.syscall, "ptrace");
  EXPECT_EQ(reason.text, "killed by the sandbox for syscall ptrace (SIGSYS)");
  relay.Stop();
  EXPECT_EQ(out.Contents(), absl::StrCat("starting\n", kViolationLine, "\n"));
}

TEST(ExitReason, DescribesExitsAndSignals) {
  ExitReason clean = DescribeExit(W_EXITCODE(0, 0), std::nullopt);
  EXPECT_TRUE(clean.clean());
  EXPECT_EQ(clean.text, "exited with status 0");

  ExitReason failed = DescribeExit(W_EXITCODE(1, 0), std::nullopt, "stop");
  EXPECT_FALSE(failed.clean());
  EXPECT_EQ(failed.text, "exited with status 1, by supervisord (stop)");

  ExitReason killed =
      DescribeExit(W_EXITCODE(0, SIGKILL), std::nullopt, "health");
  EXPECT_EQ(killed.kind, "signaled");
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.signal_name, "SIGKILL");
  EXPECT_EQ(killed.killed_by_supervisor, "health");
  EXPECT_EQ(killed.text, "killed by SIGKILL, by supervisord (health)");
  EXPECT_FALSE(killed.clean());
}

TEST(ExitReason, SandboxDeathWithoutALineHasUnknownSyscall) {
  ExitReason reason = DescribeExit(W_EXITCODE(0, SIGSYS), std::nullopt);
  EXPECT_EQ(reason.kind, "sandbox");
  EXPECT_EQ(reason.syscall, "unknown");
  EXPECT_THAT(reason.text, HasSubstr("(SIGSYS)"));
  // A line the parser found no syscall in counts as none.
  reason = DescribeExit(W_EXITCODE(0, SIGSYS), sandbox::ViolationRecord{});
  EXPECT_EQ(reason.syscall, "unknown");
}

TEST(ExitReason, SignalNames) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGSYS), "SIGSYS");
  EXPECT_EQ(SignalName(200), "SIG200");
}

// LogRelay fed by pipes the test writes to, under made-up pids.
class LogRelayTest : public ::testing::Test {
 protected:
  // A pipe whose read end the relay owns; returns the write end.
  int AddPipe(pid_t pid) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    relay_.Add(pid, fds[0]);
    return fds[1];
  }
  static void Write(int fd, const std::string& text) {
    ASSERT_EQ(write(fd, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }

  MemoryFile out_;
  LogRelay relay_{out_.fd(), 3};
};

TEST_F(LogRelayTest, CutsLongLines) {
  relay_.Start();
  int w = AddPipe(100);
  // Written in pieces, so the cut does not depend on one read.
  std::string long_line(5000, 'x');
  Write(w, long_line.substr(0, 3000));
  Write(w, long_line.substr(3000) + "\nafter\n");
  std::string exact(4096, 'y');
  Write(w, exact + "\n");
  close(w);
  ASSERT_TRUE(relay_.WaitClosed(100, kWaitMs));
  EXPECT_THAT(relay_.LastLines(100),
              ElementsAre(std::string(4096, 'x'), "after", exact));
  relay_.Stop();
  EXPECT_EQ(out_.Contents(),
            absl::StrCat(std::string(4096, 'x'), "\nafter\n", exact, "\n"));
}

TEST_F(LogRelayTest, KeepsLinesPerPid) {
  relay_.Start();
  int a = AddPipe(1);
  int b = AddPipe(2);
  Write(a, "a1\na2\n");
  Write(b, "b1\n");
  Write(a, "a3\na4\n");
  Write(b, std::string(kViolationLine) + "\n");
  close(a);
  close(b);
  ASSERT_TRUE(relay_.WaitClosed(1, kWaitMs));
  ASSERT_TRUE(relay_.WaitClosed(2, kWaitMs));
  EXPECT_THAT(relay_.LastLines(1), ElementsAre("a2", "a3", "a4"));
  EXPECT_THAT(relay_.LastLines(2), ElementsAre("b1", kViolationLine));
  EXPECT_EQ(relay_.Violation(1), std::nullopt);
  ASSERT_TRUE(relay_.Violation(2).has_value());
  EXPECT_EQ(relay_.Violation(2)->syscall, "ptrace");
}

TEST_F(LogRelayTest, WaitClosedTimesOutWhileTheWriterLives) {
  relay_.Start();
  int w = AddPipe(7);
  Write(w, "hello\n");
  EXPECT_FALSE(relay_.WaitClosed(7, 100));
  close(w);
  EXPECT_TRUE(relay_.WaitClosed(7, kWaitMs));
  EXPECT_THAT(relay_.LastLines(7), ElementsAre("hello"));
  // Nothing to wait for on a pid never added.
  EXPECT_TRUE(relay_.WaitClosed(8, 0));
}

TEST_F(LogRelayTest, ForgetClosesThePipe) {
  relay_.Start();
  int w = AddPipe(5);
  Write(w, "line\n");
  relay_.Forget(5);
  EXPECT_THAT(relay_.LastLines(5), IsEmpty());
  // The read end is closed: writing fails with EPIPE (SIGPIPE ignored for
  // the moment).
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous);
  ssize_t n = write(w, "x", 1);
  int saved = errno;
  sigaction(SIGPIPE, &previous, nullptr);
  close(w);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(saved, EPIPE);
}

// Stop() relays what the pipes hold, also from writers still alive, and
// the partial line.
TEST_F(LogRelayTest, StopRelaysWhatIsLeft) {
  int w = AddPipe(9);
  Write(w, "before start\npartial");
  relay_.Start();
  relay_.Stop();
  EXPECT_EQ(out_.Contents(), "before start\npartial\n");
  EXPECT_THAT(relay_.LastLines(9), ElementsAre("before start", "partial"));
  close(w);
}

TEST(ProcMemory, ParsesSmapsRollup) {
  constexpr char kText[] =
      "55d0c8a4e000-7ffd4a5f9000 ---p 00000000 00:00 0      [rollup]\n"
      "Rss:                3348 kB\n"
      "Pss:                 617 kB\n"
      "Pss_Dirty:           196 kB\n"
      "Pss_Anon:            196 kB\n"
      "Pss_File:            421 kB\n"
      "Pss_Shmem:             0 kB\n"
      "Shared_Clean:       2756 kB\n";
  absl::StatusOr<Memory> memory = ParseSmapsRollup(kText);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->rss_bytes, 3348u * 1024);
  EXPECT_EQ(memory->pss_bytes, 617u * 1024);
  EXPECT_EQ(memory->pss_anon_bytes, 196u * 1024);
  EXPECT_EQ(memory->pss_file_bytes, 421u * 1024);
}

TEST(ProcMemory, SplitIsZeroOnAKernelWithoutIt) {
  absl::StatusOr<Memory> memory = ParseSmapsRollup("Rss: 10 kB\nPss: 4 kB\n");
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->pss_bytes, 4u * 1024);
  EXPECT_EQ(memory->pss_anon_bytes, 0u);
  EXPECT_EQ(memory->pss_file_bytes, 0u);
}

TEST(ProcMemory, RefusesBadSmapsRollup) {
  EXPECT_FALSE(ParseSmapsRollup("").ok());
  absl::StatusOr<Memory> no_pss =
      ParseSmapsRollup("Rss: 10 kB\nPss_Anon: 1 kB\n");
  ASSERT_FALSE(no_pss.ok());
  EXPECT_THAT(no_pss.status().message(), HasSubstr("Pss:"));
  EXPECT_FALSE(ParseSmapsRollup("Rss: ten kB\nPss: 1 kB\n").ok());
  EXPECT_FALSE(ParseSmapsRollup("Rss: 10 MB\nPss: 1 kB\n").ok());
  EXPECT_FALSE(
      ParseSmapsRollup("Rss: 99999999999999999999 kB\nPss: 1 kB\n").ok());
  absl::StatusOr<Memory> bad_split =
      ParseSmapsRollup("Rss: 10 kB\nPss: 4 kB\nPss_File: lots kB\n");
  ASSERT_FALSE(bad_split.ok());
  EXPECT_THAT(bad_split.status().message(), HasSubstr("Pss_File"));
}

TEST(ProcMemory, ReadsOwnMemory) {
  absl::StatusOr<Memory> memory = ReadMemory(getpid());
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_GT(memory->rss_bytes, 0u);
  EXPECT_GT(memory->pss_bytes, 0u);
  EXPECT_LE(memory->pss_bytes, memory->rss_bytes);
  // This kernel (5.9 or later) splits PSS; the parts cannot exceed it.
  EXPECT_GT(memory->pss_file_bytes, 0u);
  EXPECT_LE(memory->pss_anon_bytes + memory->pss_file_bytes, memory->pss_bytes);
}

TEST(ProcMemory, GoneProcessIsNotFound) {
  absl::StatusOr<Child> child = Spawn(Shell("exit 0"));
  ASSERT_TRUE(child.ok()) << child.status();
  close(child->output_fd);
  Reap(child->pid);
  absl::StatusOr<Memory> memory = ReadMemory(child->pid);
  ASSERT_FALSE(memory.ok());
  EXPECT_EQ(memory.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(memory.status().message(),
              HasSubstr(absl::StrCat("/proc/", child->pid, "/smaps_rollup")));
}

}  // namespace
}  // namespace rustiq::supervisord
