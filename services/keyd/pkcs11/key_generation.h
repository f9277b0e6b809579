// Generating a key on the token: the mechanisms and attribute templates.
//
// Every object is a token object (CKA_TOKEN), visible only after login
// (CKA_PRIVATE, also on public keys, whose labels name the keys); private
// and secret keys are CKA_SENSITIVE and not CKA_EXTRACTABLE, so their
// material never leaves the token. All objects of one key share a fresh
// random CKA_ID and carry CKA_LABEL "rustiq:<label>", by which DestroyAll
// finds them.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_KEY_GENERATION_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_KEY_GENERATION_H_

#include <p11-kit/pkcs11.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/keyd/backend.h"
#include "services/keyd/pkcs11/pkcs11_token.h"

namespace rustiq::keyd::pkcs11 {

// Every rustiq object's label starts with this.
inline constexpr absl::string_view kLabelPrefix = "rustiq:";

absl::Status GenerateOnToken(CK_FUNCTION_LIST* p11, const SessionLease& session,
                             Algorithm algorithm, absl::string_view object_id,
                             absl::string_view label);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_KEY_GENERATION_H_
