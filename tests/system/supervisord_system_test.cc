// The real stack under the real supervisor: rustiq-supervisord started on a
// provisioned test device runs rustiq-keyd, rustiq-eventd and rustiq-authd
// (as their own users when the test runs as root and scripts/create-users
// has made them), and the tests check what the kernel says about each
// daemon (/proc), kill them in every way the issue names, and call the
// admin API with and without the right token.
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config/config.h"
#include "common/config/daemons.h"
#include "common/events/event_spool.h"
#include "common/pki/identity_files.h"
#include "common/rpc/client.h"
#include "common/sandbox/posture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rustiq/v1/events.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "rustiq/v1/supervisor.grpc.pb.h"
#include "services/supervisord/proc_stat.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kStack = {"keyd", "eventd", "authd"};

bool StackUsersExist() {
  for (const std::string& d : kStack) {
    if (getpwnam(("rustiq-" + d).c_str()) == nullptr) return false;
  }
  return true;
}

// Every process whose command line or environment names `needle` (the
// device's config path: only this test's stack has it; the daemons get it
// as RUSTIQ_CONFIG).
std::vector<pid_t> ProcessesNaming(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(atoi(entry->d_name));
    if (pid <= 0 || pid == getpid()) continue;
    std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
    std::string cmdline((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
    std::ifstream stat_in(absl::StrCat("/proc/", pid, "/stat"));
    std::string stat((std::istreambuf_iterator<char>(stat_in)),
                     std::istreambuf_iterator<char>());
    // A zombie of ours is not left behind by the stack.
    if (absl::StrContains(stat, ") Z ")) continue;
    std::ifstream env_in(absl::StrCat("/proc/", pid, "/environ"));
    std::string environ((std::istreambuf_iterator<char>(env_in)),
                        std::istreambuf_iterator<char>());
    if (absl::StrContains(cmdline, needle) ||
        absl::StrContains(environ, needle)) {
      out.push_back(pid);
    }
  }
  closedir(proc);
  return out;
}

// Whether `pid` is still the process that started at `start_ticks` (and not
// a zombie, which has left nothing running). /proc/<pid>/stat is readable
// for every process, a non-dumpable one of another user too.
bool StillRuns(pid_t pid, uint64_t start_ticks) {
  absl::StatusOr<std::string> stat =
      supervisord::ReadProcFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return false;
  absl::StatusOr<uint64_t> ticks = supervisord::ParseStartTime(*stat);
  return ticks.ok() && *ticks == start_ticks &&
         !absl::StrContains(*stat, ") Z ");
}

class StackTest : public ::testing::Test {
 protected:
  // `extra` daemons join the stack's three.
  void StartStack(std::vector<config::SupervisedDaemon> extra = {}) {
    as_users_ = geteuid() == 0;
    if (as_users_) {
      ASSERT_TRUE(StackUsersExist())
          << "running as root: create the stack's users first "
             "(scripts/create-users)";
    }
    device_ = std::make_unique<TestDevice>([&](config::StackConfig& c) {
      c.supervisord.health_interval_ms = 200;
      c.supervisord.health_timeout_ms = 500;
      c.supervisord.health_failures = 2;
      c.supervisord.restart_delay_ms = 50;
      c.supervisord.restart_max_delay_ms = 500;
      c.supervisord.crash_loop_exits = 3;
      c.supervisord.crash_loop_seconds = 30;
      c.supervisord.stop_timeout_ms = 3000;
      c.supervisord.daemons =
          config::StackDaemonsConfig(BinaryPath("bin"), as_users_);
      for (auto& d : extra) c.supervisord.daemons.push_back(d);
    });
    // The daemons' users must reach their files under the test root.
    chmod(device_->root().c_str(), 0755);
    supervisord_ = std::make_unique<ServerProcess>(*device_, "supervisord");
    ASSERT_TRUE(supervisord_->WaitServing(absl::Seconds(20)))
        << supervisord_->Log();
    admin_ = device_->PersonToken("admin", {"services.read", "services.manage",
                                            "keys.read", "events.read"});
    ASSERT_TRUE(WaitStackServing(absl::Seconds(20))) << supervisord_->Log();
  }

  void TearDown() override {
    if (supervisord_ != nullptr) supervisord_->Stop();
  }

  std::shared_ptr<grpc::Channel> Channel(
      const std::string& daemon, const std::string& as = "client/rustiqctl") {
    auto channel =
        rpc::ChannelFactory(device_->ClientFor(as)).ForDaemon(daemon);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *channel;
  }

  grpc::Status List(v1::ListDaemonsResponse* out, bool posture = false,
                    const std::string& token = "") {
    auto stub = v1::Supervisor::NewStub(Channel("supervisord"));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization",
                    "Bearer " + (token.empty() ? admin_ : token));
    v1::ListDaemonsRequest req;
    req.set_with_posture(posture);
    return stub->ListDaemons(&ctx, req, out);
  }

  std::map<std::string, v1::DaemonStatus> Daemons(bool posture = false) {
    v1::ListDaemonsResponse resp;
    std::map<std::string, v1::DaemonStatus> out;
    if (!List(&resp, posture).ok()) return out;
    for (const auto& d : resp.daemons()) out[d.name()] = d;
    return out;
  }

  // supervisord and every daemon it reports running, by pid, with their
  // start times: found through the API, so as root and not alike.
  std::map<pid_t, uint64_t> StackProcesses() {
    std::map<pid_t, uint64_t> out;
    std::vector<pid_t> pids = {supervisord_->pid()};
    for (const auto& [name, d] : Daemons()) {
      if (d.pid() != 0) pids.push_back(static_cast<pid_t>(d.pid()));
    }
    for (pid_t pid : pids) {
      absl::StatusOr<uint64_t> ticks = supervisord::ReadStartTime(pid);
      EXPECT_TRUE(ticks.ok()) << ticks.status();
      out[pid] = ticks.value_or(0);
    }
    return out;
  }
  static std::vector<pid_t> StillRunning(
      const std::map<pid_t, uint64_t>& processes) {
    std::vector<pid_t> out;
    for (const auto& [pid, ticks] : processes) {
      if (StillRuns(pid, ticks)) out.push_back(pid);
    }
    return out;
  }

  static bool Serving(const v1::DaemonStatus& d) {
    return d.state() == v1::DAEMON_STATE_RUNNING &&
           d.health() == v1::DAEMON_HEALTH_SERVING;
  }

  bool WaitStackServing(absl::Duration timeout) {
    absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      auto daemons = Daemons();
      bool all = !daemons.empty();
      for (const std::string& d : kStack) {
        all = all && daemons.count(d) && Serving(daemons[d]);
      }
      if (all) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Waits for `pred` on daemon `name`; the last status seen.
  template <typename Pred>
  v1::DaemonStatus WaitFor(const std::string& name, Pred pred,
                           absl::Duration timeout = absl::Seconds(20)) {
    absl::Time until = absl::Now() + timeout;
    v1::DaemonStatus last;
    while (absl::Now() < until) {
      auto daemons = Daemons();
      if (daemons.count(name)) {
        last = daemons[name];
        if (pred(last)) return last;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << name << " never got there; last: " << last.DebugString();
    return last;
  }

  // The supervisor's events about `daemon` with `action`, from eventd.
  int CountEvents(const std::string& action, const std::string& daemon) {
    auto stub = v1::EventLog::NewStub(Channel("eventd"));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_);
    v1::QueryRequest req;
    req.mutable_filter()->add_sources("svc/supervisord");
    req.set_page_size(1000);
    v1::QueryResponse resp;
    if (!stub->Query(&ctx, req, &resp).ok()) return -1;
    int n = 0;
    for (const v1::Event& e : resp.events()) {
      if (e.action() != action) continue;
      for (const auto& a : e.attributes()) {
        if (a.key() == "daemon" && a.value() == daemon) ++n;
      }
    }
    return n;
  }

  bool WaitEvents(const std::string& action, const std::string& daemon,
                  int at_least) {
    absl::Time until = absl::Now() + absl::Seconds(20);
    while (absl::Now() < until) {
      if (CountEvents(action, daemon) >= at_least) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  bool as_users_ = false;
  std::unique_ptr<TestDevice> device_;
  std::unique_ptr<ServerProcess> supervisord_;
  std::string admin_;
};

TEST_F(StackTest, TheWholeStackComesUpConfinedAsTheKernelSeesIt) {
  StartStack();
  auto daemons = Daemons(/*posture=*/true);
  for (const std::string& name : kStack) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(daemons.count(name));
    const v1::DaemonStatus& d = daemons[name];
    EXPECT_TRUE(Serving(d));
    ASSERT_GT(d.pid(), 0);
    EXPECT_GT(d.rss_bytes(), 0u);
    EXPECT_GT(d.pss_bytes(), 0u);
    EXPECT_TRUE(d.posture().findings().empty()) << d.posture().DebugString();
    // From /proc, by the test itself: not the supervisor's nor the
    // daemon's word.
    absl::StatusOr<sandbox::Posture> p = sandbox::ReadPosture(d.pid());
    ASSERT_TRUE(p.ok()) << p.status();
    if (as_users_) {
      struct passwd* pw = getpwnam(("rustiq-" + name).c_str());
      ASSERT_NE(pw, nullptr);
      EXPECT_EQ(p->uid_real, pw->pw_uid);
      EXPECT_EQ(p->uid_effective, pw->pw_uid);
      EXPECT_EQ(p->uid_saved, pw->pw_uid);
      EXPECT_EQ(p->gid_effective, pw->pw_gid);
      EXPECT_TRUE(p->groups.empty());
    }
    EXPECT_EQ(p->cap_effective, 0u);
    EXPECT_EQ(p->cap_permitted, 0u);
    EXPECT_EQ(p->cap_bounding, 0u);
    EXPECT_EQ(p->cap_ambient, 0u);
    EXPECT_TRUE(p->no_new_privs);
    EXPECT_EQ(p->seccomp_mode, 2);
    EXPECT_GE(p->seccomp_filters, 1);
    ASSERT_TRUE(p->core_limit.has_value());
    EXPECT_EQ(*p->core_limit, 0u);
  }
  // Each daemon's own user: no two share one.
  if (as_users_) {
    EXPECT_NE(daemons["keyd"].posture().uid(),
              daemons["eventd"].posture().uid());
    EXPECT_NE(daemons["keyd"].posture().uid(),
              daemons["authd"].posture().uid());
  }
  EXPECT_TRUE(WaitEvents("daemon.serving", "authd", 1));
}

TEST_F(StackTest, EachDaemonKilledIsRestartedAndItsClientsRecover) {
  StartStack();
  for (const std::string& name : kStack) {
    SCOPED_TRACE(name);
    pid_t before = Daemons()[name].pid();
    ASSERT_GT(before, 0);
    ASSERT_EQ(kill(before, SIGKILL), 0);
    v1::DaemonStatus after = WaitFor(name, [&](const v1::DaemonStatus& d) {
      return Serving(d) && d.pid() != before;
    });
    EXPECT_EQ(after.last_exit().signal_name(), "SIGKILL");
    EXPECT_GE(after.restarts(), 1u);
    ASSERT_TRUE(WaitStackServing(absl::Seconds(20)));
    // Its clients recover: keyd answers a person's call (its token checked
    // with authd's key from keyd), eventd records and serves the events.
    {
      auto stub = v1::Keys::NewStub(Channel("keyd"));
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + admin_);
      v1::ListKeysRequest req;
      v1::ListKeysResponse resp;
      grpc::Status s = stub->ListKeys(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    EXPECT_TRUE(WaitEvents("daemon.exit", name, 1));
    EXPECT_TRUE(WaitEvents("daemon.restart", name, 1));
  }
}

TEST_F(StackTest, ADaemonThatExitsAtOnceEndsFailedUntilStarted) {
  config::SupervisedDaemon flaky;
  flaky.name = "flaky";
  flaky.binary = "/bin/sh";
  flaky.args = {"-c", "echo 'flaky: cannot start' >&2; exit 1"};
  StartStack({flaky});
  v1::DaemonStatus failed = WaitFor("flaky", [](const v1::DaemonStatus& d) {
    return d.state() == v1::DAEMON_STATE_FAILED;
  });
  EXPECT_EQ(failed.restarts(), 2u);  // crash_loop_exits = 3 runs
  EXPECT_EQ(failed.last_exit().text(), "exited with status 1");
  ASSERT_GT(failed.last_log_lines_size(), 0);
  EXPECT_THAT(failed.last_log_lines(0), HasSubstr("flaky: cannot start"));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(Daemons()["flaky"].state(), v1::DAEMON_STATE_FAILED);
  EXPECT_EQ(Daemons()["flaky"].restarts(), 2u);
  EXPECT_TRUE(WaitEvents("daemon.crash_loop", "flaky", 1));

  auto stub = v1::Supervisor::NewStub(Channel("supervisord"));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + admin_);
  v1::DaemonRequest req;
  req.set_name("flaky");
  v1::DaemonResponse resp;
  ASSERT_TRUE(stub->StartDaemon(&ctx, req, &resp).ok());
  WaitFor("flaky", [](const v1::DaemonStatus& d) {
    return d.state() == v1::DAEMON_STATE_FAILED && d.restarts() >= 4;
  });
}

TEST_F(StackTest, AStoppedDaemonIsDetectedAndRestarted) {
  StartStack();
  pid_t before = Daemons()["eventd"].pid();
  ASSERT_EQ(kill(before, SIGSTOP), 0);
  v1::DaemonStatus after = WaitFor("eventd", [&](const v1::DaemonStatus& d) {
    return Serving(d) && d.pid() != before;
  });
  EXPECT_EQ(after.last_exit().killed_by_supervisor(), "health");
  EXPECT_EQ(after.last_exit().signal_name(), "SIGKILL");
  EXPECT_TRUE(WaitEvents("daemon.kill", "eventd", 1));
}

TEST_F(StackTest, ASandboxKillIsReportedWithTheSyscallsName) {
  config::SupervisedDaemon violator;
  violator.name = "violator";
  violator.binary = BinaryPath("tests/violator/rustiq-violator");
  violator.restart = "never";
  StartStack();  // the device root is only known now
  supervisord_->Stop();
  // Restart the supervisor with the violator added to the same device.
  violator.args = {"--root", device_->root(), "ptrace"};
  config::StackConfig c = device_->config();
  c.supervisord.daemons.push_back(violator);
  ASSERT_TRUE(pki::WriteFileAtomically(device_->config_path(),
                                       config::RenderConfig(c), 0644)
                  .ok());
  supervisord_ = std::make_unique<ServerProcess>(*device_, "supervisord");
  ASSERT_TRUE(supervisord_->WaitServing(absl::Seconds(20)));
  v1::DaemonStatus v = WaitFor("violator", [](const v1::DaemonStatus& d) {
    return d.last_exit().kind() == "sandbox";
  });
  EXPECT_EQ(v.last_exit().syscall(), "ptrace");
  EXPECT_EQ(v.last_exit().signal_name(), "SIGSYS");
  EXPECT_THAT(v.last_exit().text(), HasSubstr("ptrace"));
  EXPECT_EQ(v.state(), v1::DAEMON_STATE_STOPPED);
}

TEST_F(StackTest, SigtermToTheSupervisorLeavesNoProcessBehind) {
  StartStack();
  std::map<pid_t, uint64_t> stack = StackProcesses();
  ASSERT_EQ(stack.size(), 4u);  // supervisord and its three daemons
  ASSERT_EQ(StillRunning(stack).size(), 4u);
  pid_t pid = supervisord_->pid();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = supervisord_->WaitExit(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status << supervisord_->Log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << supervisord_->Log();
  EXPECT_THAT(StillRunning(stack), ::testing::IsEmpty());
  EXPECT_THAT(ProcessesNaming(device_->config_path()), ::testing::IsEmpty());
}

// eventd stops before keyd (its dependency), so supervisord's record of
// eventd and keyd ending comes after the log has gone: it waits in
// supervisord's spool and reaches the log when the stack runs again.
TEST_F(StackTest, TheEndOfAShutdownIsRecordedAtTheNextStart) {
  StartStack();
  ASSERT_EQ(CountEvents("daemon.exit", "eventd"), 0);
  const std::string spool =
      events::EventSpoolPath(device_->config().paths.state_dir, "supervisord");
  ASSERT_EQ(kill(supervisord_->pid(), SIGTERM), 0);
  int status = supervisord_->WaitExit(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status << supervisord_->Log();
  EXPECT_EQ(access(spool.c_str(), F_OK), 0) << supervisord_->Log();
  EXPECT_THAT(supervisord_->Log(), HasSubstr("kept for the next start"));

  supervisord_ = std::make_unique<ServerProcess>(*device_, "supervisord");
  ASSERT_TRUE(supervisord_->WaitServing(absl::Seconds(20)))
      << supervisord_->Log();
  ASSERT_TRUE(WaitStackServing(absl::Seconds(20))) << supervisord_->Log();
  EXPECT_TRUE(WaitEvents("daemon.exit", "eventd", 1)) << supervisord_->Log();
  EXPECT_TRUE(WaitEvents("daemon.exit", "keyd", 1)) << supervisord_->Log();
  // authd stopped first, while eventd still ran; the sink's batch may
  // still have missed it, and then it was spooled too.
  EXPECT_TRUE(WaitEvents("daemon.exit", "authd", 1));
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (access(spool.c_str(), F_OK) == 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_NE(access(spool.c_str(), F_OK), 0) << "delivered, yet kept";
}

TEST_F(StackTest, SigkillToTheSupervisorLeavesNoProcessBehind) {
  StartStack();
  std::map<pid_t, uint64_t> stack = StackProcesses();
  ASSERT_EQ(stack.size(), 4u);  // supervisord and its three daemons
  ASSERT_EQ(StillRunning(stack).size(), 4u);
  ASSERT_EQ(kill(supervisord_->pid(), SIGKILL), 0);
  supervisord_->WaitExit(absl::Seconds(5));
  absl::Time until = absl::Now() + absl::Seconds(5);
  while (!StillRunning(stack).empty() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(StillRunning(stack), ::testing::IsEmpty());
  EXPECT_THAT(ProcessesNaming(device_->config_path()), ::testing::IsEmpty());
}

TEST_F(StackTest, TheAdminApiRefusesCallersWithoutTheRightToken) {
  StartStack();
  auto stub = v1::Supervisor::NewStub(Channel("supervisord"));
  v1::DaemonRequest req;
  req.set_name("eventd");
  v1::DaemonResponse resp;
  {
    grpc::ClientContext ctx;  // no token at all
    v1::ListDaemonsResponse list;
    grpc::Status s = stub->ListDaemons(&ctx, v1::ListDaemonsRequest(), &list);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;  // may read, not manage
    ctx.AddMetadata("authorization",
                    "Bearer " + device_->PersonToken("bob", {"services.read"}));
    grpc::Status s = stub->RestartDaemon(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(s.error_message(), HasSubstr("services.manage"));
  }
  {
    grpc::ClientContext ctx;  // a token signed by something else
    ctx.AddMetadata("authorization", "Bearer v4.public.bogus");
    grpc::Status s = stub->StopDaemon(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    // The right token from an application that is not the admin CLI.
    auto alice =
        v1::Supervisor::NewStub(Channel("supervisord", "client/alice"));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_);
    grpc::Status s = alice->StopDaemon(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_);
    v1::DaemonRequest bad;
    bad.set_name("../keyd");
    grpc::Status s = stub->StopDaemon(&ctx, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc::ClientContext ctx2;
    ctx2.AddMetadata("authorization", "Bearer " + admin_);
    bad.set_name("nosuchd");
    s = stub->StopDaemon(&ctx2, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // Nothing was stopped by any of it.
  EXPECT_TRUE(Serving(Daemons()["eventd"]));
}

TEST_F(StackTest, TheCliShowsStatusPostureAndControlsServices) {
  StartStack();
  TempDir runtime("rustiq-cli-runtime");
  // The CLI's stored token, where `rustiqctl login` would put it.
  std::filesystem::create_directories(runtime / "rustiq");
  {
    std::ofstream token(runtime / "rustiq/token");
    token << admin_;
  }
  chmod((runtime / "rustiq/token").c_str(), 0600);
  chmod((runtime / "rustiq").c_str(), 0700);
  const std::string env =
      absl::StrCat("XDG_RUNTIME_DIR=", runtime.path(),
                   " RUSTIQ_CONFIG=", device_->config_path());
  CtlRun status = Ctl("status", env);
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  for (const std::string& d : kStack) EXPECT_THAT(status.out, HasSubstr(d));
  EXPECT_THAT(status.out, HasSubstr("serving"));

  CtlRun security = Ctl("status --security", env);
  EXPECT_EQ(security.exit_code, 0) << security.out << security.err;
  EXPECT_THAT(security.out, HasSubstr("filter"));

  CtlRun json = Ctl("--json status", env);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["daemons"].size(), kStack.size());

  pid_t before = Daemons()["authd"].pid();
  CtlRun restart = Ctl("services restart authd", env);
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  WaitFor("authd", [&](const v1::DaemonStatus& d) {
    return Serving(d) && d.pid() != before;
  });
  CtlRun stop = Ctl("services stop authd", env);
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  WaitFor("authd", [](const v1::DaemonStatus& d) {
    return d.state() == v1::DAEMON_STATE_STOPPED;
  });
  CtlRun degraded = Ctl("status", env);
  EXPECT_NE(degraded.exit_code, 0) << degraded.out;
  CtlRun start = Ctl("services start authd", env);
  EXPECT_EQ(start.exit_code, 0) << start.err;
  WaitFor("authd", [](const v1::DaemonStatus& d) { return Serving(d); });
  CtlRun unknown = Ctl("services stop nosuchd", env);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("nosuchd"));
}

}  // namespace
}  // namespace rustiq::testing
