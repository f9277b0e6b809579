#include "services/supervisord/supervisor.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging/log.h"
#include "services/supervisord/proc_stat.h"

namespace rustiq::supervisord {

const char* StateName(State state) {
  switch (state) {
    case State::kStopped:
      return "stopped";
    case State::kWaiting:
      return "waiting";
    case State::kStarting:
      return "starting";
    case State::kRunning:
      return "running";
    case State::kBackoff:
      return "backoff";
    case State::kStopping:
      return "stopping";
    case State::kFailed:
      return "failed";
  }
  return "?";
}

struct Supervisor::Entry {
  Entry(Daemon daemon, const config::SupervisordConfig& config)
      : d(std::move(daemon)), policy(config) {}
  Daemon d;
  State state = State::kStopped;
  Health health = Health::kUnknown;
  pid_t pid = 0;
  // The run's start time (/proc/<pid>/stat): what tells this process from
  // a later one given the same pid, once this one is reaped.
  uint64_t start_ticks = 0;
  // The run's exit is being collected (pid reaped, logs draining).
  bool exiting = false;
  uint64_t run = 0;  // increments per start; stale health reports differ
  absl::Time started = absl::InfinitePast();
  uint32_t restarts = 0;
  std::optional<ExitReason> last_exit;
  absl::Time last_exit_at = absl::InfinitePast();
  absl::Time restart_at = absl::InfinitePast();
  absl::Time deadline = absl::InfiniteFuture();  // start or stop timeout
  std::string killed_why;  // supervisord killed this run, and why
  bool restart_after_stop = false;
  uint32_t health_failures = 0;
  RestartPolicy policy;
  std::vector<std::string> last_lines;
};

namespace {

int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// How long an exit waits for the rest of the daemon's output.
constexpr int kDrainMs = 1000;

}  // namespace

Supervisor::Supervisor(std::vector<Daemon> daemons, SupervisorOptions options,
                       HealthProbe* probe, audit::SecurityEventSink* sink,
                       LogRelay* relay)
    : options_(std::move(options)), probe_(probe), sink_(sink), relay_(relay) {
  for (Daemon& d : daemons) {
    entries_.push_back(std::make_unique<Entry>(std::move(d), options_.config));
  }
}

Supervisor::~Supervisor() { Shutdown(); }

void Supervisor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& e : entries_) e->state = State::kWaiting;
  control_ = std::thread([this] { ControlLoop(); });
  for (auto& e : entries_) {
    Entry* entry = e.get();
    health_.emplace_back([this, entry] { HealthLoop(entry); });
  }
}

void Supervisor::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) return;
    shutting_down_ = true;
  }
  wake_.notify_all();
  changed_.notify_all();
  if (control_.joinable()) control_.join();
  for (std::thread& t : health_) {
    if (t.joinable()) t.join();
  }
  health_.clear();
}

void Supervisor::NotifyChildEvent() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    child_event_ = true;
  }
  wake_.notify_all();
}

void Supervisor::ControlLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ReapLocked(lock);
    absl::Time now = absl::Now();
    Tick(now);
    bool busy = false;
    absl::Time next = now + options_.max_tick;
    for (const auto& e : entries_) {
      busy = busy || e->pid != 0 || e->exiting;
      if (e->state == State::kBackoff) next = std::min(next, e->restart_at);
      if (e->pid != 0) next = std::min(next, e->deadline);
    }
    if (shutting_down_ && !busy) break;
    if (!child_event_) {
      wake_.wait_for(lock, absl::ToChronoMilliseconds(
                               std::max(next - now, absl::Milliseconds(1))));
    }
    child_event_ = false;
  }
  stopped_ = true;
  changed_.notify_all();
}

void Supervisor::ReapLocked(std::unique_lock<std::mutex>& lock) {
  while (true) {
    int status = 0;
    pid_t pid = 0;
    Entry* entry = nullptr;
    if (options_.reap_orphans) {
      pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      for (auto& e : entries_) {
        if (e->pid == pid) entry = e.get();
      }
      if (entry == nullptr) {
        log::Info("reaped a process that was no daemon (an orphan)",
                  {{"pid", pid}});
        continue;
      }
    } else {
      for (auto& e : entries_) {
        if (e->pid == 0) continue;
        pid_t r = waitpid(e->pid, &status, WNOHANG);
        if (r == e->pid) {
          pid = r;
          entry = e.get();
          break;
        }
      }
      if (entry == nullptr) return;
    }
    HandleExit(*entry, status, absl::Now(), lock);
  }
}

void Supervisor::HandleExit(Entry& e, int wait_status, absl::Time now,
                            std::unique_lock<std::mutex>& lock) {
  const pid_t pid = e.pid;
  e.pid = 0;
  e.exiting = true;
  ++e.run;
  // The rest of its output (a violation line, the why of a failed start)
  // is read without holding the table.
  lock.unlock();
  relay_->WaitClosed(pid, kDrainMs);
  std::vector<std::string> lines = relay_->LastLines(pid);
  std::optional<sandbox::ViolationRecord> violation = relay_->Violation(pid);
  relay_->Forget(pid);
  lock.lock();
  e.exiting = false;
  ExitReason reason = DescribeExit(wait_status, violation, e.killed_why);
  e.last_exit = reason;
  e.last_exit_at = now;
  e.last_lines = std::move(lines);
  e.health = Health::kUnknown;
  e.health_failures = 0;
  const bool asked = e.state == State::kStopping || shutting_down_;
  std::vector<std::pair<std::string, std::string>> attributes = {
      {"pid", absl::StrCat(pid)},
      {"reason", reason.text},
      {"kind", reason.kind},
      {"uptime_ms", absl::StrCat(Millis(now - e.started))}};
  if (reason.kind == "exited") {
    attributes.emplace_back("exit_status", absl::StrCat(reason.exit_status));
  } else {
    attributes.emplace_back("signal", reason.signal_name);
  }
  Record("daemon.exit",
         asked || reason.clean() ? audit::Outcome::kSuccess
                                 : audit::Outcome::kFailure,
         asked || reason.clean() ? "info" : "error", e, attributes);
  if (reason.kind == "sandbox") {
    audit::SecurityEvent v;
    v.category = "sandbox";
    v.action = "sandbox.violation";
    v.outcome = audit::Outcome::kFailure;
    v.severity = "critical";
    v.actor = absl::StrCat("svc/", e.d.config.name);
    v.attributes = {{"syscall", reason.syscall},
                    {"pid", absl::StrCat(pid)},
                    {"recorded", "by supervisord, from the daemon's exit"}};
    if (violation.has_value()) {
      v.attributes.emplace_back("nr", violation->nr);
      v.attributes.emplace_back("arch", violation->arch);
      v.attributes.emplace_back("cause", violation->cause);
    }
    sink_->Record(v);
  }

  if (e.state == State::kStopping && e.restart_after_stop && !shutting_down_) {
    e.restart_after_stop = false;
    e.state = State::kWaiting;
    ++e.restarts;
  } else if (asked) {
    e.state = State::kStopped;
  } else {
    AfterRunEnded(e, reason, now);
  }
  e.killed_why.clear();
  changed_.notify_all();
}

void Supervisor::AfterRunEnded(Entry& e, const ExitReason& reason,
                               absl::Time now) {
  const bool crash_loop = e.policy.RecordExit(e.started, now);
  const std::string& restart = e.d.config.restart;
  if (restart == "never" || (restart == "on-failure" && reason.clean())) {
    e.state = State::kStopped;
  } else if (crash_loop) {
    e.state = State::kFailed;
    Record(
        "daemon.crash_loop", audit::Outcome::kFailure, "critical", e,
        {{"exits", absl::StrCat(e.policy.recent_exits())},
         {"within_seconds", absl::StrCat(options_.config.crash_loop_seconds)},
         {"last_reason", reason.text},
         {"next", "not restarted until a person starts it"}});
    log::Error("daemon is in a crash loop: marked failed, not restarted",
               {{"daemon", e.d.config.name}, {"reason", reason.text}});
  } else {
    absl::Duration delay = e.policy.NextDelay();
    e.state = State::kBackoff;
    e.restart_at = now + delay;
    Record("daemon.restart", audit::Outcome::kSuccess, "warning", e,
           {{"delay_ms", absl::StrCat(Millis(delay))}, {"after", reason.text}});
  }
}

void Supervisor::Tick(absl::Time now) {
  if (shutting_down_) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      Entry& e = **it;
      if (e.state == State::kWaiting || e.state == State::kBackoff) {
        e.state = State::kStopped;
      }
      if (e.pid != 0 && e.state != State::kStopping && DependentsStopped(e)) {
        RequestStop(e, now);
      }
    }
  }
  for (auto& ptr : entries_) {
    Entry& e = *ptr;
    if (e.state == State::kBackoff && now >= e.restart_at) {
      e.state = State::kWaiting;
      ++e.restarts;
    }
    if (e.state == State::kWaiting && !shutting_down_ && DependenciesServe(e)) {
      Launch(e, now);
    }
    if (e.pid != 0 && e.killed_why.empty() && now >= e.deadline) {
      if (e.state == State::kStarting) KillRun(e, "start-timeout", now);
      if (e.state == State::kStopping) KillRun(e, "stop-timeout", now);
    }
  }
}

void Supervisor::Launch(Entry& e, absl::Time now) {
  const config::SupervisedDaemon& c = e.d.config;
  LaunchSpec spec;
  spec.binary = c.binary;
  spec.args = c.args;
  spec.env = options_.env;
  spec.uid = e.d.uid;
  spec.gid = e.d.gid;
  spec.clear_bounding_set = e.d.uid.has_value();
  // A socket left by a run as another user could not be replaced by this
  // one in the sticky runtime directory.
  if (!options_.runtime_dir.empty()) {
    std::string socket =
        absl::StrCat(options_.runtime_dir, "/", c.name, ".sock");
    struct stat st;
    if (lstat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      unlink(socket.c_str());
    }
  }
  absl::StatusOr<Child> child = Spawn(spec);
  e.started = now;
  if (!child.ok()) {
    ExitReason reason;
    reason.kind = "start";
    reason.text = std::string(child.status().message());
    e.last_exit = reason;
    e.last_exit_at = now;
    Record("daemon.start", audit::Outcome::kFailure, "error", e,
           {{"error", reason.text}});
    log::Error("cannot start daemon",
               {{"daemon", c.name}, {"error", reason.text}});
    AfterRunEnded(e, reason, now);
    changed_.notify_all();
    return;
  }
  e.pid = child->pid;
  // Not reaped before this is read: even a child that already exited is a
  // zombie with its /proc/<pid>/stat.
  e.start_ticks = ReadStartTime(child->pid).value_or(0);
  relay_->Add(child->pid, child->output_fd);
  ++e.run;
  e.state = State::kStarting;
  e.health = Health::kUnknown;
  e.health_failures = 0;
  e.killed_why.clear();
  e.deadline = now + absl::Milliseconds(options_.config.start_timeout_ms);
  Record("daemon.start", audit::Outcome::kSuccess, "info", e,
         {{"pid", absl::StrCat(e.pid)},
          {"user", c.user.empty() ? "(supervisord's)" : c.user}});
  changed_.notify_all();
}

void Supervisor::KillRun(Entry& e, const std::string& why, absl::Time now) {
  (void)now;
  e.killed_why = why;
  e.deadline = absl::InfiniteFuture();
  if (e.pid <= 0) return;  // already reaped
  // The whole process group: nothing the daemon started survives it.
  kill(-e.pid, SIGKILL);
  kill(e.pid, SIGKILL);
  Record("daemon.kill", audit::Outcome::kFailure, "warning", e,
         {{"pid", absl::StrCat(e.pid)}, {"why", why}});
  log::Warning("killing daemon", {{"daemon", e.d.config.name}, {"why", why}});
}

void Supervisor::RequestStop(Entry& e, absl::Time now) {
  e.state = State::kStopping;
  e.deadline = now + absl::Milliseconds(options_.config.stop_timeout_ms);
  if (e.pid > 0) kill(-e.pid, SIGTERM);  // 0: being reaped already
  changed_.notify_all();
}

bool Supervisor::DependenciesServe(const Entry& e) const {
  for (const std::string& dep : e.d.config.after) {
    for (const auto& o : entries_) {
      if (o->d.config.name == dep &&
          (o->state != State::kRunning || o->health != Health::kServing)) {
        return false;
      }
    }
  }
  return true;
}

bool Supervisor::DependentsStopped(const Entry& e) const {
  for (const auto& o : entries_) {
    const std::vector<std::string>& after = o->d.config.after;
    if (std::find(after.begin(), after.end(), e.d.config.name) != after.end() &&
        (o->pid != 0 || o->exiting)) {
      return false;
    }
  }
  return true;
}

void Supervisor::HealthLoop(Entry* entry) {
  Entry& e = *entry;
  const absl::Duration timeout =
      absl::Milliseconds(options_.config.health_timeout_ms);
  const absl::Duration interval =
      absl::Milliseconds(options_.config.health_interval_ms);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    if (e.pid == 0 ||
        (e.state != State::kStarting && e.state != State::kRunning) ||
        !e.killed_why.empty()) {
      changed_.wait(lock);
      continue;
    }
    const uint64_t run = e.run;
    const bool starting = e.state == State::kStarting;
    if (!starting) {
      // Sleeps the interval unless the run changes (exit, stop).
      changed_.wait_for(lock, absl::ToChronoMilliseconds(interval),
                        [&] { return stopped_ || e.run != run; });
      if (stopped_ || e.run != run || e.state != State::kRunning) continue;
    }
    const std::string name = e.d.config.name;
    lock.unlock();
    Health h = probe_->Check(name, timeout);
    lock.lock();
    if (e.run != run || !e.killed_why.empty()) continue;
    if (e.state == State::kStarting) {
      if (h == Health::kServing) {
        e.state = State::kRunning;
        e.health = Health::kServing;
        e.deadline = absl::InfiniteFuture();
        Record("daemon.serving", audit::Outcome::kSuccess, "info", e,
               {{"pid", absl::StrCat(e.pid)},
                {"start_ms", absl::StrCat(Millis(absl::Now() - e.started))}});
        changed_.notify_all();
        wake_.notify_all();  // its dependents may start
      } else {
        changed_.wait_for(lock, absl::ToChronoMilliseconds(options_.start_poll),
                          [&] { return stopped_ || e.run != run; });
      }
      continue;
    }
    if (e.state != State::kRunning) continue;
    if (h == Health::kServing) {
      e.health_failures = 0;
      SetHealth(e, h);
      continue;
    }
    ++e.health_failures;
    SetHealth(e, h);
    if (e.health_failures >= options_.config.health_failures) {
      KillRun(e, "health", absl::Now());
      wake_.notify_all();
    }
  }
}

void Supervisor::SetHealth(Entry& e, Health health) {
  if (e.health == health) return;
  Health before = e.health;
  e.health = health;
  Record("daemon.health",
         health == Health::kServing ? audit::Outcome::kSuccess
                                    : audit::Outcome::kFailure,
         health == Health::kServing ? "notice" : "warning", e,
         {{"from", HealthName(before)},
          {"to", HealthName(health)},
          {"failures", absl::StrCat(e.health_failures)}});
  changed_.notify_all();
  wake_.notify_all();
}

Supervisor::Entry* Supervisor::Find(const std::string& name) {
  for (auto& e : entries_) {
    if (e->d.config.name == name) return e.get();
  }
  return nullptr;
}

absl::StatusOr<DaemonSnapshot> Supervisor::Request(
    const std::string& name, const std::string& action,
    const std::string& actor, const std::function<void(Entry&)>& apply) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = Find(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no daemon \"", name, "\" ('rustiqctl status' lists them)"));
  }
  if (shutting_down_) return absl::UnavailableError("supervisord is stopping");
  Record(action, audit::Outcome::kSuccess, "notice", *e,
         {{"state", StateName(e->state)}}, actor);
  apply(*e);
  wake_.notify_all();
  return SnapshotLocked(*e);
}

absl::StatusOr<DaemonSnapshot> Supervisor::Restart(const std::string& name,
                                                   const std::string& actor) {
  return Request(name, "daemon.restart.requested", actor, [this](Entry& e) {
    e.policy.Reset();
    if (e.pid != 0 || e.exiting) {
      e.restart_after_stop = true;
      if (e.state != State::kStopping) RequestStop(e, absl::Now());
    } else {
      e.state = State::kWaiting;
    }
  });
}

absl::StatusOr<DaemonSnapshot> Supervisor::Stop(const std::string& name,
                                                const std::string& actor) {
  return Request(name, "daemon.stop.requested", actor, [this](Entry& e) {
    e.restart_after_stop = false;
    if (e.pid != 0 || e.exiting) {
      if (e.state != State::kStopping) RequestStop(e, absl::Now());
    } else {
      e.state = State::kStopped;
    }
  });
}

absl::StatusOr<DaemonSnapshot> Supervisor::StartDaemon(
    const std::string& name, const std::string& actor) {
  return Request(name, "daemon.start.requested", actor, [](Entry& e) {
    if (e.state == State::kStopped || e.state == State::kFailed ||
        e.state == State::kBackoff) {
      e.policy.Reset();
      e.state = State::kWaiting;
    } else if (e.state == State::kStopping) {
      e.restart_after_stop = true;
    }
  });
}

DaemonSnapshot Supervisor::SnapshotLocked(const Entry& e) const {
  DaemonSnapshot s;
  s.name = e.d.config.name;
  s.state = e.state;
  s.health = e.health;
  s.pid = e.pid;
  s.start_ticks = e.pid != 0 ? e.start_ticks : 0;
  s.started = e.pid != 0 ? e.started : absl::InfinitePast();
  s.restarts = e.restarts;
  s.last_exit = e.last_exit;
  s.last_exit_at = e.last_exit_at;
  s.restart_at = e.restart_at;
  s.after = e.d.config.after;
  s.user = e.d.config.user;
  s.uid = e.d.uid;
  s.last_log_lines = e.last_lines;
  return s;
}

std::vector<DaemonSnapshot> Supervisor::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DaemonSnapshot> out;
  for (const auto& e : entries_) out.push_back(SnapshotLocked(*e));
  return out;
}

bool Supervisor::WaitAllServing(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    return std::all_of(entries_.begin(), entries_.end(), [](const auto& e) {
      return e->state == State::kRunning && e->health == Health::kServing;
    });
  });
}

void Supervisor::Record(
    const std::string& action, audit::Outcome outcome,
    const std::string& severity, const Entry& e,
    std::vector<std::pair<std::string, std::string>> attributes,
    const std::string& actor) {
  audit::SecurityEvent event;
  event.category = actor == "svc/supervisord" ? "supervisor" : "admin";
  event.action = action;
  event.outcome = outcome;
  event.severity = severity;
  event.actor = actor;
  event.attributes = {{"daemon", e.d.config.name}};
  for (auto& a : attributes) event.attributes.push_back(std::move(a));
  sink_->Record(event);
}

}  // namespace rustiq::supervisord
