// The supervisor's state machine with real child processes (sh, sleep) and
// a health probe the test controls: dependency order, restart with
// back-off, crash loop, health kills, stop, start and reverse-order
// shutdown. The real daemons under the real supervisor are the system
// tests' (tests/system).
#include "services/supervisord/supervisor.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/supervisord/restart_policy.h"
#include "services/supervisord/start_order.h"

namespace rustiq::supervisord {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Serving unless told otherwise, per daemon.
class FakeProbe final : public HealthProbe {
 public:
  Health Check(const std::string& daemon, absl::Duration timeout) override {
    Health h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = health_.find(daemon);
      h = it == health_.end() ? Health::kServing : it->second;
      if (h != Health::kServing) ++failures_[daemon];
    }
    if (h == Health::kUnreachable)
      absl::SleepFor(std::min(timeout, absl::Milliseconds(20)));
    return h;
  }
  void Set(const std::string& daemon, Health h) {
    std::lock_guard<std::mutex> lock(mu_);
    health_[daemon] = h;
  }
  // How many checks of `daemon` answered anything but SERVING.
  int Failures(const std::string& daemon) {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_[daemon];
  }

 private:
  std::mutex mu_;
  std::map<std::string, Health> health_;
  std::map<std::string, int> failures_;
};

class CapturingSink final : public audit::SecurityEventSink {
 public:
  void Record(const audit::SecurityEvent& e) override {
    std::function<void(const audit::SecurityEvent&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::string daemon;
      for (const auto& [k, v] : e.attributes) {
        if (k == "daemon") daemon = v;
      }
      events_.push_back(e.action + ":" + daemon);
      all_.push_back(e);
      hook = on_record_;
    }
    if (hook) hook(e);
  }
  // `hook` runs inside Record: it sees the world as the event is recorded.
  void OnRecord(std::function<void(const audit::SecurityEvent&)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_record_ = std::move(hook);
  }
  std::vector<std::string> Actions() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::vector<audit::SecurityEvent> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return all_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
  std::vector<audit::SecurityEvent> all_;
  std::function<void(const audit::SecurityEvent&)> on_record_;
};

// Processes of process group `pgid` that are not zombies (an orphan killed
// with its group is reaped by whoever adopted it, maybe never in a
// container without an init).
int LiveInGroup(pid_t pgid) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    if (!isdigit(entry.path().filename().string()[0])) continue;
    std::ifstream in(entry.path() / "stat");
    if (!in) continue;
    std::string stat((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != "Z") ++n;
  }
  return n;
}

config::SupervisedDaemon Shell(const std::string& name,
                               const std::string& script,
                               std::vector<std::string> after = {}) {
  config::SupervisedDaemon d;
  d.name = name;
  d.binary = "/bin/sh";
  d.args = {"-c", script};
  d.after = std::move(after);
  return d;
}

config::SupervisordConfig FastConfig() {
  config::SupervisordConfig c;
  c.health_interval_ms = 20;
  c.health_timeout_ms = 50;
  c.health_failures = 2;
  c.start_timeout_ms = 5000;
  c.stop_timeout_ms = 2000;
  c.restart_delay_ms = 10;
  c.restart_max_delay_ms = 40;
  c.crash_loop_exits = 3;
  c.crash_loop_seconds = 60;
  return c;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void Make(std::vector<config::SupervisedDaemon> daemons,
            config::SupervisordConfig c = FastConfig()) {
    std::vector<Supervisor::Daemon> list;
    for (auto& d : daemons) list.push_back({d, std::nullopt, std::nullopt});
    SupervisorOptions options;
    options.config = c;
    options.env = {"PATH=/usr/bin:/bin"};
    relay_.Start();
    supervisor_ = std::make_unique<Supervisor>(std::move(list), options,
                                               &probe_, &sink_, &relay_);
    supervisor_->Start();
  }
  void TearDown() override {
    if (supervisor_ != nullptr) supervisor_->Shutdown();
    relay_.Stop();
  }

  DaemonSnapshot Get(const std::string& name) {
    for (const DaemonSnapshot& s : supervisor_->List()) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no daemon " << name;
    return {};
  }
  // Polls until `pred` holds for the daemon (10 s at most).
  template <typename Pred>
  DaemonSnapshot WaitFor(const std::string& name, Pred pred) {
    absl::Time until = absl::Now() + absl::Seconds(10);
    DaemonSnapshot s = Get(name);
    while (!pred(s) && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(5));
      s = Get(name);
    }
    EXPECT_TRUE(pred(s)) << name << " is " << StateName(s.state);
    return s;
  }
  static bool Serving(const DaemonSnapshot& s) {
    return s.state == State::kRunning && s.health == Health::kServing;
  }

  FakeProbe probe_;
  CapturingSink sink_;
  LogRelay relay_{/*out_fd=*/2};
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, StartsADaemonOnlyOnceItsDependenciesServe) {
  probe_.Set("a", Health::kNotServing);
  Make({Shell("a", "exec sleep 100"), Shell("b", "exec sleep 100", {"a"})});
  WaitFor("a", [](const DaemonSnapshot& s) {
    return s.state == State::kStarting && s.pid != 0;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(Get("b").state, State::kWaiting);
  EXPECT_EQ(Get("b").pid, 0);
  probe_.Set("a", Health::kServing);
  WaitFor("b", Serving);
  EXPECT_TRUE(supervisor_->WaitAllServing(absl::Seconds(5)));
}

TEST_F(SupervisorTest, RestartsADaemonThatIsKilledAndSaysWhy) {
  Make({Shell("a", "exec sleep 100")});
  DaemonSnapshot first = WaitFor("a", Serving);
  ASSERT_GT(first.pid, 0);
  ASSERT_EQ(kill(first.pid, SIGKILL), 0);
  DaemonSnapshot again = WaitFor("a", [&](const DaemonSnapshot& s) {
    return Serving(s) && s.pid != first.pid;
  });
  EXPECT_EQ(again.restarts, 1u);
  ASSERT_TRUE(again.last_exit.has_value());
  EXPECT_EQ(again.last_exit->kind, "signaled");
  EXPECT_EQ(again.last_exit->signal_name, "SIGKILL");
  std::vector<std::string> actions = sink_.Actions();
  EXPECT_NE(std::find(actions.begin(), actions.end(), "daemon.exit:a"),
            actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "daemon.restart:a"),
            actions.end());
}

TEST_F(SupervisorTest, ACrashLoopEndsFailedAndStaysDownUntilStarted) {
  Make({Shell("a", "echo 'cannot open the store' >&2; exit 3")});
  DaemonSnapshot failed = WaitFor(
      "a", [](const DaemonSnapshot& s) { return s.state == State::kFailed; });
  EXPECT_EQ(failed.restarts, 2u);  // three runs: the first and two restarts
  ASSERT_TRUE(failed.last_exit.has_value());
  EXPECT_EQ(failed.last_exit->text, "exited with status 3");
  EXPECT_THAT(failed.last_log_lines,
              ElementsAre(HasSubstr("cannot open the store")));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Get("a").state, State::kFailed);
  EXPECT_EQ(Get("a").restarts, 2u);
  std::vector<std::string> actions = sink_.Actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "daemon.crash_loop:a"),
            1);

  ASSERT_TRUE(supervisor_->StartDaemon("a", "user/admin").ok());
  WaitFor("a", [](const DaemonSnapshot& s) {
    return s.state == State::kFailed && s.restarts >= 4;
  });
  actions = sink_.Actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "daemon.crash_loop:a"),
            2);
}

TEST_F(SupervisorTest, ADaemonThatStopsAnsweringIsKilledAndRestarted) {
  Make({Shell("a", "exec sleep 100")});
  DaemonSnapshot first = WaitFor("a", Serving);
  // Killed at the configured number of failed checks in a row, not later.
  std::atomic<int> failures_at_kill{-1};
  sink_.OnRecord([&](const audit::SecurityEvent& e) {
    if (e.action == "daemon.kill") failures_at_kill = probe_.Failures("a");
  });
  probe_.Set("a", Health::kUnreachable);
  DaemonSnapshot killed = WaitFor("a", [&](const DaemonSnapshot& s) {
    return s.pid != first.pid && s.last_exit.has_value();
  });
  sink_.OnRecord(nullptr);
  EXPECT_EQ(failures_at_kill.load(),
            static_cast<int>(FastConfig().health_failures));
  EXPECT_EQ(killed.last_exit->killed_by_supervisor, "health");
  EXPECT_THAT(killed.last_exit->text, HasSubstr("SIGKILL"));
  probe_.Set("a", Health::kServing);
  WaitFor("a", Serving);
  std::vector<std::string> actions = sink_.Actions();
  EXPECT_NE(std::find(actions.begin(), actions.end(), "daemon.health:a"),
            actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "daemon.kill:a"),
            actions.end());
}

TEST_F(SupervisorTest, AStartThatNeverServesIsKilledAtTheTimeout) {
  config::SupervisordConfig c = FastConfig();
  c.start_timeout_ms = 200;
  probe_.Set("a", Health::kNotServing);
  Make({Shell("a", "exec sleep 100")}, c);
  DaemonSnapshot s = WaitFor(
      "a", [](const DaemonSnapshot& d) { return d.last_exit.has_value(); });
  EXPECT_EQ(s.last_exit->killed_by_supervisor, "start-timeout");
}

TEST_F(SupervisorTest, StopKeepsADaemonDownAndStartBringsItBack) {
  Make({Shell("a", "exec sleep 100")});
  DaemonSnapshot first = WaitFor("a", Serving);
  ASSERT_TRUE(supervisor_->Stop("a", "user/admin").ok());
  DaemonSnapshot stopped = WaitFor(
      "a", [](const DaemonSnapshot& s) { return s.state == State::kStopped; });
  EXPECT_EQ(stopped.pid, 0);
  EXPECT_EQ(stopped.last_exit->signal_name, "SIGTERM");
  EXPECT_EQ(kill(first.pid, 0), -1);  // gone, and reaped
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Get("a").state, State::kStopped);
  ASSERT_TRUE(supervisor_->StartDaemon("a", "user/admin").ok());
  WaitFor("a", Serving);
  EXPECT_TRUE(absl::IsNotFound(supervisor_->Stop("nope", "user/x").status()));
}

TEST_F(SupervisorTest, RestartReplacesTheProcess) {
  Make({Shell("a", "exec sleep 100")});
  DaemonSnapshot first = WaitFor("a", Serving);
  ASSERT_TRUE(supervisor_->Restart("a", "user/admin").ok());
  DaemonSnapshot second = WaitFor("a", [&](const DaemonSnapshot& s) {
    return Serving(s) && s.pid != first.pid;
  });
  EXPECT_EQ(second.restarts, 1u);
  std::vector<audit::SecurityEvent> events = sink_.All();
  auto it = std::find_if(events.begin(), events.end(), [](const auto& e) {
    return e.action == "daemon.restart.requested";
  });
  ASSERT_NE(it, events.end());
  EXPECT_EQ(it->actor, "user/admin");
  EXPECT_EQ(it->category, "admin");
}

TEST_F(SupervisorTest, ShutdownStopsDependentsFirstAndKillsTheStubborn) {
  config::SupervisordConfig c = FastConfig();
  c.stop_timeout_ms = 300;
  // b ignores SIGTERM: it is killed at the stop timeout.
  Make({Shell("a", "exec sleep 100"),
        Shell("b", "trap '' TERM; while :; do sleep 0.05; done", {"a"})},
       c);
  ASSERT_TRUE(supervisor_->WaitAllServing(absl::Seconds(10)));
  // The fake probe says "serving" at once: give the shell time to set its
  // trap before the stop.
  absl::SleepFor(absl::Milliseconds(300));
  pid_t a = Get("a").pid, b = Get("b").pid;
  supervisor_->Shutdown();
  EXPECT_EQ(kill(a, 0), -1);
  EXPECT_EQ(kill(b, 0), -1);
  EXPECT_EQ(LiveInGroup(b), 0);  // nothing of its process group is left
  std::vector<std::string> actions = sink_.Actions();
  auto exit_a = std::find(actions.begin(), actions.end(), "daemon.exit:a");
  auto exit_b = std::find(actions.begin(), actions.end(), "daemon.exit:b");
  ASSERT_NE(exit_a, actions.end());
  ASSERT_NE(exit_b, actions.end());
  EXPECT_LT(exit_b, exit_a);
  for (const DaemonSnapshot& s : supervisor_->List()) {
    EXPECT_EQ(s.state, State::kStopped) << s.name;
  }
  EXPECT_EQ(Get("b").last_exit->killed_by_supervisor, "stop-timeout");
}

TEST_F(SupervisorTest, NeverAndOnFailurePoliciesAreHonoured) {
  config::SupervisedDaemon once = Shell("once", "exit 0");
  once.restart = "on-failure";
  config::SupervisedDaemon never = Shell("never", "exit 5");
  never.restart = "never";
  // on-failure does restart a failure (so "once" staying down means
  // something).
  config::SupervisedDaemon fails = Shell("fails", "exit 1");
  fails.restart = "on-failure";
  Make({once, never, fails});
  WaitFor("fails", [](const DaemonSnapshot& s) { return s.restarts >= 1; });
  WaitFor("once", [](const DaemonSnapshot& s) {
    return s.state == State::kStopped && s.last_exit.has_value();
  });
  WaitFor("never", [](const DaemonSnapshot& s) {
    return s.state == State::kStopped && s.last_exit.has_value();
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(Get("once").restarts, 0u);
  EXPECT_EQ(Get("never").restarts, 0u);
}

TEST_F(SupervisorTest, AMissingBinaryIsAFailedStartNotACrash) {
  config::SupervisedDaemon d;
  d.name = "ghost";
  d.binary = "/nonexistent/rustiq-ghost";
  Make({d});
  DaemonSnapshot s = WaitFor("ghost", [](const DaemonSnapshot& ghost) {
    return ghost.state == State::kFailed;
  });
  ASSERT_TRUE(s.last_exit.has_value());
  EXPECT_THAT(s.last_exit->text, HasSubstr("/nonexistent/rustiq-ghost"));
}

TEST(RestartPolicy, DoublesUpToTheCapWithJitterAndDetectsLoops) {
  config::SupervisordConfig c;
  c.restart_delay_ms = 100;
  c.restart_max_delay_ms = 800;
  c.crash_loop_exits = 5;
  c.crash_loop_seconds = 60;
  RestartPolicy p(c);
  absl::Time t = absl::FromUnixSeconds(1000);
  const std::vector<int64_t> base = {100, 200, 400, 800, 800};
  for (size_t i = 0; i < base.size(); ++i) {
    bool loop = p.RecordExit(t, t + absl::Seconds(1));
    EXPECT_EQ(loop, i == 4) << i;
    int64_t d = absl::ToInt64Milliseconds(p.NextDelay());
    EXPECT_GE(d, base[i]) << i;
    EXPECT_LE(d, base[i] * 5 / 4) << i;
    t += absl::Seconds(1);
  }
  // Exits spread beyond the window are no loop; a long run resets the delay.
  RestartPolicy q(c);
  absl::Time now = absl::FromUnixSeconds(5000);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(q.RecordExit(now - absl::Seconds(61), now));
    EXPECT_LE(absl::ToInt64Milliseconds(q.NextDelay()), 125);
    now += absl::Seconds(61);
  }
}

TEST(StartOrder, PutsDependenciesFirstAndRefusesCycles) {
  auto d = [](std::string name, std::vector<std::string> after) {
    config::SupervisedDaemon s;
    s.name = std::move(name);
    s.binary = "/b";
    s.after = std::move(after);
    return s;
  };
  auto order = StartOrder({d("authd", {"keyd", "eventd"}), d("zeta", {}),
                           d("eventd", {"keyd"}), d("keyd", {})});
  ASSERT_TRUE(order.ok()) << order.status();
  std::vector<std::string> names;
  for (const auto& s : *order) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("keyd", "eventd", "authd", "zeta"));

  auto cycle = StartOrder(
      {d("keyd", {"authd"}), d("eventd", {"keyd"}), d("authd", {"eventd"})});
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(cycle.status().message(), HasSubstr("cycle"));
  EXPECT_THAT(cycle.status().message(), HasSubstr("keyd -> authd"));
  EXPECT_FALSE(StartOrder({d("a", {"missing"})}).ok());
  EXPECT_FALSE(StartOrder({d("a", {}), d("a", {})}).ok());
}

}  // namespace
}  // namespace rustiq::supervisord
