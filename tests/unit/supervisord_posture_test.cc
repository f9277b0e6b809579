// What `rustiqctl status --security` highlights (each finding would be lost
// silently otherwise), and what supervisord prepares on disk for daemons
// running as their own users.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sandbox/posture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/supervisord/posture_report.h"
#include "services/supervisord/proc_stat.h"
#include "services/supervisord/stack_paths.h"
#include "services/supervisord/supervisor_service.h"
#include "tests/support/temp_dir.h"

namespace rustiq::supervisord {
namespace {

using ::rustiq::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kCapKill = uint64_t{1} << 5;
constexpr uint64_t kCapSysAdmin = uint64_t{1} << 21;

// A daemon confined as its policy wants: uid 993, nothing more.
sandbox::Posture Confined() {
  sandbox::Posture p;
  p.uid_real = p.uid_effective = p.uid_saved = 993;
  p.gid_real = p.gid_effective = p.gid_saved = 994;
  p.no_new_privs = true;
  p.seccomp_mode = 2;
  p.seccomp_filters = 1;
  p.core_limit = 0;
  p.dumpable = false;
  return p;
}

const ExpectedPosture kExpected{0, 993, "rustiq-keyd"};

TEST(PostureFindings, AConfinedDaemonHasNone) {
  EXPECT_THAT(Findings(Confined(), kExpected), IsEmpty());
}

TEST(PostureFindings, EachWeaknessIsNamed) {
  struct Case {
    void (*weaken)(sandbox::Posture&);
    const char* finding;
  };
  for (const Case& c : {
           Case{[](sandbox::Posture& p) { p.uid_effective = 0; },
                "runs as root"},
           // A saved or real uid of 0 lets the process become root again.
           Case{[](sandbox::Posture& p) { p.uid_saved = 0; }, "runs as root"},
           Case{[](sandbox::Posture& p) { p.uid_real = 0; }, "runs as root"},
           Case{[](sandbox::Posture& p) {
                  p.uid_real = p.uid_effective = p.uid_saved = 992;
                },
                "not as its user rustiq-keyd (uid 993)"},
           Case{[](sandbox::Posture& p) { p.uid_saved = 992; },
                "not as its user rustiq-keyd (uid 993)"},
           Case{[](sandbox::Posture& p) { p.uid_real = 992; },
                "not as its user rustiq-keyd (uid 993)"},
           Case{[](sandbox::Posture& p) { p.groups = {27}; },
                "supplementary groups"},
           Case{[](sandbox::Posture& p) { p.cap_effective = kCapSysAdmin; },
                "effective capabilities not in its policy: cap_sys_admin"},
           Case{[](sandbox::Posture& p) { p.cap_bounding = kCapKill; },
                "bounding capabilities not in its policy: cap_kill"},
           Case{[](sandbox::Posture& p) { p.cap_ambient = kCapKill; },
                "ambient capabilities"},
           Case{[](sandbox::Posture& p) { p.cap_permitted = kCapKill; },
                "permitted capabilities not in its policy: cap_kill"},
           Case{[](sandbox::Posture& p) { p.cap_inheritable = kCapKill; },
                "inheritable capabilities not in its policy: cap_kill"},
           Case{[](sandbox::Posture& p) { p.no_new_privs = false; },
                "NoNewPrivs is off"},
           Case{[](sandbox::Posture& p) { p.seccomp_mode = 0; },
                "seccomp is off"},
           Case{[](sandbox::Posture& p) { p.dumpable = true; }, "dumpable"},
           Case{[](sandbox::Posture& p) { p.core_limit = 4096; },
                "core dumps allowed"},
           Case{[](sandbox::Posture& p) { p.lsm_label = "unconfined"; },
                "AppArmor: unconfined"},
       }) {
    sandbox::Posture p = Confined();
    c.weaken(p);
    std::vector<std::string> found = Findings(p, kExpected);
    ASSERT_EQ(found.size(), 1u)
        << c.finding << ": " << ::testing::PrintToString(found);
    EXPECT_THAT(found[0], HasSubstr(c.finding));
  }
}

TEST(PostureFindings, ACapabilityThePolicyListsIsNoFinding) {
  sandbox::Posture p = Confined();
  p.cap_effective = p.cap_permitted = p.cap_bounding = kCapKill;
  EXPECT_THAT(Findings(p, ExpectedPosture{kCapKill, 993, "x"}), IsEmpty());
  EXPECT_THAT(Findings(p, kExpected), ::testing::SizeIs(3));
}

TEST(PostureFindings, TheStacksPoliciesAllowNoCapability) {
  for (const char* d : {"keyd", "eventd", "authd", "testserver"}) {
    absl::StatusOr<uint64_t> caps = PolicyCapabilities(d);
    ASSERT_TRUE(caps.ok()) << d << ": " << caps.status();
    EXPECT_EQ(*caps, 0u) << d;
  }
}

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

// The API reports /proc figures only of the run the snapshot names: here
// the test process itself, once as itself and once as an earlier process
// that had its pid (another start time).
TEST(PostureReport, FiguresAreOfTheSnapshotsRunOnly) {
  absl::StatusOr<uint64_t> ticks = ReadStartTime(getpid());
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  DaemonSnapshot s;
  s.name = "keyd";
  s.state = State::kRunning;
  s.pid = getpid();
  s.start_ticks = *ticks;
  s.started = absl::Now();

  v1::DaemonStatus same = ToProto(s, /*with_posture=*/true, absl::Now());
  EXPECT_GT(same.rss_bytes(), 0u);
  EXPECT_GT(same.pss_bytes(), 0u);
  EXPECT_EQ(same.posture().uid(), getuid());
  for (const std::string& f : same.posture().findings()) {
    EXPECT_THAT(f, ::testing::Not(HasSubstr("exited while")));
  }

  s.start_ticks = *ticks - 1;  // an earlier process with this pid
  v1::DaemonStatus other = ToProto(s, /*with_posture=*/true, absl::Now());
  EXPECT_EQ(other.pid(), getpid());
  EXPECT_EQ(other.rss_bytes(), 0u);
  EXPECT_EQ(other.pss_bytes(), 0u);
  EXPECT_EQ(other.posture().uid(), 0u);
  EXPECT_THAT(other.posture().findings(),
              ElementsAre("it exited while its posture was being read: ask "
                          "again"));
  v1::DaemonStatus brief = ToProto(s, /*with_posture=*/false, absl::Now());
  EXPECT_EQ(brief.rss_bytes(), 0u);
  EXPECT_FALSE(brief.has_posture());
}

TEST(ProcStat, StartTimeIsCountedFromTheLastParenthesis) {
  // A command name may hold spaces and parentheses ("(sd-pam)", "a) b").
  std::string fields;
  for (int i = 3; i <= 21; ++i) fields += absl::StrCat(" ", i);
  absl::StatusOr<uint64_t> t =
      ParseStartTime(absl::StrCat("42 (a) 9 9 b)", fields, " 123456 7 8\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 123456u);
  EXPECT_FALSE(ParseStartTime("42 no parenthesis 1 2 3").ok());
  EXPECT_FALSE(ParseStartTime(absl::StrCat("42 (x)", fields)).ok());
  EXPECT_FALSE(ParseStartTime(absl::StrCat("42 (x)", fields, " -1")).ok());
}

TEST(StackPaths, RuntimeDirIsTheStacksWithTheStickyBit) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to hand it to a group";
  TempDir tmp("stack_paths_test");
  const std::string run = tmp / "run";
  ASSERT_EQ(mkdir(run.c_str(), 0777), 0);
  ASSERT_TRUE(PrepareRuntimeDir(run, 65534).ok());
  struct stat st = StatOf(run);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 01770u);  // no access for others; sticky
}

TEST(StackPaths, StateDirGoesToTheDaemonWithoutFollowingSymlinks) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  TempDir tmp("stack_paths_test");
  const std::string outside = tmp / "outside";
  { std::ofstream(outside) << "root's"; }
  const std::string dir = tmp / "state/keyd";
  ASSERT_EQ(mkdir((tmp / "state").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/identity").c_str(), 0700), 0);
  { std::ofstream(dir + "/identity/key.pem") << "k"; }
  ASSERT_EQ(symlink(outside.c_str(), (dir + "/link").c_str()), 0);

  ASSERT_TRUE(HandOverStateDir(dir, 65534, 65534).ok());
  EXPECT_EQ(StatOf(dir).st_uid, 65534u);
  EXPECT_EQ(StatOf(dir).st_mode & 07777, 0700u);
  EXPECT_EQ(StatOf(dir + "/identity/key.pem").st_uid, 65534u);
  EXPECT_EQ(StatOf(dir + "/link").st_uid, 65534u);  // the link itself
  EXPECT_EQ(StatOf(outside).st_uid, 0u);            // not what it names

  // A state directory that is itself a symlink (to a directory, which the
  // walk would otherwise enter) is refused.
  const std::string outside_dir = tmp / "outside-dir";
  ASSERT_EQ(mkdir(outside_dir.c_str(), 0755), 0);
  { std::ofstream(outside_dir + "/file") << "root's"; }
  ASSERT_EQ(symlink(outside_dir.c_str(), (tmp / "state/evil").c_str()), 0);
  absl::Status s = HandOverStateDir(tmp / "state/evil", 65534, 65534);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("symlink"));
  EXPECT_EQ(StatOf(outside_dir).st_uid, 0u);
  EXPECT_EQ(StatOf(outside_dir + "/file").st_uid, 0u);
  // A symlink to a directory inside it is not entered either.
  ASSERT_EQ(symlink(outside_dir.c_str(), (dir + "/dirlink").c_str()), 0);
  ASSERT_TRUE(HandOverStateDir(dir, 65534, 65534).ok());
  EXPECT_EQ(StatOf(outside_dir + "/file").st_uid, 0u);
}

// A daemon that planted a hard link to a file of root's in its directory
// (possible where fs.protected_hardlinks is off) does not get that file.
TEST(StackPaths, AHardLinkInTheStateDirIsNotHandedOver) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  TempDir tmp("stack_paths_test");
  const std::string outside = tmp / "shadow";
  { std::ofstream(outside) << "root's secrets"; }
  const std::string dir = tmp / "state/keyd";
  ASSERT_EQ(mkdir((tmp / "state").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  { std::ofstream(dir + "/keys.store") << "k"; }
  ASSERT_EQ(link(outside.c_str(), (dir + "/planted").c_str()), 0);

  ASSERT_TRUE(HandOverStateDir(dir, 65534, 65534).ok());
  EXPECT_EQ(StatOf(outside).st_uid, 0u);
  EXPECT_EQ(StatOf(dir + "/keys.store").st_uid, 65534u);
  EXPECT_EQ(StatOf(dir).st_uid, 65534u);
}

}  // namespace
}  // namespace rustiq::supervisord
