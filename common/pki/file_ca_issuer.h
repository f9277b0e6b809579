// An IdentityIssuer backed by the device CA in this process (loaded from the
// files DeviceCaPathsFor() names, or given). It is the policy in front of
// CertificateAuthority: exactly one URI SAN, the CA's own trust domain, an
// EC P-256 key, and a bounded lifetime that does not outlive the CA.
#ifndef RUSTIQ_COMMON_PKI_FILE_CA_ISSUER_H_
#define RUSTIQ_COMMON_PKI_FILE_CA_ISSUER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/identity_files.h"
#include "common/pki/issuer.h"

namespace rustiq::pki {

inline constexpr absl::Duration kDefaultMaxIdentityLifetime =
    absl::Hours(24 * 90);

// IssueCertificate and TrustBundlePem may run on several threads at once.
class FileCaIssuer : public IdentityIssuer {
 public:
  // Reads the CA key and certificate at `paths`; errors name the file.
  static absl::StatusOr<std::unique_ptr<FileCaIssuer>> Load(
      const DeviceCaPaths& paths,
      absl::Duration max_lifetime = kDefaultMaxIdentityLifetime);

  explicit FileCaIssuer(
      CertificateAuthority ca,
      absl::Duration max_lifetime = kDefaultMaxIdentityLifetime);

  // Valid from kClockSkewAllowance ago until now + `lifetime`. Refuses an id
  // of another trust domain, a lifetime <= 0 or > max_lifetime, a lifetime
  // that would end after the CA expires, and a key that is not EC P-256.
  absl::StatusOr<std::string> IssueCertificate(
      const EVP_PKEY* public_key, const identity::SpiffeId& id,
      absl::Duration lifetime) override;

  // The CA certificate.
  absl::StatusOr<std::string> TrustBundlePem() override;

  const CertificateAuthority& authority() const { return ca_; }
  absl::Duration max_lifetime() const { return max_lifetime_; }

 private:
  const CertificateAuthority ca_;
  const absl::Duration max_lifetime_;
};

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_FILE_CA_ISSUER_H_
