// Confinement steps, each applied in a forked child and checked from the
// kernel's side (/proc), so the test process itself stays unconfined.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "common/sandbox/confine.h"
#include "common/sandbox/hardening.h"
#include "common/sandbox/landlock.h"
#include "common/sandbox/policy_files.h"
#include "common/sandbox/posture.h"
#include "common/sandbox/privileges.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::sandbox {
namespace {

using ::testing::HasSubstr;

// Runs `body` in a child; returns its exit code (or 128+signal).
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `body` in a child that then stops itself, so the parent can read its
// posture from /proc while it is still alive.
Posture PostureOfChild(const std::function<bool()>& body) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    char ok = body() ? 1 : 0;
    (void)!write(ready[1], &ok, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  EXPECT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  EXPECT_EQ(ok, 1) << "the confinement step failed in the child";
  absl::StatusOr<Posture> p = ReadPosture(pid);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Posture{};
}

TEST(Posture, ReportsWhatTheKernelSaysBeforeConfinement) {
  auto p = ReadPosture(0);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->pid, getpid());
  EXPECT_EQ(p->uid_effective, geteuid());
  EXPECT_EQ(p->no_new_privs, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
  EXPECT_EQ(p->seccomp_mode, 0);
  ASSERT_TRUE(p->dumpable.has_value());
  EXPECT_TRUE(*p->dumpable);
  EXPECT_FALSE(ReadPosture(999999999).ok());
}

TEST(Posture, HardeningIsVisibleFromOutside) {
  Posture p = PostureOfChild([] {
    // Start from a core limit that is not 0 (test runners often set 0
    // already), so that only HardenProcess can make it 0.
    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) != 0) return false;
    if (core.rlim_max == 0) core.rlim_max = 1 << 20;  // root may raise it
    core.rlim_cur = core.rlim_max;
    if (setrlimit(RLIMIT_CORE, &core) != 0) return false;
    return HardenProcess().ok();
  });
  EXPECT_TRUE(p.no_new_privs);
  ASSERT_TRUE(p.core_limit.has_value());
  EXPECT_EQ(*p.core_limit, 0u);
  if (geteuid() != 0) {
    ASSERT_TRUE(p.dumpable.has_value());
    EXPECT_FALSE(*p.dumpable);
  }
}

TEST(Privileges, RootDropsToTargetUserWithExactCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Posture p = PostureOfChild([] {
    auto ids = ResolveUserAndGroup("65534", "65534");
    auto caps = ParseCapabilities({"CAP_NET_BIND_SERVICE"});
    return ids.ok() && caps.ok() && DropPrivileges(*ids, *caps).ok();
  });
  EXPECT_EQ(p.uid_real, 65534u);
  EXPECT_EQ(p.uid_effective, 65534u);
  EXPECT_EQ(p.uid_saved, 65534u);
  EXPECT_EQ(p.gid_effective, 65534u);
  EXPECT_TRUE(p.groups.empty());
  const uint64_t bind = 1ULL << 10;  // CAP_NET_BIND_SERVICE
  EXPECT_EQ(p.cap_effective, bind);
  EXPECT_EQ(p.cap_permitted, bind);
  EXPECT_EQ(p.cap_bounding, bind);
  EXPECT_EQ(p.cap_ambient, 0u);
  EXPECT_EQ(p.cap_inheritable, 0u);
}

TEST(Privileges, NoCapabilitiesMeansNone) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Posture p = PostureOfChild([] {
    auto ids = ResolveUserAndGroup("65534", "65534");
    return ids.ok() && DropPrivileges(*ids, {}).ok();
  });
  EXPECT_EQ(p.cap_effective, 0u);
  EXPECT_EQ(p.cap_permitted, 0u);
  EXPECT_EQ(p.cap_bounding, 0u);
  EXPECT_EQ(CapabilityNames(p.cap_bounding), "none");
}

TEST(Privileges, UnknownNamesAreRefused) {
  EXPECT_FALSE(ParseCapabilities({"CAP_MAKE_COFFEE"}).ok());
  EXPECT_FALSE(ResolveUserAndGroup("no-such-user-xyz", "0").ok());
  EXPECT_FALSE(ResolveUserAndGroup("0", "no-such-group-xyz").ok());
  auto caps = ParseCapabilities({"net_admin", "CAP_SYS_TIME"});
  ASSERT_TRUE(caps.ok());
  EXPECT_EQ(caps->size(), 2u);
}

class LandlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (LandlockAbi() == 0) GTEST_SKIP() << "kernel without Landlock";
    char tmpl[] = "/tmp/rustiq-landlock-XXXXXX";
    root_ = mkdtemp(tmpl);
    for (const char* d : {"/rw", "/ro", "/outside"}) {
      std::filesystem::create_directories(root_ + d);
      std::ofstream(root_ + d + "/file") << "data";
    }
  }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  LandlockRules Rules() const {
    LandlockRules r;
    r.read_write = {root_ + "/rw"};
    r.read_only = {root_ + "/ro"};
    return r;
  }
  // In a child: applies the rules, then runs `probe`; returns probe's errno
  // (0 on success), or 200 if applying failed.
  int Probe(const std::function<int()>& probe) const {
    return ProbeWith(Rules(), probe);
  }
  int ProbeWith(const LandlockRules& rules,
                const std::function<int()>& probe) const {
    return InChild([&] {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 201;
      auto r = ApplyLandlock(rules);
      if (!r.ok() || !r->applied) return 200;
      return probe();
    });
  }
  static int OpenErrno(const std::string& path, int flags) {
    int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) return errno;
    close(fd);
    return 0;
  }
  std::string root_;
};

TEST_F(LandlockTest, AllowsListedPaths) {
  EXPECT_EQ(Probe([&] { return OpenErrno(root_ + "/rw/file", O_RDWR); }), 0);
  EXPECT_EQ(
      Probe([&] { return OpenErrno(root_ + "/rw/new", O_CREAT | O_WRONLY); }),
      0);
  EXPECT_EQ(Probe([&] { return OpenErrno(root_ + "/ro/file", O_RDONLY); }), 0);
}

TEST_F(LandlockTest, RefusesWritingReadOnlyPath) {
  EXPECT_EQ(Probe([&] { return OpenErrno(root_ + "/ro/file", O_WRONLY); }),
            EACCES);
  EXPECT_EQ(
      Probe([&] { return OpenErrno(root_ + "/ro/new", O_CREAT | O_WRONLY); }),
      EACCES);
}

TEST_F(LandlockTest, RefusesPathsOutside) {
  EXPECT_EQ(Probe([&] { return OpenErrno(root_ + "/outside/file", O_RDONLY); }),
            EACCES);
  EXPECT_EQ(Probe([] { return OpenErrno("/etc/passwd", O_RDONLY); }), EACCES);
}

// 127.0.0.1:`port` (0: any port).
sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// errno of bind(2) on a fresh TCP socket to 127.0.0.1 (any port), or of
// connect(2) to `port` there; 0 on success.
int TcpErrno(bool connect_to, uint16_t port = 0) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 202;
  sockaddr_in addr = Loopback(port);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  int rc =
      connect_to ? connect(fd, sa, sizeof(addr)) : bind(fd, sa, sizeof(addr));
  int err = rc == 0 ? 0 : errno;
  close(fd);
  return err;
}

TEST_F(LandlockTest, DeniesTcpBindAndConnect) {
  if (LandlockAbi() < 4) GTEST_SKIP() << "Landlock ABI < 4: no TCP rules";
  // A listener outside the sandbox, on loopback.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr = Loopback(0);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);

  EXPECT_EQ(Probe([] { return TcpErrno(/*connect_to=*/false); }), EACCES);
  EXPECT_EQ(Probe([port] { return TcpErrno(/*connect_to=*/true, port); }),
            EACCES);
  // The same probes without the rule succeed: the refusal above is
  // Landlock's, not the machine's.
  LandlockRules open_net = Rules();
  open_net.deny_tcp = false;
  EXPECT_EQ(ProbeWith(open_net, [] { return TcpErrno(false); }), 0);
  EXPECT_EQ(ProbeWith(open_net, [port] { return TcpErrno(true, port); }), 0);
  close(listener);
}

TEST_F(LandlockTest, ScopesSignalsToTheDaemonsOwnDomain) {
  if (LandlockAbi() < 6) GTEST_SKIP() << "Landlock ABI < 6: no scopes";
  // Signal 0 to the (unconfined) test process: the permission check alone.
  EXPECT_EQ(Probe([] { return kill(getppid(), 0) == 0 ? 0 : errno; }), EPERM);
  // Within its own domain a process still signals itself.
  EXPECT_EQ(Probe([] { return kill(getpid(), 0) == 0 ? 0 : errno; }), 0);
  // The supervisor's rules (scope_signals false) leave signals alone.
  LandlockRules supervisor = Rules();
  supervisor.scope_signals = false;
  EXPECT_EQ(
      ProbeWith(supervisor, [] { return kill(getppid(), 0) == 0 ? 0 : errno; }),
      0);
}

TEST_F(LandlockTest, ReportsSkippedPathsAndAbi) {
  LandlockRules rules = Rules();
  rules.read_only.push_back(root_ + "/does-not-exist");
  int code = InChild([&] {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    auto r = ApplyLandlock(rules);
    if (!r.ok()) return 1;
    return (r->applied && r->abi >= 1 && r->skipped_paths.size() == 1) ? 0 : 2;
  });
  EXPECT_EQ(code, 0);
}

TEST(PolicyFiles, ParsesLandlockPathsWithRoots) {
  auto rules = ParseLandlockFile(
      "# comment\nrw ${state}/${daemon}  # why: state\nro ${config}\n"
      "exec /usr/libexec/x\n",
      "landlock.paths", {"/etc/r", "/var/lib/r", "/run/r", "keyd"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_THAT(rules->read_write, ::testing::ElementsAre("/var/lib/r/keyd"));
  EXPECT_THAT(rules->read_only, ::testing::ElementsAre("/etc/r"));
  EXPECT_THAT(rules->executable, ::testing::ElementsAre("/usr/libexec/x"));
}

TEST(PolicyFiles, LandlockErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"", "no paths"},
      {"rw\n", "landlock.paths:1: expected"},
      {"ro /a\nrx /b\n", "landlock.paths:2: unknown access"},
      {"ro relative\n", "absolute path"},
      {"ro /a/../etc\n", "absolute path"},
      {"ro /\n", "whole file system"},
      {"ro ${home}/x\n", "unknown variable"},
      {"ro /a\nrw /a\n", "listed twice"},
  };
  for (const Case& c : cases) {
    auto r = ParseLandlockFile(c.text, "landlock.paths", {});
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expect)) << c.text;
  }
}

TEST(SpecFromPolicy, BuildsTheSpecAndNamesTheDaemonsFilesInErrors) {
  static const SeccompPolicy kPolicy{};
  auto spec =
      SpecFromPolicy("keyd", "# none\n", "rw ${state}/${daemon}\n",
                     {"/etc/r", "/var/lib/r", "/run/r", "keyd"}, kPolicy);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->daemon, "keyd");
  EXPECT_TRUE(spec->capabilities.empty());
  EXPECT_THAT(spec->landlock.read_write,
              ::testing::ElementsAre("/var/lib/r/keyd"));
  EXPECT_EQ(spec->seccomp, &kPolicy);
  EXPECT_FALSE(spec->complain);  // never the default
  auto bad = SpecFromPolicy("keyd", "CAP_KILL\n", "rw /x\n", {}, kPolicy);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("policies/keyd/capabilities:1"));
  bad = SpecFromPolicy("keyd", "", "", {}, kPolicy);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("policies/keyd/landlock.paths"));
}

TEST(PolicyFiles, CapabilitiesNeedAReason) {
  auto none = ParseCapabilitiesFile("# nothing\n\n", "capabilities");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto one = ParseCapabilitiesFile("CAP_DAC_OVERRIDE  # why: writes the slot\n",
                                   "capabilities");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->size(), 1u);
  auto no_reason = ParseCapabilitiesFile("CAP_KILL\n", "capabilities");
  ASSERT_FALSE(no_reason.ok());
  EXPECT_THAT(no_reason.status().message(), HasSubstr("capabilities:1"));
  EXPECT_FALSE(ParseCapabilitiesFile("CAP_NOPE # why: x\n", "c").ok());
  EXPECT_FALSE(
      ParseCapabilitiesFile("CAP_KILL # why: a\ncap_kill # why: b\n", "c")
          .ok());
}

}  // namespace
}  // namespace rustiq::sandbox
