// rustiq-keyd: key custody. Thin: configuration, keyd's state, confinement,
// the server, signals. The logic is in KeyManager, DeviceCa and the services.
//   rustiq-keyd [--config FILE] [--seccomp-complain]
#include <signal.h>

#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/server.h"
#include "common/sandbox/confine.h"
#include "policies/keyd/policy_files.h"
#include "policies/keyd/seccomp_policy.h"
#include "services/keyd/certificates_service.h"
#include "services/keyd/keyd_setup.h"
#include "services/keyd/keys_service.h"
#include "services/keyd/local_certificate_source.h"
#include "services/keyd/secret_bytes.h"

namespace {

constexpr char kDaemon[] = "keyd";
// Private numbers of every key live here: locked, never in a core dump.
constexpr size_t kSecureHeapBytes = 1 << 20;

int Run(int argc, char** argv) {
  std::string config_flag;
  bool complain = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_flag = argv[++i];
    } else if (arg == "--seccomp-complain") {
      complain = true;
    } else {
      fprintf(stderr,
              "usage: rustiq-keyd [--config FILE] [--seccomp-complain]\n");
      return 2;
    }
  }
  rustiq::log::SetDaemonName(kDaemon);
  if (!rustiq::keyd::InitSecureHeap(kSecureHeapBytes)) {
    rustiq::log::Warning(
        "OpenSSL's secure heap is unavailable (raise RLIMIT_MEMLOCK, "
        "LimitMEMLOCK= under systemd): keys live in the ordinary heap, "
        "still cleansed after use");
  }
  absl::StatusOr<rustiq::config::StackConfig> config =
      rustiq::config::LoadConfig(
          rustiq::config::ResolveConfigPath(config_flag));
  if (!config.ok()) {
    rustiq::log::Error("cannot load configuration",
                       {{"error", config.status().message()}});
    return 1;
  }
  rustiq::log::Level level;
  if (rustiq::log::ParseLevel(config->log.level, &level)) {
    rustiq::log::SetMinLevel(level);
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  rustiq::audit::LogSecurityEventSink sink;
  // The store, the master key and a PKCS#11 module are opened before
  // confinement: afterwards keyd can no longer load libraries.
  absl::StatusOr<rustiq::keyd::Keyd> keyd =
      rustiq::keyd::OpenKeyd(*config, &sink, /*provision=*/false);
  if (!keyd.ok()) {
    rustiq::log::Error("cannot open the key store",
                       {{"error", keyd.status().message()}});
    return 1;
  }
  rustiq::rpc::ServerOptions options =
      rustiq::rpc::ServerOptionsFromConfig(*config, kDaemon);
  if (absl::StatusOr<gid_t> gid = rustiq::rpc::PrepareServerPaths(options);
      !gid.ok()) {
    rustiq::log::Error("cannot prepare the socket directory",
                       {{"error", gid.status().message()}});
    return 1;
  }
  namespace policies = rustiq::sandbox::policies;
  absl::StatusOr<rustiq::sandbox::ConfinementSpec> spec =
      rustiq::sandbox::SpecFromPolicy(
          kDaemon, policies::keyd::kCapabilities,
          policies::keyd::kLandlockPaths,
          {config->paths.config_dir, config->paths.state_dir,
           config->paths.runtime_dir, kDaemon},
          policies::KeydSeccompPolicy());
  if (!spec.ok()) {
    rustiq::log::Error("bad compiled-in policy",
                       {{"error", spec.status().message()}});
    return 1;
  }
  // A PKCS#11 module that keeps state in files (SoftHSM2's token directory)
  // needs that directory; hardware tokens need nothing here.
  if (config->keyd.backend == "pkcs11" &&
      !config->keyd.pkcs11_state_dir.empty()) {
    spec->landlock.read_write.push_back(config->keyd.pkcs11_state_dir);
  }
  spec->complain = complain;
  rustiq::sandbox::ConfineOrDie(*spec);

  rustiq::keyd::KeysService keys(
      keyd->keys.get(),
      keyd->paths.master_key_is_credential ? "" : keyd->paths.master_key);
  rustiq::keyd::CertificatesService certificates(keyd->ca.get(), &sink);
  auto server = rustiq::rpc::RpcServer::Start(
      options,
      {rustiq::rpc::Serve<rustiq::v1::Keys>(&keys),
       rustiq::rpc::Serve<rustiq::v1::Certificates>(&certificates)},
      &sink);
  if (!server.ok()) {
    rustiq::log::Error("cannot start", {{"error", server.status().message()}});
    return 1;
  }
  rustiq::log::Info("serving", {{"backend", keyd->keys->backend().name()},
                                {"socket", (*server)->socket_path()}});
  // keyd's own short-lived identity, renewed from the CA it holds.
  rustiq::keyd::LocalCertificateSource own_ca(keyd->ca.get());
  absl::StatusOr<rustiq::identity::SpiffeId> self =
      rustiq::identity::SpiffeId::ForService(config->device_id, kDaemon);
  std::unique_ptr<rustiq::rpc::IdentityRenewer> renewer;
  if (self.ok()) {
    rustiq::rpc::RenewalPolicy policy;
    policy.renew_after_fraction = config->rpc.identity_renewal_percent / 100.0;
    renewer = std::make_unique<rustiq::rpc::IdentityRenewer>(
        rustiq::pki::ForService(config->paths.state_dir, kDaemon), *self,
        &own_ca, policy);
    renewer->Start();
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    rustiq::log::Info("stopping", {{"signal", sig}});
    (*server)->Shutdown(absl::Seconds(2));
  });
  (*server)->Wait();
  waiter.join();
  if (renewer != nullptr) renewer->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
