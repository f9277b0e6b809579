// The byte formats between what a PKCS#11 token signs and returns and what
// rustiq's callers give and expect.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_SIGNATURE_FORMAT_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_SIGNATURE_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyd::pkcs11 {

// CKM_ECDSA returns r || s, each as long as the group order (32 bytes for
// P-256); X.509 and TLS want the DER SEQUENCE { r INTEGER, s INTEGER }.
absl::StatusOr<std::string> EcdsaRawToDer(absl::string_view raw);

// CKM_RSA_PKCS only pads; the DigestInfo naming SHA-256 is ours to add.
std::string Sha256DigestInfo(absl::string_view digest);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_SIGNATURE_FORMAT_H_
