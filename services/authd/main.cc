// rustiq-authd: people's accounts, roles and tokens. Thin: the daemon frame
// (common/daemon), the account store opened before confinement, then the
// token signer (keyd), the revocations, Accounts and its service, and its
// own identity's renewal. The logic is in Accounts.
//   rustiq-authd [--config FILE] [--seccomp-complain]
#include <malloc.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth/daemon_tokens.h"
#include "common/daemon/daemon.h"
#include "common/events/event_log_sink.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/client.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/keyd_certificate_source.h"
#include "common/rpc/server.h"
#include "policies/authd/policy_files.h"
#include "policies/authd/seccomp_policy.h"
#include "services/authd/accounts.h"
#include "services/authd/auth_service.h"
#include "services/authd/authd_setup.h"

namespace {

constexpr absl::Duration kEventDrain = absl::Seconds(2);
constexpr absl::Duration kPruneEvery = absl::Minutes(1);
constexpr int kMmapThresholdBytes = 1 << 20;

}  // namespace

int main(int argc, char** argv) {
  namespace daemon = rustiq::daemon;
  namespace authd = rustiq::authd;
  namespace policies = rustiq::sandbox::policies;
  std::optional<daemon::Flags> flags = daemon::ParseFlags(argc, argv, "authd");
  if (!flags) return 2;
  std::optional<rustiq::config::StackConfig> config = daemon::Begin(*flags);
  if (!config) return 1;

  // Every argon2id hash takes argon2_memory_kib (19 MiB) for a moment. A
  // fixed mmap threshold makes glibc map and unmap that block for each hash
  // instead of keeping it in the heap after the first (glibc raises the
  // threshold past any mapped block that is freed), so an idle authd goes
  // back to its idle size after logins.
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);

  // The store is opened and checked before confinement, so that a damaged
  // one stops authd at once with what is wrong.
  absl::StatusOr<authd::AuthdParts> parts = authd::OpenAuthd(*config);
  if (!parts.ok()) {
    rustiq::log::Error("cannot open the account store",
                       {{"error", parts.status().message()}});
    return 1;
  }
  rustiq::events::EventLogSink sink(
      daemon::EventSinkOptions(*config, flags->name));
  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, flags->name);
  if (!daemon::PrepareAndConfine(
          *config, *flags, options,
          {policies::authd::kCapabilities, policies::authd::kLandlockPaths,
           &policies::AuthdSeccompPolicy()})) {
    return 1;
  }

  // Confined from here on: threads and channels may start.
  daemon::RecordPreviousViolation(flags->name, sink);
  rustiq::rpc::ChannelFactory channels(
      rustiq::rpc::ClientOptionsForService(*config, flags->name));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> keyd =
      channels.ForDaemon("keyd");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> eventd =
      channels.ForDaemon("eventd");
  if (!keyd.ok() || !eventd.ok()) {
    rustiq::log::Error(
        "cannot make channels to keyd and eventd",
        {{"error", (!keyd.ok() ? keyd.status() : eventd.status()).message()}});
    return 1;
  }
  sink.Start(*eventd);

  // authd is the source of revocations: its own verifier hears of each one
  // from the hub directly, never through a stream.
  rustiq::auth::DaemonTokens tokens =
      rustiq::auth::DaemonTokens::ForAuthd(config->device_id, *keyd);
  tokens.Start();
  absl::StatusOr<std::vector<authd::Revocation>> active =
      parts->store->ActiveRevocations(absl::Now());
  if (!active.ok()) {
    rustiq::log::Error("cannot read the revoked tokens",
                       {{"error", active.status().message()}});
    return 1;
  }
  authd::RevocationHub hub(*std::move(active),
                           [&tokens](const std::vector<authd::Revocation>& r) {
                             authd::ApplyRevocations(r, tokens.revocations());
                           });
  authd::KeydTokenSigner signer(*keyd, config->device_id);
  authd::Accounts accounts(parts->store.get(), parts->hasher.get(),
                           parts->throttle.get(),
                           &authd::RoleCatalog::Compiled(), &signer, &hub,
                           &sink, authd::AccountsOptionsFrom(*config));
  if (absl::Status s = accounts.RestoreLockouts(); !s.ok()) {
    rustiq::log::Error("cannot read the account store",
                       {{"error", s.message()}});
    return 1;
  }
  authd::AuthService service(&accounts, &hub, tokens.verifier());
  auto server = rustiq::rpc::RpcServer::Start(
      options, {rustiq::rpc::Serve<rustiq::v1::Auth>(&service)}, &sink,
      tokens.verifier());
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  absl::StatusOr<size_t> users = parts->store->Count();
  rustiq::log::Info("serving", {{"socket", (*server)->socket_path()},
                                {"accounts", users.ok() ? *users : 0}});
  if (users.ok() && *users == 0) {
    rustiq::log::Warning(
        "there is no account: nobody can log in. Create the first admin "
        "with 'rustiqctl provision admin' while authd is stopped");
  }

  // Revocations of tokens past their expiry are dropped: expiry refuses
  // those anyway.
  absl::Notification stopping;
  std::thread pruner([&] {
    while (!stopping.WaitForNotificationWithTimeout(kPruneEvery)) {
      absl::Time now = absl::Now();
      (void)parts->store->PruneExpired(now);
      hub.Prune(now);
    }
  });

  // authd's own short-lived identity, renewed from keyd.
  rustiq::rpc::KeydCertificateSource ca(*keyd);
  std::unique_ptr<rustiq::rpc::IdentityRenewer> renewer =
      daemon::StartIdentityRenewal(*config, flags->name, &ca);
  daemon::ServeUntilStopped(**server, [&hub] { hub.Shutdown(); });
  stopping.Notify();
  pruner.join();
  tokens.Stop();
  if (renewer != nullptr) renewer->Stop();
  sink.Stop(kEventDrain);
  return 0;
}
