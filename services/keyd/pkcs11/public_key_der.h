// SubjectPublicKeyInfo DER for a token's public key, built with OpenSSL from
// the attributes PKCS#11 exposes (CKA_EC_POINT; CKA_MODULUS and
// CKA_PUBLIC_EXPONENT).
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PUBLIC_KEY_DER_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PUBLIC_KEY_DER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyd::pkcs11 {

// CKA_EC_POINT is specified as a DER OCTET STRING around the point, but some
// tokens return the bare point. Returns the bare point, which must be
// `point_bytes` long (65 for an uncompressed P-256 point, 32 for Ed25519);
// the expected length is what tells the two forms apart.
absl::StatusOr<std::string> UnwrapEcPoint(absl::string_view attribute,
                                          size_t point_bytes);

absl::StatusOr<std::string> P256PublicKeyDer(absl::string_view point);
absl::StatusOr<std::string> Ed25519PublicKeyDer(absl::string_view point);
// Big-endian unsigned integers, as in CKA_MODULUS and CKA_PUBLIC_EXPONENT.
absl::StatusOr<std::string> RsaPublicKeyDer(absl::string_view modulus,
                                            absl::string_view exponent);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PUBLIC_KEY_DER_H_
