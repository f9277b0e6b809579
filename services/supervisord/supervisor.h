// The process table of the stack in standalone mode: starts the configured
// daemons in dependency order, each once those it needs are SERVING;
// watches their health; restarts one that ends (back-off, crash-loop
// limit: restart_policy.h) or stops answering; records why each run ended
// and an event for every start, exit, restart, crash loop and health
// change; and stops them in reverse order. The admin service drives it
// through Restart/Stop/Start and reads it through List.
//
// Threads: a control thread owns every transition (reaping, timers,
// starts, stops); one health thread per daemon probes it and reports back.
// Children are reaped per pid (waitpid on each known child), and with
// `reap_orphans` also any other child (supervisord is a subreaper; a test
// process is not).
#ifndef RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_H_
#define RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_H_

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "services/supervisord/child_process.h"
#include "services/supervisord/exit_reason.h"
#include "services/supervisord/health_probe.h"
#include "services/supervisord/log_relay.h"
#include "services/supervisord/restart_policy.h"

namespace rustiq::supervisord {

enum class State {
  kStopped,
  kWaiting,
  kStarting,
  kRunning,
  kBackoff,
  kStopping,
  kFailed
};
const char* StateName(State state);  // "running", ...

// One daemon as List() reports it.
struct DaemonSnapshot {
  std::string name;
  State state = State::kStopped;
  Health health = Health::kUnknown;
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // the run's /proc/<pid>/stat start time
  absl::Time started = absl::InfinitePast();  // of the current run
  uint32_t restarts = 0;
  std::optional<ExitReason> last_exit;
  absl::Time last_exit_at = absl::InfinitePast();
  absl::Time restart_at = absl::InfinitePast();  // kBackoff
  std::vector<std::string> after;
  std::string user;
  std::optional<uid_t> uid;  // the user it is started as, when switched
  std::vector<std::string> last_log_lines;  // of the last run that ended
};

struct SupervisorOptions {
  config::SupervisordConfig config;
  // The environment every daemon gets ("RUSTIQ_CONFIG=...").
  std::vector<std::string> env;
  bool reap_orphans = false;
  // Where the daemons' sockets are: a stale one is removed before a start.
  std::string runtime_dir;
  // The control thread's longest sleep: without a NotifyChildEvent() for a
  // SIGCHLD (tests, which are no subreaper), children are reaped at this
  // pace. supervisord, woken by every SIGCHLD, sleeps longer when idle.
  absl::Duration max_tick = absl::Milliseconds(50);
  // Startup: how often a STARTING daemon is asked whether it serves.
  absl::Duration start_poll = absl::Milliseconds(10);
};

class Supervisor {
 public:
  // `daemons` in start order (start_order.h), with their ids resolved by
  // the caller (`ids[i]` for `daemons[i]`; nullopt: run as ourselves).
  // `probe`, `sink` and `relay` are not owned and outlive the supervisor.
  struct Daemon {
    config::SupervisedDaemon config;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
  };
  Supervisor(std::vector<Daemon> daemons, SupervisorOptions options,
             HealthProbe* probe, audit::SecurityEventSink* sink,
             LogRelay* relay);
  ~Supervisor();  // Shutdown()
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the threads; every daemon is WAITING and starts as soon as its
  // dependencies serve.
  void Start();
  // Stops every daemon in reverse dependency order (SIGTERM to its process
  // group, SIGKILL after the stop timeout) and returns when all have been
  // reaped.
  void Shutdown();

  // The admin operations; NotFound for an unknown daemon. `actor` is who
  // asked (for the event).
  absl::StatusOr<DaemonSnapshot> Restart(const std::string& name,
                                         const std::string& actor);
  absl::StatusOr<DaemonSnapshot> Stop(const std::string& name,
                                      const std::string& actor);
  absl::StatusOr<DaemonSnapshot> StartDaemon(const std::string& name,
                                             const std::string& actor);

  std::vector<DaemonSnapshot> List() const;
  // Waits until every daemon is RUNNING and SERVING (or `timeout`).
  bool WaitAllServing(absl::Duration timeout) const;
  // A SIGCHLD arrived: reap now rather than at the next tick.
  void NotifyChildEvent();

 private:
  struct Entry;

  void ControlLoop();
  void HealthLoop(Entry* entry);
  // Under mu_.
  void Tick(absl::Time now);
  void ReapLocked(std::unique_lock<std::mutex>& lock);
  void HandleExit(Entry& e, int wait_status, absl::Time now,
                  std::unique_lock<std::mutex>& lock);
  void Launch(Entry& e, absl::Time now);
  // A run that was not asked to end ended (or could not start): stopped,
  // FAILED (crash loop) or restarted after the back-off, by its policy.
  void AfterRunEnded(Entry& e, const ExitReason& reason, absl::Time now);
  // An admin request: the daemon found, the request recorded for `actor`,
  // `apply` run under the lock; the snapshot after it.
  absl::StatusOr<DaemonSnapshot> Request(
      const std::string& name, const std::string& action,
      const std::string& actor, const std::function<void(Entry&)>& apply);
  void KillRun(Entry& e, const std::string& why, absl::Time now);
  void RequestStop(Entry& e, absl::Time now);
  bool DependenciesServe(const Entry& e) const;
  bool DependentsStopped(const Entry& e) const;
  void SetHealth(Entry& e, Health health);
  DaemonSnapshot SnapshotLocked(const Entry& e) const;
  Entry* Find(const std::string& name);
  void Record(const std::string& action, audit::Outcome outcome,
              const std::string& severity, const Entry& e,
              std::vector<std::pair<std::string, std::string>> attributes,
              const std::string& actor = "svc/supervisord");

  const SupervisorOptions options_;
  HealthProbe* const probe_;
  audit::SecurityEventSink* const sink_;
  LogRelay* const relay_;

  mutable std::mutex mu_;
  std::condition_variable wake_;                 // the control thread
  mutable std::condition_variable changed_;      // state changes
  std::vector<std::unique_ptr<Entry>> entries_;  // in start order
  bool started_ = false;
  bool shutting_down_ = false;
  bool stopped_ = false;  // the control thread has finished
  bool child_event_ = false;
  std::thread control_;
  std::vector<std::thread> health_;
};

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_H_
