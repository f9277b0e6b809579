#include "services/keyd/pkcs11/key_generation.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/keyd/pkcs11/pkcs11_status.h"

namespace rustiq::keyd::pkcs11 {
namespace {

// DER of the named-curve OIDs, as CKA_EC_PARAMS wants them.
// 1.2.840.10045.3.1.7 (prime256v1 / P-256).
constexpr unsigned char kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
// 1.3.101.112 (id-Ed25519, RFC 8410). PKCS#11 3.0 also allows the printable
// string "edwards25519"; SoftHSM 2.6 takes either, and the OID is the form
// more tokens know.
constexpr unsigned char kEd25519Params[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
constexpr unsigned char kRsaExponent[] = {0x01, 0x00, 0x01};  // 65537
constexpr CK_ULONG kRsaBits = 3072;
constexpr CK_ULONG kAesKeyBytes = 32;

constexpr CK_BBOOL kTrue = CK_TRUE;
constexpr CK_BBOOL kFalse = CK_FALSE;

// PKCS#11 templates take non-const pointers even to values they only read.
CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t size) {
  return {type, const_cast<void*>(value), size};
}
template <typename T>
CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const T& value) {
  return Attr(type, &value, sizeof(T));
}
CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, absl::string_view bytes) {
  return Attr(type, bytes.data(), bytes.size());
}

// The attributes every object of a key has.
void AddCommon(std::vector<CK_ATTRIBUTE>& templ, absl::string_view object_id,
               absl::string_view label) {
  templ.push_back(Attr(CKA_TOKEN, kTrue));
  templ.push_back(Attr(CKA_PRIVATE, kTrue));
  templ.push_back(Attr(CKA_ID, object_id));
  templ.push_back(Attr(CKA_LABEL, label));
}

// The attributes that keep key material inside the token.
void AddSecret(std::vector<CK_ATTRIBUTE>& templ) {
  templ.push_back(Attr(CKA_SENSITIVE, kTrue));
  templ.push_back(Attr(CKA_EXTRACTABLE, kFalse));
}

absl::Status GeneratePair(CK_FUNCTION_LIST* p11, const SessionLease& session,
                          Algorithm algorithm, absl::string_view object_id,
                          absl::string_view label) {
  CK_MECHANISM mechanism = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  std::vector<CK_ATTRIBUTE> pub;
  std::vector<CK_ATTRIBUTE> priv;
  AddCommon(pub, object_id, label);
  AddCommon(priv, object_id, label);
  AddSecret(priv);
  switch (algorithm) {
    case Algorithm::kEcP256:
      pub.push_back(Attr(CKA_EC_PARAMS, kP256Params, sizeof(kP256Params)));
      pub.push_back(Attr(CKA_VERIFY, kTrue));
      priv.push_back(Attr(CKA_SIGN, kTrue));
      break;
    case Algorithm::kEd25519:
      mechanism.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
      pub.push_back(
          Attr(CKA_EC_PARAMS, kEd25519Params, sizeof(kEd25519Params)));
      pub.push_back(Attr(CKA_VERIFY, kTrue));
      priv.push_back(Attr(CKA_SIGN, kTrue));
      break;
    case Algorithm::kRsa3072:
      // One RSA key both signs and decrypts, as the soft backend's does.
      mechanism.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push_back(Attr(CKA_MODULUS_BITS, kRsaBits));
      pub.push_back(
          Attr(CKA_PUBLIC_EXPONENT, kRsaExponent, sizeof(kRsaExponent)));
      pub.push_back(Attr(CKA_VERIFY, kTrue));
      pub.push_back(Attr(CKA_ENCRYPT, kTrue));
      priv.push_back(Attr(CKA_SIGN, kTrue));
      priv.push_back(Attr(CKA_DECRYPT, kTrue));
      break;
    case Algorithm::kAes256:
      return absl::InternalError("AES keys have no key pair");
  }
  CK_OBJECT_HANDLE pub_object = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_object = CK_INVALID_HANDLE;
  CK_RV rv = p11->C_GenerateKeyPair(session.handle(), &mechanism, pub.data(),
                                    pub.size(), priv.data(), priv.size(),
                                    &pub_object, &priv_object);
  if (rv != CKR_OK) return Pkcs11Error("C_GenerateKeyPair", rv);
  return absl::OkStatus();
}

absl::Status GenerateAes(CK_FUNCTION_LIST* p11, const SessionLease& session,
                         absl::string_view object_id, absl::string_view label) {
  CK_MECHANISM mechanism = {CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  std::vector<CK_ATTRIBUTE> templ = {
      Attr(CKA_CLASS, key_class),        Attr(CKA_KEY_TYPE, key_type),
      Attr(CKA_VALUE_LEN, kAesKeyBytes), Attr(CKA_ENCRYPT, kTrue),
      Attr(CKA_DECRYPT, kTrue),
  };
  AddCommon(templ, object_id, label);
  AddSecret(templ);
  CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
  CK_RV rv = p11->C_GenerateKey(session.handle(), &mechanism, templ.data(),
                                templ.size(), &object);
  if (rv != CKR_OK) return Pkcs11Error("C_GenerateKey", rv);
  return absl::OkStatus();
}

}  // namespace

absl::Status GenerateOnToken(CK_FUNCTION_LIST* p11, const SessionLease& session,
                             Algorithm algorithm, absl::string_view object_id,
                             absl::string_view label) {
  std::string full_label = absl::StrCat(kLabelPrefix, label);
  if (algorithm == Algorithm::kAes256) {
    return GenerateAes(p11, session, object_id, full_label);
  }
  return GeneratePair(p11, session, algorithm, object_id, full_label);
}

}  // namespace rustiq::keyd::pkcs11
