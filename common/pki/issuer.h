// Where identities come from. The provisioner (and later each daemon renewing
// its own certificate) asks an IdentityIssuer; today that is FileCaIssuer,
// backed by the device CA on disk, and later a client of keyd, which will
// hold the CA. Moving the CA is then a change of source, not a rewrite.
#ifndef RUSTIQ_COMMON_PKI_ISSUER_H_
#define RUSTIQ_COMMON_PKI_ISSUER_H_

#include <openssl/evp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/identity/spiffe_id.h"

namespace rustiq::pki {

class IdentityIssuer {
 public:
  virtual ~IdentityIssuer() = default;

  // Issues a certificate (PEM) binding `public_key` to `id` for `lifetime`
  // from now. Only the public half of `public_key` is used; the caller keeps
  // ownership. An implementation refuses what its policy does not allow
  // (another trust domain, a lifetime out of bounds) with InvalidArgument.
  virtual absl::StatusOr<std::string> IssueCertificate(
      const EVP_PKEY* public_key, const identity::SpiffeId& id,
      absl::Duration lifetime) = 0;

  // The PEM certificates an endpoint must trust to verify what this issuer
  // issues (the content of the trust bundle file).
  virtual absl::StatusOr<std::string> TrustBundlePem() = 0;
};

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_ISSUER_H_
