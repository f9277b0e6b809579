#include "services/keyd/pkcs11/object_search.h"

#include "absl/status/status.h"
#include "services/keyd/pkcs11/pkcs11_status.h"

namespace rustiq::keyd::pkcs11 {

absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> FindObjects(
    CK_FUNCTION_LIST* p11, const SessionLease& session,
    std::vector<CK_ATTRIBUTE> templ) {
  CK_RV rv = p11->C_FindObjectsInit(
      session.handle(), templ.empty() ? nullptr : templ.data(), templ.size());
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[64];
  for (;;) {
    CK_ULONG count = 0;
    rv = p11->C_FindObjects(session.handle(), batch, std::size(batch), &count);
    if (rv != CKR_OK || count == 0) break;
    found.insert(found.end(), batch, batch + count);
  }
  // Always end the search, so the session can be used again.
  CK_RV final_rv = p11->C_FindObjectsFinal(session.handle());
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjects", rv);
  if (final_rv != CKR_OK) return Pkcs11Error("C_FindObjectsFinal", final_rv);
  return found;
}

absl::StatusOr<std::string> ReadAttribute(CK_FUNCTION_LIST* p11,
                                          const SessionLease& session,
                                          CK_OBJECT_HANDLE object,
                                          CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attribute = {type, nullptr, 0};
  CK_RV rv = p11->C_GetAttributeValue(session.handle(), object, &attribute, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return absl::NotFoundError("the token object has no such attribute");
  }
  if (rv != CKR_OK) return Pkcs11Error("C_GetAttributeValue", rv);
  std::string value(attribute.ulValueLen, '\0');
  attribute.pValue = value.data();
  rv = p11->C_GetAttributeValue(session.handle(), object, &attribute, 1);
  if (rv != CKR_OK) return Pkcs11Error("C_GetAttributeValue", rv);
  value.resize(attribute.ulValueLen);
  return value;
}

}  // namespace rustiq::keyd::pkcs11
