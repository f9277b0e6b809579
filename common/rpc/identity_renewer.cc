#include "common/rpc/identity_renewer.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging/log.h"
#include "common/pki/csr.h"
#include "common/pki/openssl_util.h"

namespace rustiq::rpc {
namespace {

constexpr size_t kMaxCertBytes = 64 * 1024;

absl::StatusOr<absl::Time> AsTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::DataLossError("certificate validity does not parse");
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

}  // namespace

IdentityRenewer::IdentityRenewer(pki::IdentityPaths paths,
                                 identity::SpiffeId id,
                                 CertificateSource* source,
                                 RenewalPolicy policy)
    : paths_(std::move(paths)),
      id_(std::move(id)),
      source_(source),
      policy_(policy) {}

IdentityRenewer::~IdentityRenewer() { Stop(); }

absl::StatusOr<absl::Time> IdentityRenewer::RenewalTime() const {
  absl::StatusOr<std::string> pem =
      pki::ReadSmallFile(paths_.cert_path, kMaxCertBytes);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<pki::X509Ptr> cert = pki::CertificateFromPem(*pem);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<absl::Time> from = AsTime(X509_get0_notBefore(cert->get()));
  absl::StatusOr<absl::Time> until = AsTime(X509_get0_notAfter(cert->get()));
  if (!from.ok()) return from.status();
  if (!until.ok()) return until.status();
  return *from + (*until - *from) * policy_.renew_after_fraction;
}

absl::StatusOr<bool> IdentityRenewer::RenewIfDue(absl::Time now, bool force) {
  if (!force) {
    absl::StatusOr<absl::Time> due = RenewalTime();
    if (!due.ok()) return due.status();
    if (now < *due) return false;
  }
  absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateP256Key();
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> csr = pki::MakeCsr(key->get(), id_);
  if (!csr.ok()) return csr.status();
  absl::StatusOr<std::string> cert = source_->Issue(*csr);
  if (!cert.ok()) {
    return absl::Status(
        cert.status().code(),
        absl::StrCat("renewing ", id_.ToUri(), ": ", cert.status().message()));
  }
  absl::StatusOr<std::string> key_pem = pki::PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  // WriteIdentity refuses a certificate that does not match the key.
  absl::Status s = pki::WriteIdentity(paths_, *key_pem, *cert);
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!s.ok()) return s;
  return true;
}

void IdentityRenewer::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void IdentityRenewer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IdentityRenewer::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    absl::StatusOr<bool> renewed = RenewIfDue(absl::Now());
    if (!renewed.ok()) {
      log::Warning(
          "identity renewal failed; retrying",
          {{"id", id_.ToUri()}, {"error", renewed.status().message()}});
    } else if (*renewed) {
      log::Info("identity renewed", {{"id", id_.ToUri()}});
    }
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoSeconds(policy_.check_interval),
                   [this] { return stop_; });
  }
}

}  // namespace rustiq::rpc
