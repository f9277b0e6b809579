// A throw-away provisioned device under a temporary directory, for tests:
// device CA, identities, configuration, and helpers to mint hostile
// certificates (no SAN, two SANs, expired, other CA, other trust domain).
#ifndef RUSTIQ_TESTS_SUPPORT_TEST_DEVICE_H_
#define RUSTIQ_TESTS_SUPPORT_TEST_DEVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "common/pki/certificate_authority.h"
#include "common/rpc/client.h"
#include "common/rpc/token_verifier.h"
#include "services/keyd/keyd_setup.h"

namespace rustiq::testing {

class TestDevice {
 public:
  // Provisions through keyd services {testserver, supervisord, keyd, cloudd,
  // authd, eventd} and clients
  // {rustiqctl, alice, bob}; `tweak` may adjust the config before it is
  // written. Aborts the test on failure.
  explicit TestDevice(
      const std::function<void(config::StackConfig&)>& tweak = nullptr);
  ~TestDevice();

  const std::string& root() const { return root_; }
  const config::StackConfig& config() const { return config_; }
  const std::string& config_path() const { return config_.source_path; }
  std::string SocketPath(absl::string_view daemon) const;

  // Client options for a provisioned identity ("client/alice").
  rpc::ClientOptions ClientFor(absl::string_view caller_path) const;
  // Client options for custom key/cert files (hostile identities).
  rpc::ClientOptions ClientWithFiles(const std::string& key_path,
                                     const std::string& cert_path) const;

  // Mints a key and a certificate signed by `ca` (default: the device CA)
  // with the given SANs and validity, writes them under the test root and
  // returns client options using them.
  rpc::ClientOptions HostileClient(
      absl::string_view name, const std::vector<std::string>& uri_sans,
      absl::Time not_before, absl::Time not_after,
      const pki::CertificateAuthority* ca = nullptr);
  // Re-issues an identity in place (atomic swap), as renewal will.
  void ReissueService(absl::string_view daemon);
  // The device CA (inside keyd's store, opened by the test).
  const pki::CertificateAuthority& ca() const;
  // keyd's keys, opened by the test beside the keyd process (to sign with
  // the device's own token key, as a forger holding it would).
  keyd::KeyManager& keys() const { return *keyd_->keys; }
  // A token with `claims`, signed by the device's own token-signing key
  // (as only keyd could): for tests that need a person's token without a
  // login, or claims authd would never issue.
  std::string SignToken(const rpc::TokenClaims& claims) const;
  // A valid token of `subject` holding `permissions`, for 5 minutes.
  std::string PersonToken(const std::string& subject,
                          const std::vector<std::string>& permissions) const;

 private:
  std::string root_;
  config::StackConfig config_;
  audit::LogSecurityEventSink sink_;
  std::unique_ptr<keyd::Keyd> keyd_;
};

// Runs a daemon as a real child process on the device: rustiq-keyd,
// rustiq-eventd, rustiq-authd or rustiq-supervisord for "keyd", "eventd",
// "authd", "supervisord", else rustiq-testserver under `name`.
class ServerProcess {
 public:
  ServerProcess(const TestDevice& device, std::string name = "testserver",
                std::vector<std::string> extra_args = {});
  ~ServerProcess();
  // Waits until the server answers a health check as client/rustiqctl.
  bool WaitServing(absl::Duration timeout);
  pid_t pid() const { return pid_; }
  // Everything the server wrote to stderr so far.
  std::string Log() const;
  // Waits for the process to exit; its wait status, or -1 on timeout.
  int WaitExit(absl::Duration timeout);
  void Stop();

 private:
  const TestDevice& device_;
  std::string name_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// Path of a built binary, from the build's compile definitions.
std::string BinaryPath(absl::string_view name);

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_TEST_DEVICE_H_
