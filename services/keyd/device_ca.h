// The device CA inside keyd. Its key is the well-known key "device-ca", which
// lives in the configured backend like every other key; certificates are
// signed through an OpenSSL provider key (common/keyclient) whose signing
// calls the backend, so the CA key is never exported, not even to OpenSSL.
//
// Over RPC a caller can only obtain a certificate for its own ID (from its
// mTLS session) and for a key it proves it holds (the CSR's signature).
// Provisioning, offline and as root, issues any identity through issuer().
#ifndef RUSTIQ_SERVICES_KEYD_DEVICE_CA_H_
#define RUSTIQ_SERVICES_KEYD_DEVICE_CA_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pki/file_ca_issuer.h"
#include "rustiq/v1/keys.pb.h"
#include "services/keyd/key_manager.h"

namespace rustiq::keyd {

inline constexpr char kDeviceCaKey[] = "device-ca";
inline constexpr absl::Duration kDeviceCaValidity = absl::Hours(24 * 365 * 20);

struct DeviceCaOptions {
  std::string trust_domain;
  absl::Duration default_lifetime = absl::Hours(24);
  absl::Duration max_lifetime = absl::Hours(24 * 7);
};

class DeviceCa {
 public:
  // Loads the CA certificate from the store, or creates it (self-signed by
  // the current "device-ca" key) when there is none or it no longer matches
  // the key (after a rotation). `keys` (not owned) must outlive the CA.
  static absl::StatusOr<std::unique_ptr<DeviceCa>> Open(
      KeyManager* keys, DeviceCaOptions options);

  // For provisioning: issues any identity of the trust domain.
  pki::IdentityIssuer& issuer() { return *issuer_; }
  // The CA itself (tests mint hostile certificates with it).
  const pki::CertificateAuthority& authority() const {
    return issuer_->authority();
  }

  // For IssueCertificate: the CSR must name exactly `caller_path` (its only
  // URI SAN), carry an EC P-256 key and verify; the lifetime is the
  // configured default (0) or at most the maximum.
  absl::StatusOr<v1::IssueCertificateResponse> IssueForCaller(
      absl::string_view caller_path, const v1::IssueCertificateRequest& req);

  std::string TrustBundlePem() const { return ca_cert_pem_; }
  // For GetTrustBundle: FailedPrecondition once keyd is zeroized, as every
  // call is then.
  absl::StatusOr<std::string> TrustBundle() const;

 private:
  DeviceCa(DeviceCaOptions options, std::unique_ptr<pki::FileCaIssuer> issuer,
           std::string ca_cert_pem)
      : options_(std::move(options)),
        issuer_(std::move(issuer)),
        ca_cert_pem_(std::move(ca_cert_pem)) {}

  const DeviceCaOptions options_;
  std::unique_ptr<pki::FileCaIssuer> issuer_;
  const std::string ca_cert_pem_;
  KeyManager* keys_ = nullptr;
  uint32_t key_version_ = 0;  // the device-ca version the certificate names
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_DEVICE_CA_H_
