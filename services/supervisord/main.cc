// rustiq-supervisord: runs the stack in standalone mode. Thin: the daemon
// frame (common/daemon), the daemons of [supervisord.daemons] in start
// order with their users resolved and their directories handed over, its
// own confinement, then the Supervisor, its admin service and the reaping
// of children. The logic is in Supervisor (supervisor.h).
//   rustiq-supervisord [--config FILE]
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/daemon_tokens.h"
#include "common/config/daemons.h"
#include "common/daemon/daemon.h"
#include "common/events/event_log_sink.h"
#include "common/logging/log.h"
#include "common/rpc/client.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/keyd_certificate_source.h"
#include "common/rpc/server.h"
#include "common/sandbox/hardening.h"
#include "common/sandbox/privileges.h"
#include "services/supervisord/child_process.h"
#include "services/supervisord/health_probe.h"
#include "services/supervisord/log_relay.h"
#include "services/supervisord/self_policy.h"
#include "services/supervisord/stack_paths.h"
#include "services/supervisord/start_order.h"
#include "services/supervisord/supervisor.h"
#include "services/supervisord/supervisor_service.h"

namespace {

namespace sv = rustiq::supervisord;
namespace log = rustiq::log;

constexpr absl::Duration kEventDrain = absl::Seconds(2);

// The daemons in start order, each with the ids it runs as. Starting
// daemons as their own users needs root; otherwise they all run as us.
std::optional<std::vector<sv::Supervisor::Daemon>> ResolveDaemons(
    const rustiq::config::StackConfig& config, bool* switch_users,
    std::optional<gid_t>* stack_gid) {
  absl::StatusOr<std::vector<rustiq::config::SupervisedDaemon>> ordered =
      sv::StartOrder(config.supervisord.daemons);
  if (!ordered.ok()) {
    log::Error("bad [supervisord.daemons]",
               {{"error", ordered.status().message()}});
    return std::nullopt;
  }
  if (ordered->empty()) {
    log::Error(
        "no daemon to run: [supervisord.daemons] is empty (rustiqctl "
        "provision device writes it; see docs/supervisord.md)",
        {{"config", config.source_path}});
    return std::nullopt;
  }
  *switch_users = geteuid() == 0;
  std::vector<sv::Supervisor::Daemon> out;
  bool any_user = false;
  for (rustiq::config::SupervisedDaemon& d : *ordered) {
    sv::Supervisor::Daemon daemon{d, std::nullopt, std::nullopt};
    any_user = any_user || !d.user.empty();
    if (*switch_users && !d.user.empty()) {
      absl::StatusOr<rustiq::sandbox::UserAndGroup> ids =
          rustiq::sandbox::ResolveUserAndGroup(d.user, d.group);
      if (!ids.ok()) {
        log::Error(
            "cannot resolve a daemon's user: create the stack's users with "
            "'systemd-sysusers deploy/sysusers.d/rustiq.conf'",
            {{"daemon", d.name}, {"error", ids.status().message()}});
        return std::nullopt;
      }
      daemon.uid = ids->uid;
      daemon.gid = ids->gid;
      if (!stack_gid->has_value()) *stack_gid = ids->gid;
    }
    out.push_back(std::move(daemon));
  }
  if (any_user && !*switch_users) {
    log::Warning(
        "not started as root: every daemon runs as this user, not as its "
        "own",
        {{"uid", geteuid()}});
  }
  return out;
}

// Hands each daemon's state directory to its user and makes the runtime
// directory the stack's; before supervisord drops its capabilities.
bool PrepareFiles(const rustiq::config::StackConfig& config,
                  const std::vector<sv::Supervisor::Daemon>& daemons,
                  std::optional<gid_t> stack_gid) {
  if (!stack_gid.has_value()) return true;
  if (absl::Status s =
          sv::PrepareRuntimeDir(config.paths.runtime_dir, *stack_gid);
      !s.ok()) {
    log::Error("cannot prepare the runtime directory",
               {{"error", s.message()}});
    return false;
  }
  for (const sv::Supervisor::Daemon& d : daemons) {
    if (!d.uid.has_value()) continue;
    const std::string dir =
        absl::StrCat(config.paths.state_dir, "/", d.config.name);
    if (absl::Status s = sv::HandOverStateDir(dir, *d.uid, *d.gid); !s.ok()) {
      log::Error("cannot prepare a daemon's state directory",
                 {{"daemon", d.config.name}, {"error", s.message()}});
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace daemon = rustiq::daemon;
  std::optional<daemon::Flags> flags =
      daemon::ParseFlags(argc, argv, "supervisord");
  if (!flags) return 2;
  std::optional<rustiq::config::StackConfig> config = daemon::Begin(*flags);
  if (!config) return 1;
  // Children are reaped by the control thread, woken from here.
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child, nullptr);

  bool switch_users = false;
  std::optional<gid_t> stack_gid;
  std::optional<std::vector<sv::Supervisor::Daemon>> daemons =
      ResolveDaemons(*config, &switch_users, &stack_gid);
  if (!daemons || !PrepareFiles(*config, *daemons, stack_gid)) return 1;
  if (absl::Status s = sv::BecomeSubreaper(); !s.ok()) {
    log::Error("cannot become the stack's subreaper", {{"error", s.message()}});
    return 1;
  }

  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, flags->name);
  // Its own socket is root's (the CLI's), in the shared directory, which
  // PrepareServerPaths leaves as PrepareFiles made it.
  if (absl::StatusOr<gid_t> gid = rustiq::rpc::PrepareServerPaths(options);
      !gid.ok()) {
    log::Error("cannot prepare the socket directory",
               {{"error", gid.status().message()}});
    return 1;
  }
  // The daemons' sockets are theirs and the stack group's (0660): as root
  // without CAP_DAC_OVERRIDE, supervisord reaches them through that group.
  if (stack_gid.has_value() && setgroups(1, &*stack_gid) != 0) {
    log::Error("cannot join the daemons' group", {{"gid", *stack_gid}});
    return 1;
  }
  if (absl::Status s = sv::ConfineSupervisord(switch_users); !s.ok()) {
    log::Error("cannot confine supervisord", {{"error", s.message()}});
    return 1;
  }

  // Confined from here on: threads and channels may start.
  rustiq::events::EventLogSink sink(
      daemon::EventSinkOptions(*config, flags->name));
  rustiq::rpc::ClientOptions client =
      rustiq::rpc::ClientOptionsForService(*config, flags->name);
  rustiq::rpc::ChannelFactory channels(client);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> keyd =
      channels.ForDaemon("keyd");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> eventd =
      channels.ForDaemon("eventd");
  if (!keyd.ok() || !eventd.ok()) {
    log::Error(
        "cannot make channels to keyd and eventd",
        {{"error", (!keyd.ok() ? keyd.status() : eventd.status()).message()}});
    return 1;
  }
  sink.Start(*eventd);

  sv::LogRelay relay;
  relay.Start();
  sv::GrpcHealthProbe probe(client);
  sv::SupervisorOptions sup;
  sup.config = config->supervisord;
  sup.env = {absl::StrCat("RUSTIQ_CONFIG=", config->source_path),
             "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  sup.reap_orphans = true;
  sup.max_tick = absl::Seconds(1);  // every SIGCHLD wakes it
  sup.runtime_dir = config->paths.runtime_dir;
  sv::Supervisor supervisor(*std::move(daemons), sup, &probe, &sink, &relay);
  const absl::Time started = absl::Now();
  supervisor.Start();

  std::atomic<bool> stopping{false};
  std::thread reaper([&] {
    const struct timespec tick = {0, 200 * 1000 * 1000};
    while (!stopping.load()) {
      if (sigtimedwait(&child, nullptr, &tick) == SIGCHLD) {
        supervisor.NotifyChildEvent();
      }
    }
  });

  // Stops the daemons and the reaper: on a failure below, and at the end.
  auto stop_stack = [&] {
    supervisor.Shutdown();
    stopping = true;
    reaper.join();
  };

  absl::StatusOr<std::unique_ptr<rustiq::auth::DaemonTokens>> tokens =
      rustiq::auth::StartDaemonTokens(*config, flags->name, *keyd);
  if (!tokens.ok()) {
    log::Error("cannot follow authd", {{"error", tokens.status().message()}});
    stop_stack();
    return 1;
  }
  sv::SupervisorService service(
      &supervisor, (*tokens)->verifier(),
      sv::StackInfo{RUSTIQ_VERSION, config->device_id, "standalone", started});
  auto server = rustiq::rpc::RpcServer::Start(
      options, {rustiq::rpc::Serve<rustiq::v1::Supervisor>(&service)}, &sink,
      (*tokens)->verifier());
  if (!server.ok()) {
    log::Error("cannot start", {{"error", server.status().message()}});
    stop_stack();
    return 1;
  }
  log::Info("serving", {{"socket", (*server)->socket_path()},
                        {"daemons", supervisor.List().size()}});

  rustiq::rpc::KeydCertificateSource ca(*keyd);
  std::unique_ptr<rustiq::rpc::IdentityRenewer> renewer =
      daemon::StartIdentityRenewal(*config, flags->name, &ca);
  // The daemons stop (in reverse order) while the admin API still answers.
  daemon::ServeUntilStopped(**server, [&] {
    log::Info("stopping the stack");
    stop_stack();
  });
  (*tokens)->Stop();
  if (renewer != nullptr) renewer->Stop();
  relay.Stop();
  sink.Stop(kEventDrain);
  log::Info("stopped");
  return 0;
}
