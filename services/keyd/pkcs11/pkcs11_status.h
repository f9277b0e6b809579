// Turning a failed PKCS#11 call into a one-line absl::Status that names the
// function and the CKR_ code ("C_Login: CKR_PIN_INCORRECT"), so an operator
// can look it up. Nothing the caller passed in (PINs, data) ever appears.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_STATUS_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_STATUS_H_

#include <p11-kit/pkcs11.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyd::pkcs11 {

// "CKR_PIN_INCORRECT" for the common codes, "CKR_0x000000a0" otherwise.
std::string CkrName(CK_RV rv);

// The status for `function` returning `rv` (not CKR_OK). The code says what
// the operator can do: a refused PIN is PermissionDenied, a missing or broken
// device Unavailable, anything else Internal.
absl::Status Pkcs11Error(absl::string_view function, CK_RV rv);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_STATUS_H_
