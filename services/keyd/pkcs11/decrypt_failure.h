// The fixed errors for ciphertexts that do not open. One message each, with
// no detail of what failed, so that no caller can use keyd as a padding or
// tag oracle.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_DECRYPT_FAILURE_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_DECRYPT_FAILURE_H_

#include "absl/status/status.h"

namespace rustiq::keyd::pkcs11 {

inline absl::Status DecryptFailure() {
  return absl::InvalidArgumentError(
      "ciphertext does not decrypt with this key");
}

inline absl::Status UnsealFailure() {
  return absl::InvalidArgumentError(
      "sealed blob does not open: wrong key, wrong caller or context, or the "
      "blob was altered");
}

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_DECRYPT_FAILURE_H_
