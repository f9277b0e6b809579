#include "services/supervisord/supervisor_service.h"

#include "absl/strings/str_cat.h"
#include "common/config/daemons.h"
#include "common/rpc/status.h"
#include "common/sandbox/posture.h"
#include "services/supervisord/posture_report.h"
#include "services/supervisord/proc_memory.h"
#include "services/supervisord/proc_stat.h"

namespace rustiq::supervisord {
namespace {

int64_t UnixMs(absl::Time t) {
  return t == absl::InfinitePast() || t == absl::InfiniteFuture()
             ? 0
             : absl::ToUnixMillis(t);
}

v1::DaemonState StateToProto(State s) {
  switch (s) {
    case State::kStopped:
      return v1::DAEMON_STATE_STOPPED;
    case State::kWaiting:
      return v1::DAEMON_STATE_WAITING;
    case State::kStarting:
      return v1::DAEMON_STATE_STARTING;
    case State::kRunning:
      return v1::DAEMON_STATE_RUNNING;
    case State::kBackoff:
      return v1::DAEMON_STATE_BACKOFF;
    case State::kStopping:
      return v1::DAEMON_STATE_STOPPING;
    case State::kFailed:
      return v1::DAEMON_STATE_FAILED;
  }
  return v1::DAEMON_STATE_UNSPECIFIED;
}

v1::DaemonHealth HealthToProto(Health h) {
  switch (h) {
    case Health::kUnknown:
      return v1::DAEMON_HEALTH_UNKNOWN;
    case Health::kServing:
      return v1::DAEMON_HEALTH_SERVING;
    case Health::kNotServing:
      return v1::DAEMON_HEALTH_NOT_SERVING;
    case Health::kUnreachable:
      return v1::DAEMON_HEALTH_UNREACHABLE;
  }
  return v1::DAEMON_HEALTH_UNSPECIFIED;
}

absl::Status CheckName(const std::string& name) {
  if (absl::Status s = config::ValidateStackName(name); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("name must be a daemon's name: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

v1::DaemonStatus ToProto(const DaemonSnapshot& s, bool with_posture,
                         absl::Time now) {
  v1::DaemonStatus out;
  out.set_name(s.name);
  out.set_state(StateToProto(s.state));
  out.set_health(HealthToProto(s.health));
  out.set_pid(s.pid);
  out.set_restarts(s.restarts);
  out.set_user(s.user);
  for (const std::string& a : s.after) out.add_after(a);
  for (const std::string& l : s.last_log_lines) out.add_last_log_lines(l);
  if (s.state == State::kBackoff) {
    out.set_restart_at_unix_ms(UnixMs(s.restart_at));
  }
  if (s.pid != 0) {
    out.set_started_unix_ms(UnixMs(s.started));
    out.set_uptime_ms(absl::ToInt64Milliseconds(now - s.started));
    if (absl::StatusOr<Memory> m = ReadMemory(s.pid); m.ok()) {
      out.set_rss_bytes(m->rss_bytes);
      out.set_pss_bytes(m->pss_bytes);
    }
    if (with_posture) {
      absl::StatusOr<sandbox::Posture> p = sandbox::ReadPosture(s.pid);
      absl::StatusOr<uint64_t> caps = PolicyCapabilities(s.name);
      if (p.ok()) {
        *out.mutable_posture() = PostureToProto(
            *p, ExpectedPosture{caps.ok() ? *caps : 0, s.uid, s.user});
      } else {
        out.mutable_posture()->add_findings(
            absl::StrCat("cannot read its posture: ", p.status().message()));
      }
    }
    // The snapshot was taken under the supervisor's lock, /proc read after:
    // had the daemon been reaped meanwhile and its pid given to another
    // process, the figures would describe that one. A start time other
    // than the run's (read once the figures are in) means so; the same one
    // means this run was alive through the reading.
    absl::StatusOr<uint64_t> ticks = ReadStartTime(s.pid);
    if (!ticks.ok() || *ticks != s.start_ticks) {
      out.clear_rss_bytes();
      out.clear_pss_bytes();
      if (with_posture) {
        out.clear_posture();
        out.mutable_posture()->add_findings(
            "it exited while its posture was being read: ask again");
      }
    }
  }
  if (s.last_exit.has_value()) {
    v1::ExitReason* r = out.mutable_last_exit();
    r->set_kind(s.last_exit->kind);
    r->set_exit_status(s.last_exit->exit_status);
    r->set_signal(s.last_exit->signal);
    r->set_signal_name(s.last_exit->signal_name);
    r->set_syscall(s.last_exit->syscall);
    r->set_killed_by_supervisor(s.last_exit->killed_by_supervisor);
    r->set_text(s.last_exit->text);
    r->set_at_unix_ms(UnixMs(s.last_exit_at));
  }
  return out;
}

SupervisorService::SupervisorService(Supervisor* supervisor,
                                     rpc::TokenVerifier* tokens, StackInfo info)
    : supervisor_(supervisor), tokens_(tokens), info_(std::move(info)) {}

grpc::Status SupervisorService::ListDaemons(
    grpc::ServerContext* /*context*/, const v1::ListDaemonsRequest* request,
    v1::ListDaemonsResponse* response) {
  absl::Time now = absl::Now();
  for (const DaemonSnapshot& s : supervisor_->List()) {
    *response->add_daemons() = ToProto(s, request->with_posture(), now);
  }
  return grpc::Status::OK;
}

grpc::Status SupervisorService::Act(grpc::ServerContext* context,
                                    const v1::DaemonRequest* request,
                                    Operation operation,
                                    v1::DaemonResponse* response) {
  if (absl::Status s = CheckName(request->name()); !s.ok()) {
    return rpc::ToGrpcStatus(s);
  }
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  absl::StatusOr<DaemonSnapshot> s =
      (supervisor_->*operation)(request->name(), person->Actor());
  if (!s.ok()) return rpc::ToGrpcStatus(s.status());
  *response->mutable_daemon() = ToProto(*s, false, absl::Now());
  return grpc::Status::OK;
}

grpc::Status SupervisorService::RestartDaemon(grpc::ServerContext* context,
                                              const v1::DaemonRequest* request,
                                              v1::DaemonResponse* response) {
  return Act(context, request, &Supervisor::Restart, response);
}

grpc::Status SupervisorService::StopDaemon(grpc::ServerContext* context,
                                           const v1::DaemonRequest* request,
                                           v1::DaemonResponse* response) {
  return Act(context, request, &Supervisor::Stop, response);
}

grpc::Status SupervisorService::StartDaemon(grpc::ServerContext* context,
                                            const v1::DaemonRequest* request,
                                            v1::DaemonResponse* response) {
  return Act(context, request, &Supervisor::StartDaemon, response);
}

grpc::Status SupervisorService::GetStackInfo(
    grpc::ServerContext* /*context*/, const v1::StackInfoRequest* /*request*/,
    v1::StackInfoResponse* response) {
  absl::Time now = absl::Now();
  std::vector<DaemonSnapshot> daemons = supervisor_->List();
  uint32_t serving = 0;
  for (const DaemonSnapshot& d : daemons) {
    if (d.state == State::kRunning && d.health == Health::kServing) ++serving;
  }
  response->set_version(info_.version);
  response->set_device_id(info_.device_id);
  response->set_mode(info_.mode);
  response->set_started_unix_ms(UnixMs(info_.started));
  response->set_uptime_ms(absl::ToInt64Milliseconds(now - info_.started));
  response->set_daemons(static_cast<uint32_t>(daemons.size()));
  response->set_daemons_serving(serving);
  return grpc::Status::OK;
}

}  // namespace rustiq::supervisord
