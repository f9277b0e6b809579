// rustiq-keyd: key custody. Thin: the daemon frame (common/daemon), keyd's
// state, its own identity's renewal. The logic is in KeyManager, DeviceCa
// and the services.
//   rustiq-keyd [--config FILE] [--seccomp-complain]
#include <memory>
#include <string>
#include <vector>

#include "common/audit/security_event.h"
#include "common/auth/daemon_tokens.h"
#include "common/daemon/daemon.h"
#include "common/events/event_log_sink.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/client.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/server.h"
#include "policies/keyd/policy_files.h"
#include "policies/keyd/seccomp_policy.h"
#include "services/keyd/certificates_service.h"
#include "services/keyd/keyd_setup.h"
#include "services/keyd/keys_service.h"
#include "services/keyd/local_certificate_source.h"
#include "services/keyd/local_token_key_source.h"
#include "services/keyd/secret_bytes.h"

namespace {

// Private numbers of every key live here: locked, never in a core dump.
constexpr size_t kSecureHeapBytes = 1 << 20;
// How long keyd tries, as it stops, to deliver the events still queued.
constexpr absl::Duration kEventDrain = absl::Seconds(2);

}  // namespace

int main(int argc, char** argv) {
  namespace daemon = rustiq::daemon;
  namespace keyd = rustiq::keyd;
  namespace policies = rustiq::sandbox::policies;
  std::optional<daemon::Flags> flags = daemon::ParseFlags(argc, argv, "keyd");
  if (!flags) return 2;
  if (!keyd::InitSecureHeap(kSecureHeapBytes)) {
    rustiq::log::Warning(
        "OpenSSL's secure heap is unavailable (raise RLIMIT_MEMLOCK, "
        "LimitMEMLOCK= under systemd): keys live in the ordinary heap, "
        "still cleansed after use");
  }
  std::optional<rustiq::config::StackConfig> config = daemon::Begin(*flags);
  if (!config) return 1;

  // Security events go to eventd (and keyd's log); sending starts once
  // keyd is confined, what comes before waits in the sink's queue.
  rustiq::events::EventLogSink sink(
      daemon::EventSinkOptions(*config, flags->name));
  // The store, the master key and a PKCS#11 module are opened before
  // confinement: afterwards keyd can no longer load libraries.
  absl::StatusOr<keyd::Keyd> state =
      keyd::OpenKeyd(*config, &sink, /*provision=*/false);
  if (!state.ok()) {
    rustiq::log::Error("cannot open the key store",
                       {{"error", state.status().message()}});
    return 1;
  }
  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, flags->name);
  // A PKCS#11 module that keeps state in files (SoftHSM2's token directory)
  // needs that directory; hardware tokens need nothing here.
  std::vector<std::string> module_state;
  if (config->keyd.backend == "pkcs11" &&
      !config->keyd.pkcs11_state_dir.empty()) {
    module_state.push_back(config->keyd.pkcs11_state_dir);
  }
  if (!daemon::PrepareAndConfine(
          *config, *flags, options,
          {policies::keyd::kCapabilities, policies::keyd::kLandlockPaths,
           &policies::KeydSeccompPolicy()},
          module_state)) {
    return 1;
  }

  daemon::RecordPreviousViolation(flags->name, sink);
  // Only now, confined, may keyd start threads of its own.
  state->keys->StartBackendWorkers();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> eventd =
      rustiq::rpc::ChannelFactory(
          rustiq::rpc::ClientOptionsForService(*config, flags->name))
          .ForDaemon("eventd");
  if (eventd.ok()) {
    sink.Start(*eventd);
  } else {
    rustiq::log::Warning("security events go to the log only",
                         {{"error", eventd.status().message()}});
  }

  keyd::CertificatesService certificates(state->ca.get(), &sink);
  // People's tokens: keyd reads the token-signing key from its own store and
  // follows revocations from authd like every daemon.
  keyd::LocalTokenKeySource token_keys(state->keys.get());
  absl::StatusOr<std::unique_ptr<rustiq::auth::DaemonTokens>> tokens =
      rustiq::auth::StartDaemonTokens(*config, flags->name, nullptr,
                                      &token_keys);
  if (!tokens.ok()) {
    rustiq::log::Error("cannot follow authd",
                       {{"error", tokens.status().message()}});
    return 1;
  }
  keyd::KeysService keys(
      state->keys.get(),
      state->paths.master_key_is_credential ? "" : state->paths.master_key,
      (*tokens)->verifier());
  auto server = rustiq::rpc::RpcServer::Start(
      options,
      {rustiq::rpc::Serve<rustiq::v1::Keys>(&keys),
       rustiq::rpc::Serve<rustiq::v1::Certificates>(&certificates)},
      &sink, (*tokens)->verifier());
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  rustiq::log::Info("serving", {{"backend", state->keys->backend().name()},
                                {"socket", (*server)->socket_path()}});

  // keyd's own short-lived identity, renewed from the CA it holds.
  keyd::LocalCertificateSource own_ca(state->ca.get());
  std::unique_ptr<rustiq::rpc::IdentityRenewer> renewer =
      daemon::StartIdentityRenewal(*config, flags->name, &own_ca);
  daemon::ServeUntilStopped(**server);
  (*tokens)->Stop();
  if (renewer != nullptr) renewer->Stop();
  state->keys->FlushKeyUses();
  sink.Stop(kEventDrain);
  return 0;
}
