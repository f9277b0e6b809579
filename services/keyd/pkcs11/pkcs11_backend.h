// The `pkcs11` backend: keys generated on a PKCS#11 token (an HSM, a smart
// card, SoftHSM2 in tests), never extractable. A key's handle names its
// token objects by CKA_ID (see key_handle.h); the material stays on the
// token, so Destroy really destroys it.
//
// RSA-OAEP with SHA-256: tokens that only know SHA-1 OAEP (SoftHSM 2.6) get
// the raw RSA operation (CKM_RSA_X_509) and keyd removes the padding in
// constant time (oaep_unpad.h).
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_BACKEND_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/keyd/backend.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd {

struct Pkcs11Options {
  // The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.
  std::string module_path;
  // The label of the token to use; exactly one token must carry it.
  std::string token_label;
  // The user PIN; used to log in, then dropped.
  SecretBytes pin;
};

// Loads the module, finds the token and logs in. Errors name the PKCS#11
// function and CKR_ code (never the PIN); a missing token lists the labels
// found. One backend per token per process: a second one is refused
// (FailedPrecondition), since the token would not check its PIN. The backend
// and every key it opens are thread-safe; keys may outlive the backend.
absl::StatusOr<std::unique_ptr<KeyBackend>> NewPkcs11Backend(
    const Pkcs11Options& options);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_BACKEND_H_
