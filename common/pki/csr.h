// PKCS#10 certificate signing requests for rustiq identities: a daemon makes
// one to renew its certificate, keyd checks it before issuing.
#ifndef RUSTIQ_COMMON_PKI_CSR_H_
#define RUSTIQ_COMMON_PKI_CSR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/openssl_util.h"

namespace rustiq::pki {

inline constexpr size_t kMaxCsrPemBytes = 16 * 1024;

// A CSR for `id` (its only URI SAN), signed with `key` (ECDSA-SHA256), PEM.
absl::StatusOr<std::string> MakeCsr(const EVP_PKEY* key,
                                    const identity::SpiffeId& id);

struct ParsedCsr {
  EvpPkeyPtr public_key;
  std::vector<std::string> uri_sans;  // in order; empty when none
};

// Parses a PEM CSR and verifies its self-signature (proof that the requester
// holds the private key). InvalidArgument naming the defect otherwise.
absl::StatusOr<ParsedCsr> ParseCsr(absl::string_view pem);

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_CSR_H_
