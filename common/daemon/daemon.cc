#include "common/daemon/daemon.h"

#include <malloc.h>
#include <pthread.h>

#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/events/event_spool.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/sandbox/confine.h"
#include "common/sandbox/violation_record.h"

namespace rustiq::daemon {
namespace {

constexpr int kMallocArenas = 2;

sigset_t StopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  return stop;
}

// The violation record of the previous run, from PrepareAndConfine() to
// RecordPreviousViolation() (main thread).
std::optional<sandbox::ViolationRecord>& PreviousViolation() {
  static std::optional<sandbox::ViolationRecord> previous;
  return previous;
}

}  // namespace

std::optional<Flags> ParseFlags(int argc, char** argv, absl::string_view name,
                                bool accept_name) {
  Flags flags;
  flags.name = std::string(name);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      flags.config_path = argv[++i];
    } else if (accept_name && arg == "--name" && i + 1 < argc) {
      flags.name = argv[++i];
    } else if (arg == "--seccomp-complain") {
      flags.seccomp_complain = true;
    } else {
      fprintf(stderr,
              "usage: rustiq-%s [--config FILE]%s [--seccomp-complain]\n",
              std::string(name).c_str(), accept_name ? " [--name NAME]" : "");
      return std::nullopt;
    }
  }
  return flags;
}

std::optional<config::StackConfig> Begin(const Flags& flags) {
  // glibc gives threads up to 8 malloc arenas per core, each keeping the
  // memory freed in it; a daemon's few busy threads need no more than two.
  mallopt(M_ARENA_MAX, kMallocArenas);
  log::SetDaemonName(flags.name);
  absl::StatusOr<config::StackConfig> config =
      config::LoadConfig(config::ResolveConfigPath(flags.config_path));
  if (!config.ok()) {
    log::Error("cannot load configuration",
               {{"error", config.status().message()}});
    return std::nullopt;
  }
  log::Level level;
  if (log::ParseLevel(config->log.level, &level)) log::SetMinLevel(level);
  sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return *std::move(config);
}

bool PrepareAndConfine(const config::StackConfig& config, const Flags& flags,
                       const rpc::ServerOptions& options, const Policy& policy,
                       const std::vector<std::string>& extra_read_write) {
  // Confinement comes before the server starts any thread; what it needs
  // from the system is resolved and created first.
  if (absl::StatusOr<gid_t> gid = rpc::PrepareServerPaths(options); !gid.ok()) {
    log::Error("cannot prepare the socket directory",
               {{"error", gid.status().message()}});
    return false;
  }
  absl::StatusOr<sandbox::ConfinementSpec> spec = sandbox::SpecFromPolicy(
      flags.name, policy.capabilities, policy.landlock_paths,
      {config.paths.config_dir, config.paths.state_dir,
       config.paths.runtime_dir, flags.name},
      *policy.seccomp);
  if (!spec.ok()) {
    log::Error("bad compiled-in policy", {{"error", spec.status().message()}});
    return false;
  }
  for (const std::string& path : extra_read_write) {
    spec->landlock.read_write.push_back(path);
  }
  spec->complain = flags.seccomp_complain;
  // What a violation left last time, then the file for the next one.
  const std::string record =
      sandbox::ViolationRecordPath(config.paths.state_dir, flags.name);
  absl::StatusOr<std::optional<sandbox::ViolationRecord>> previous =
      sandbox::TakeViolationRecord(record);
  if (!previous.ok()) {
    log::Warning("cannot read the last sandbox violation record",
                 {{"error", previous.status().message()}});
  } else if (previous->has_value()) {
    log::Error(
        "the previous run was killed for a sandbox violation",
        {{"syscall", (*previous)->syscall}, {"cause", (*previous)->cause}});
    PreviousViolation() = *previous;
  }
  spec->violation_record_path = record;
  sandbox::ConfineOrDie(*spec);
  return true;
}

events::EventLogSinkOptions EventSinkOptions(const config::StackConfig& config,
                                             absl::string_view daemon) {
  events::EventLogSinkOptions options;
  options.spool_path = events::EventSpoolPath(config.paths.state_dir, daemon);
  return options;
}

void RecordPreviousViolation(absl::string_view daemon,
                             audit::SecurityEventSink& sink) {
  std::optional<sandbox::ViolationRecord>& previous = PreviousViolation();
  if (!previous.has_value()) return;
  audit::SecurityEvent e;
  e.category = "sandbox";
  e.action = "sandbox.violation";
  e.outcome = audit::Outcome::kFailure;
  e.severity = "critical";
  e.actor = absl::StrCat("svc/", daemon);
  e.attributes = {{"syscall", previous->syscall},
                  {"nr", previous->nr},
                  {"arch", previous->arch},
                  {"cause", previous->cause},
                  {"recorded", "at the next start"}};
  sink.Record(e);
  previous.reset();
}

std::unique_ptr<rpc::IdentityRenewer> StartIdentityRenewal(
    const config::StackConfig& config, absl::string_view daemon,
    rpc::CertificateSource* ca) {
  absl::StatusOr<identity::SpiffeId> self =
      identity::SpiffeId::ForService(config.device_id, daemon);
  if (!self.ok()) {
    log::Error("cannot renew this daemon's identity",
               {{"error", self.status().message()}});
    return nullptr;
  }
  rpc::RenewalPolicy policy;
  policy.renew_after_fraction = config.rpc.identity_renewal_percent / 100.0;
  auto renewer = std::make_unique<rpc::IdentityRenewer>(
      pki::ForService(config.paths.state_dir, daemon), *self, ca, policy);
  renewer->Start();
  return renewer;
}

void ServeUntilStopped(rpc::RpcServer& server,
                       const std::function<void()>& before_shutdown) {
  std::thread waiter([&server, &before_shutdown] {
    sigset_t stop = StopSignals();
    int sig = 0;
    sigwait(&stop, &sig);
    log::Info("stopping", {{"signal", sig}});
    if (before_shutdown) before_shutdown();
    server.Shutdown(absl::Seconds(2));
  });
  server.Wait();
  waiter.join();
}

}  // namespace rustiq::daemon
