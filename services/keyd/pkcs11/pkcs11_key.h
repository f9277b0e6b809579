// One key on the token, opened: the private operations of BackendKey done
// by the token (see backend.h for the contract). Thread-safe: every call
// leases a session of its own.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_KEY_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_KEY_H_

#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/keyd/backend.h"
#include "services/keyd/pkcs11/key_handle.h"
#include "services/keyd/pkcs11/pkcs11_token.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd::pkcs11 {

class Pkcs11Key : public BackendKey {
 public:
  // Finds the key's objects on the token; DataLoss when they are gone or are
  // not of the handle's algorithm.
  static absl::StatusOr<std::unique_ptr<BackendKey>> Open(
      std::shared_ptr<Pkcs11Token> token, const TokenKeyRef& ref);

  Algorithm algorithm() const override { return algorithm_; }
  absl::StatusOr<std::string> PublicKeyDer() const override;
  absl::StatusOr<std::string> Sign(SignatureScheme scheme,
                                   absl::string_view input) const override;
  absl::StatusOr<SecretBytes> Decrypt(
      DecryptScheme scheme, absl::string_view ciphertext) const override;
  absl::StatusOr<std::string> SealGcm(absl::string_view plaintext,
                                      absl::string_view aad) const override;
  absl::StatusOr<SecretBytes> UnsealGcm(absl::string_view sealed,
                                        absl::string_view aad) const override;

 private:
  Pkcs11Key(std::shared_ptr<Pkcs11Token> token, Algorithm algorithm,
            CK_OBJECT_HANDLE private_object, CK_OBJECT_HANDLE public_object,
            size_t modulus_bytes)
      : token_(std::move(token)),
        algorithm_(algorithm),
        private_object_(private_object),
        public_object_(public_object),
        modulus_bytes_(modulus_bytes) {}

  // Decrypt with CKM_RSA_PKCS_OAEP on the token. Unimplemented when the token
  // refuses SHA-256 OAEP parameters (before it has seen the ciphertext).
  absl::StatusOr<SecretBytes> DecryptOaepOnToken(
      absl::string_view ciphertext) const;
  // Raw RSA on the token, OAEP decoding here (see oaep_unpad.h).
  absl::StatusOr<SecretBytes> DecryptRawAndUnpad(
      absl::string_view ciphertext) const;

  const std::shared_ptr<Pkcs11Token> token_;
  const Algorithm algorithm_;
  // The private key, or the secret key of an AES key.
  const CK_OBJECT_HANDLE private_object_;
  // CK_INVALID_HANDLE for AES keys.
  const CK_OBJECT_HANDLE public_object_;
  const size_t modulus_bytes_;  // RSA keys only
};

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_PKCS11_KEY_H_
