// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decoding in software, for
// tokens that can decrypt only with SHA-1 OAEP (SoftHSM 2.6 among them): the
// token does the raw RSA private operation (CKM_RSA_X_509), this removes the
// padding. The private key still never leaves the token.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_OAEP_UNPAD_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_OAEP_UNPAD_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd::pkcs11 {

// `encoded` is the raw RSA result, left-padded to `modulus_bytes`. Uses
// OpenSSL's constant-time check, and every failure is the same
// InvalidArgument, so a caller learns nothing about why (no padding oracle).
absl::StatusOr<SecretBytes> OaepSha256Unpad(const SecretBytes& encoded,
                                            size_t modulus_bytes);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_OAEP_UNPAD_H_
