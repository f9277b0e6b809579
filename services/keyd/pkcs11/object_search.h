// Finding objects on a token and reading their (public) attributes.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_OBJECT_SEARCH_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_OBJECT_SEARCH_H_

#include <p11-kit/pkcs11.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/keyd/pkcs11/pkcs11_token.h"

namespace rustiq::keyd::pkcs11 {

// Every object matching `templ` (empty: every object the session can see).
absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> FindObjects(
    CK_FUNCTION_LIST* p11, const SessionLease& session,
    std::vector<CK_ATTRIBUTE> templ);

// The value of one attribute; NotFound when the object has no such attribute.
// For public attributes only (labels, moduli, points): the bytes go to the
// ordinary heap.
absl::StatusOr<std::string> ReadAttribute(CK_FUNCTION_LIST* p11,
                                          const SessionLease& session,
                                          CK_OBJECT_HANDLE object,
                                          CK_ATTRIBUTE_TYPE type);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_OBJECT_SEARCH_H_
