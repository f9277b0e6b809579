#include "services/keyd/pkcs11/pkcs11_key.h"

#include <openssl/rand.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/keyd/pkcs11/decrypt_failure.h"
#include "services/keyd/pkcs11/oaep_unpad.h"
#include "services/keyd/pkcs11/object_search.h"
#include "services/keyd/pkcs11/pkcs11_status.h"
#include "services/keyd/pkcs11/public_key_der.h"
#include "services/keyd/pkcs11/signature_format.h"

namespace rustiq::keyd::pkcs11 {
namespace {

constexpr size_t kSha256Bytes = 32;
constexpr size_t kP256PointBytes = 65;  // uncompressed: 0x04 || x || y
constexpr size_t kEd25519PointBytes = 32;
// Large enough for every signature this backend makes (RSA up to 4096 bits).
constexpr size_t kMaxSignatureBytes = 512;

// PKCS#11 declares inputs it only reads as non-const pointers; this is the
// one place that casts the const away. Never null, even for empty input:
// some tokens refuse a null pointer with a zero length.
CK_BYTE_PTR In(absl::string_view bytes) {
  static unsigned char empty = 0;
  if (bytes.empty()) return &empty;
  return reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(bytes.data()));
}

CK_KEY_TYPE KeyType(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcP256:
      return CKK_EC;
    case Algorithm::kEd25519:
      return CKK_EC_EDWARDS;
    case Algorithm::kRsa3072:
      return CKK_RSA;
    case Algorithm::kAes256:
      return CKK_AES;
  }
  return CKK_VENDOR_DEFINED;
}

absl::Status WrongAlgorithm(absl::string_view operation, Algorithm have,
                            absl::string_view need) {
  return absl::InvalidArgumentError(absl::StrCat(
      operation, " needs ", need, "; this is a ", AlgorithmName(have), " key"));
}

// The one object of `object_class` with `object_id`, checked to be of the
// key type `algorithm` needs.
absl::StatusOr<CK_OBJECT_HANDLE> FindKeyObject(CK_FUNCTION_LIST* p11,
                                               const SessionLease& session,
                                               CK_OBJECT_CLASS object_class,
                                               absl::string_view object_id,
                                               Algorithm algorithm) {
  std::vector<CK_ATTRIBUTE> templ = {
      {CKA_CLASS, &object_class, sizeof(object_class)},
      {CKA_ID, In(object_id), object_id.size()},
  };
  absl::string_view what = object_class == CKO_PUBLIC_KEY    ? "public key"
                           : object_class == CKO_PRIVATE_KEY ? "private key"
                                                             : "secret key";
  absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> found =
      FindObjects(p11, session, std::move(templ));
  if (!found.ok()) return found.status();
  if (found->empty()) {
    return absl::DataLossError(
        absl::StrCat("the token no longer holds this key's ", what));
  }
  if (found->size() > 1) {
    return absl::DataLossError(absl::StrCat("the token holds ", found->size(),
                                            " ", what, "s with this key's id"));
  }
  absl::StatusOr<std::string> type =
      ReadAttribute(p11, session, found->front(), CKA_KEY_TYPE);
  if (!type.ok()) return type.status();
  CK_KEY_TYPE key_type = CKK_VENDOR_DEFINED;
  if (type->size() == sizeof(key_type)) {
    std::memcpy(&key_type, type->data(), sizeof(key_type));
  }
  if (key_type != KeyType(algorithm)) {
    return absl::DataLossError(absl::StrCat("the token's ", what,
                                            " for this handle is not a ",
                                            AlgorithmName(algorithm), " key"));
  }
  return found->front();
}

absl::string_view StripLeadingZeros(absl::string_view number) {
  while (number.size() > 1 && number.front() == '\0') number.remove_prefix(1);
  return number;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BackendKey>> Pkcs11Key::Open(
    std::shared_ptr<Pkcs11Token> token, const TokenKeyRef& ref) {
  CK_FUNCTION_LIST* p11 = token->functions();
  absl::StatusOr<SessionLease> session = token->LeaseSession();
  if (!session.ok()) return session.status();
  bool secret = ref.algorithm == Algorithm::kAes256;
  absl::StatusOr<CK_OBJECT_HANDLE> private_object =
      FindKeyObject(p11, *session, secret ? CKO_SECRET_KEY : CKO_PRIVATE_KEY,
                    ref.object_id, ref.algorithm);
  if (!private_object.ok()) return private_object.status();
  CK_OBJECT_HANDLE public_object = CK_INVALID_HANDLE;
  size_t modulus_bytes = 0;
  if (!secret) {
    absl::StatusOr<CK_OBJECT_HANDLE> found = FindKeyObject(
        p11, *session, CKO_PUBLIC_KEY, ref.object_id, ref.algorithm);
    if (!found.ok()) return found.status();
    public_object = *found;
  }
  if (ref.algorithm == Algorithm::kRsa3072) {
    absl::StatusOr<std::string> modulus =
        ReadAttribute(p11, *session, public_object, CKA_MODULUS);
    if (!modulus.ok()) return modulus.status();
    modulus_bytes = StripLeadingZeros(*modulus).size();
  }
  session->ReturnToPool();
  return std::unique_ptr<BackendKey>(
      new Pkcs11Key(std::move(token), ref.algorithm, *private_object,
                    public_object, modulus_bytes));
}

absl::StatusOr<std::string> Pkcs11Key::PublicKeyDer() const {
  if (algorithm_ == Algorithm::kAes256) {
    return absl::FailedPreconditionError("an aes-256 key has no public key");
  }
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  absl::StatusOr<std::string> der;
  if (algorithm_ == Algorithm::kRsa3072) {
    absl::StatusOr<std::string> modulus =
        ReadAttribute(p11, *session, public_object_, CKA_MODULUS);
    if (!modulus.ok()) return modulus.status();
    absl::StatusOr<std::string> exponent =
        ReadAttribute(p11, *session, public_object_, CKA_PUBLIC_EXPONENT);
    if (!exponent.ok()) return exponent.status();
    der = RsaPublicKeyDer(*modulus, *exponent);
  } else {
    absl::StatusOr<std::string> attribute =
        ReadAttribute(p11, *session, public_object_, CKA_EC_POINT);
    if (!attribute.ok()) return attribute.status();
    bool ed25519 = algorithm_ == Algorithm::kEd25519;
    absl::StatusOr<std::string> point = UnwrapEcPoint(
        *attribute, ed25519 ? kEd25519PointBytes : kP256PointBytes);
    if (!point.ok()) return point.status();
    der = ed25519 ? Ed25519PublicKeyDer(*point) : P256PublicKeyDer(*point);
  }
  session->ReturnToPool();
  return der;
}

absl::StatusOr<std::string> Pkcs11Key::Sign(SignatureScheme scheme,
                                            absl::string_view input) const {
  if (SchemeAlgorithm(scheme) != algorithm_) {
    return WrongAlgorithm("this signature scheme", algorithm_,
                          AlgorithmName(SchemeAlgorithm(scheme)));
  }
  if (SchemeTakesDigest(scheme) && input.size() != kSha256Bytes) {
    return absl::InvalidArgumentError(absl::StrCat("expected a ", kSha256Bytes,
                                                   "-byte SHA-256 digest, got ",
                                                   input.size(), " bytes"));
  }
  CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, kSha256Bytes};
  CK_MECHANISM mechanism = {CKM_ECDSA, nullptr, 0};
  absl::string_view data = input;
  std::string digest_info;
  switch (scheme) {
    case SignatureScheme::kEcdsaP256Sha256:
      break;
    case SignatureScheme::kEd25519:
      mechanism.mechanism = CKM_EDDSA;  // pure Ed25519: no parameters
      break;
    case SignatureScheme::kRsaPssSha256:
      mechanism = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
      break;
    case SignatureScheme::kRsaPkcs1Sha256:
      mechanism.mechanism = CKM_RSA_PKCS;
      digest_info = Sha256DigestInfo(input);
      data = digest_info;
      break;
  }
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  CK_RV rv = p11->C_SignInit(session->handle(), &mechanism, private_object_);
  if (rv != CKR_OK) return Pkcs11Error("C_SignInit", rv);
  std::string signature(kMaxSignatureBytes, '\0');
  CK_ULONG length = signature.size();
  rv = p11->C_Sign(session->handle(), In(data), data.size(),
                   reinterpret_cast<CK_BYTE_PTR>(signature.data()), &length);
  if (rv != CKR_OK) return Pkcs11Error("C_Sign", rv);
  session->ReturnToPool();
  signature.resize(length);
  if (scheme == SignatureScheme::kEcdsaP256Sha256) {
    return EcdsaRawToDer(signature);
  }
  return signature;
}

absl::StatusOr<SecretBytes> Pkcs11Key::Decrypt(
    DecryptScheme scheme, absl::string_view ciphertext) const {
  if (algorithm_ != Algorithm::kRsa3072) {
    return WrongAlgorithm("decryption", algorithm_, "an RSA key");
  }
  if (scheme != DecryptScheme::kRsaOaepSha256) {
    return absl::InvalidArgumentError("unknown decryption scheme");
  }
  // The length is public (the modulus size); refusing it early keeps odd
  // lengths away from the token.
  if (ciphertext.size() != modulus_bytes_) return DecryptFailure();
  if (token_->oaep_sha256_supported()) {
    absl::StatusOr<SecretBytes> plaintext = DecryptOaepOnToken(ciphertext);
    if (plaintext.status().code() != absl::StatusCode::kUnimplemented) {
      return plaintext;
    }
    token_->set_oaep_sha256_unsupported();
  }
  return DecryptRawAndUnpad(ciphertext);
}

absl::StatusOr<SecretBytes> Pkcs11Key::DecryptOaepOnToken(
    absl::string_view ciphertext) const {
  CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256,
                                  CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM mechanism = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  CK_RV rv = p11->C_DecryptInit(session->handle(), &mechanism, private_object_);
  if (rv == CKR_MECHANISM_PARAM_INVALID || rv == CKR_ARGUMENTS_BAD ||
      rv == CKR_MECHANISM_INVALID) {
    session->ReturnToPool();  // no operation started
    return absl::UnimplementedError("the token has no SHA-256 RSA-OAEP");
  }
  if (rv != CKR_OK) return Pkcs11Error("C_DecryptInit", rv);
  SecretBytes plaintext(modulus_bytes_);
  CK_ULONG length = plaintext.size();
  rv = p11->C_Decrypt(session->handle(), In(ciphertext), ciphertext.size(),
                      plaintext.data(), &length);
  // Whatever the token says, the caller hears one thing.
  if (rv != CKR_OK || length > plaintext.size()) return DecryptFailure();
  session->ReturnToPool();
  plaintext.Truncate(length);
  return plaintext;
}

absl::StatusOr<SecretBytes> Pkcs11Key::DecryptRawAndUnpad(
    absl::string_view ciphertext) const {
  CK_MECHANISM mechanism = {CKM_RSA_X_509, nullptr, 0};
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  CK_RV rv = p11->C_DecryptInit(session->handle(), &mechanism, private_object_);
  if (rv != CKR_OK) return Pkcs11Error("C_DecryptInit", rv);
  SecretBytes raw(modulus_bytes_);
  CK_ULONG length = raw.size();
  rv = p11->C_Decrypt(session->handle(), In(ciphertext), ciphertext.size(),
                      raw.data(), &length);
  if (rv != CKR_OK || length > raw.size()) return DecryptFailure();
  session->ReturnToPool();
  if (length < raw.size()) {
    // A token may drop the leading zero bytes of the raw result.
    SecretBytes padded(modulus_bytes_);
    std::memcpy(padded.data() + (padded.size() - length), raw.data(), length);
    raw = std::move(padded);
  }
  return OaepSha256Unpad(raw, modulus_bytes_);
}

absl::StatusOr<std::string> Pkcs11Key::SealGcm(absl::string_view plaintext,
                                               absl::string_view aad) const {
  if (algorithm_ != Algorithm::kAes256) {
    return WrongAlgorithm("sealing", algorithm_, "an aes-256 key");
  }
  // nonce || ciphertext || tag; the slack covers tokens that ask for a
  // whole extra block of room.
  std::string sealed(kGcmNonceBytes + plaintext.size() + 2 * kGcmTagBytes,
                     '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  if (RAND_bytes(nonce, kGcmNonceBytes) != 1) {
    return absl::InternalError("no random bytes for the GCM nonce");
  }
  CK_GCM_PARAMS gcm = {nonce,   kGcmNonceBytes, kGcmNonceBytes * 8,
                       In(aad), aad.size(),     kGcmTagBytes * 8};
  CK_MECHANISM mechanism = {CKM_AES_GCM, &gcm, sizeof(gcm)};
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  CK_RV rv = p11->C_EncryptInit(session->handle(), &mechanism, private_object_);
  if (rv != CKR_OK) return Pkcs11Error("C_EncryptInit", rv);
  CK_ULONG length = sealed.size() - kGcmNonceBytes;
  rv = p11->C_Encrypt(session->handle(), In(plaintext), plaintext.size(),
                      nonce + kGcmNonceBytes, &length);
  if (rv != CKR_OK) return Pkcs11Error("C_Encrypt", rv);
  session->ReturnToPool();
  if (length != plaintext.size() + kGcmTagBytes) {
    return absl::InternalError(
        absl::StrCat("the token's AES-GCM output is ", length, " bytes for a ",
                     plaintext.size(), "-byte plaintext"));
  }
  sealed.resize(kGcmNonceBytes + length);
  return sealed;
}

absl::StatusOr<SecretBytes> Pkcs11Key::UnsealGcm(absl::string_view sealed,
                                                 absl::string_view aad) const {
  if (algorithm_ != Algorithm::kAes256) {
    return WrongAlgorithm("unsealing", algorithm_, "an aes-256 key");
  }
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) return UnsealFailure();
  absl::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  absl::string_view body = sealed.substr(kGcmNonceBytes);
  CK_GCM_PARAMS gcm = {In(nonce), kGcmNonceBytes, kGcmNonceBytes * 8,
                       In(aad),   aad.size(),     kGcmTagBytes * 8};
  CK_MECHANISM mechanism = {CKM_AES_GCM, &gcm, sizeof(gcm)};
  CK_FUNCTION_LIST* p11 = token_->functions();
  absl::StatusOr<SessionLease> session = token_->LeaseSession();
  if (!session.ok()) return session.status();
  CK_RV rv = p11->C_DecryptInit(session->handle(), &mechanism, private_object_);
  if (rv != CKR_OK) return Pkcs11Error("C_DecryptInit", rv);
  // Room for the whole body: some tokens want it before they drop the tag.
  SecretBytes plaintext(body.size());
  CK_ULONG length = plaintext.size();
  rv = p11->C_Decrypt(session->handle(), In(body), body.size(),
                      plaintext.data(), &length);
  if (rv != CKR_OK || length != body.size() - kGcmTagBytes) {
    return UnsealFailure();
  }
  session->ReturnToPool();
  plaintext.Truncate(length);
  return plaintext;
}

}  // namespace rustiq::keyd::pkcs11
