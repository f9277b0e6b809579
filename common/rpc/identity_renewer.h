// Renewal of a daemon's own mTLS identity before its short-lived certificate
// expires (DESIGN.md, "How they talk"). Once a set fraction of the
// certificate's lifetime has passed, the renewer makes a fresh P-256 key, a
// CSR naming the daemon's own ID, asks a CertificateSource for a certificate
// (keyd, over the daemon's current mTLS session, which is the proof that the
// daemon holds its current identity) and swaps key and certificate in
// atomically (pki::WriteIdentity). gRPC's certificate watcher then presents
// the new identity on new connections without a restart.
#ifndef RUSTIQ_COMMON_RPC_IDENTITY_RENEWER_H_
#define RUSTIQ_COMMON_RPC_IDENTITY_RENEWER_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/identity_files.h"

namespace rustiq::rpc {

// Where renewed certificates come from.
class CertificateSource {
 public:
  virtual ~CertificateSource() = default;
  // A certificate (PEM) for the CSR, which names the caller's own ID.
  virtual absl::StatusOr<std::string> Issue(absl::string_view csr_pem) = 0;
};

struct RenewalPolicy {
  // Renew once this fraction of the certificate's lifetime has passed.
  double renew_after_fraction = 2.0 / 3.0;
  // How often the background thread looks at the certificate, and how soon
  // it tries again after a failed renewal.
  absl::Duration check_interval = absl::Minutes(1);
};

class IdentityRenewer {
 public:
  // `source` is not owned and must outlive the renewer.
  IdentityRenewer(pki::IdentityPaths paths, identity::SpiffeId id,
                  CertificateSource* source, RenewalPolicy policy = {});
  ~IdentityRenewer();  // stops the thread

  // When the current certificate is due for renewal; an error when it cannot
  // be read.
  absl::StatusOr<absl::Time> RenewalTime() const;

  // Renews when due at `now` (or always with `force`). Returns true when a new
  // identity was written. On failure nothing on disk has changed.
  absl::StatusOr<bool> RenewIfDue(absl::Time now, bool force = false);

  // Checks every policy.check_interval on a thread of its own; failures are
  // logged (with the time left) and retried at the next check.
  void Start();
  void Stop();

 private:
  void Loop();

  const pki::IdentityPaths paths_;
  const identity::SpiffeId id_;
  CertificateSource* source_;
  const RenewalPolicy policy_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_IDENTITY_RENEWER_H_
