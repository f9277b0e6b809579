// rustiq-eventd: the tamper-evident event log. Thin: the daemon frame
// (common/daemon), the store opened before confinement, then the log, its
// service, the tree-head signer (keyd) and its own identity's renewal. The
// logic is in EventStore, EventLog and EventLogService.
//   rustiq-eventd [--config FILE] [--seccomp-complain]
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/daemon_tokens.h"
#include "common/daemon/daemon.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/client.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/keyd_certificate_source.h"
#include "common/rpc/server.h"
#include "policies/eventd/policy_files.h"
#include "policies/eventd/seccomp_policy.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_log_service.h"
#include "services/eventd/event_store.h"
#include "services/eventd/journal_writer.h"
#include "services/eventd/own_event_sink.h"

namespace {

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return std::string(absl::StripAsciiWhitespace(id));
}

}  // namespace

int main(int argc, char** argv) {
  namespace daemon = rustiq::daemon;
  namespace eventd = rustiq::eventd;
  namespace policies = rustiq::sandbox::policies;
  std::optional<daemon::Flags> flags = daemon::ParseFlags(argc, argv, "eventd");
  if (!flags) return 2;
  std::optional<rustiq::config::StackConfig> config = daemon::Begin(*flags);
  if (!config) return 1;
  const rustiq::config::EventdConfig& c = config->eventd;

  // The store is opened and checked before confinement, so that a damaged
  // log stops eventd at once with what is wrong.
  const std::string dir = absl::StrCat(config->paths.state_dir, "/eventd");
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
      eventd::EventStore::Open(absl::StrCat(dir, "/events.db"),
                               config->device_id);
  if (!store.ok()) {
    rustiq::log::Error("cannot open the event log",
                       {{"error", store.status().message()}});
    return 1;
  }
  eventd::EventLogOptions log_options;
  log_options.device_id = config->device_id;
  log_options.boot_id = BootId();
  log_options.max_batch_events = c.max_batch_events;
  log_options.sign_every_events = c.sign_every_events;
  log_options.sign_every = absl::Seconds(c.sign_every_seconds);
  log_options.retention_days = c.retention_days;
  log_options.retention_max_events = c.retention_max_events;

  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, flags->name);
  if (!daemon::PrepareAndConfine(
          *config, *flags, options,
          {policies::eventd::kCapabilities, policies::eventd::kLandlockPaths,
           &policies::EventdSeccompPolicy()})) {
    return 1;
  }

  // Confined from here on: threads and channels may start.
  rustiq::rpc::ChannelFactory to_keyd(
      rustiq::rpc::ClientOptionsForService(*config, flags->name));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> keyd =
      to_keyd.ForDaemon("keyd");
  if (!keyd.ok()) {
    rustiq::log::Error("cannot make a channel to keyd",
                       {{"error", keyd.status().message()}});
    return 1;
  }
  eventd::KeydCheckpointSigner signer(*keyd);
  eventd::JournalWriter journal;
  bool use_journal =
      c.journal == "on" || (c.journal == "auto" && eventd::StartedBySystemd());
  absl::StatusOr<std::unique_ptr<eventd::EventLog>> log =
      eventd::EventLog::Open(*std::move(store), log_options, &signer,
                             use_journal ? &journal : nullptr);
  if (!log.ok()) {
    rustiq::log::Error("cannot open the event log",
                       {{"error", log.status().message()}});
    return 1;
  }
  (*log)->Start();
  eventd::OwnEventSink sink;
  sink.set_log(log->get());
  daemon::RecordPreviousViolation(flags->name, sink);

  eventd::EventLogService service(log->get());
  // People's tokens (events.read): the key from keyd, revocations from authd.
  absl::StatusOr<std::unique_ptr<rustiq::auth::DaemonTokens>> tokens =
      rustiq::auth::StartDaemonTokens(*config, flags->name, *keyd);
  if (!tokens.ok()) {
    rustiq::log::Error("cannot follow authd",
                       {{"error", tokens.status().message()}});
    return 1;
  }
  auto server = rustiq::rpc::RpcServer::Start(
      options, {rustiq::rpc::Serve<rustiq::v1::EventLog>(&service)}, &sink,
      (*tokens)->verifier());
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  eventd::EventLog::Head head = (*log)->Current();
  rustiq::log::Info("serving", {{"socket", (*server)->socket_path()},
                                {"events", head.size},
                                {"journal", use_journal ? "on" : "off"}});
  {
    rustiq::v1::EventInput started;
    started.set_category(rustiq::v1::EVENT_CATEGORY_EVENTLOG);
    started.set_action("eventlog.started");
    started.set_outcome(rustiq::v1::EVENT_OUTCOME_SUCCESS);
    started.set_severity(rustiq::v1::EVENT_SEVERITY_INFO);
    auto* a = started.add_attributes();
    a->set_key("size");
    a->set_value(absl::StrCat(head.size));
    (*log)->RecordOwn(std::move(started));
  }

  // eventd's own short-lived identity, renewed from keyd.
  rustiq::rpc::KeydCertificateSource ca(*keyd);
  std::unique_ptr<rustiq::rpc::IdentityRenewer> renewer =
      daemon::StartIdentityRenewal(*config, flags->name, &ca);
  daemon::ServeUntilStopped(**server);
  (*tokens)->Stop();
  if (renewer != nullptr) renewer->Stop();
  // Writes what is pending and signs the final tree head.
  (*log)->Stop();
  return 0;
}
