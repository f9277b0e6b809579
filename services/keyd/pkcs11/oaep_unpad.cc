// RSA_padding_check_PKCS1_OAEP_mgf1 is deprecated in OpenSSL 3 along with the
// rest of the low-level RSA API, but it is the only public constant-time OAEP
// decoder that works on bytes we already hold (the EVP interface wants the
// private key). Un-deprecate it for this file alone.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "services/keyd/pkcs11/oaep_unpad.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "absl/status/status.h"
#include "services/keyd/pkcs11/decrypt_failure.h"

namespace rustiq::keyd::pkcs11 {

absl::StatusOr<SecretBytes> OaepSha256Unpad(const SecretBytes& encoded,
                                            size_t modulus_bytes) {
  if (encoded.size() != modulus_bytes || modulus_bytes < 2 * 32 + 2) {
    return DecryptFailure();
  }
  SecretBytes message(modulus_bytes);
  // As OpenSSL's own RSA decryption calls it: the whole block, leading zero
  // byte included.
  int len = RSA_padding_check_PKCS1_OAEP_mgf1(
      message.data(), static_cast<int>(message.size()), encoded.data(),
      static_cast<int>(encoded.size()), static_cast<int>(modulus_bytes),
      nullptr, 0, EVP_sha256(), EVP_sha256());
  if (len < 0) {
    ERR_clear_error();  // the reason stays private, even from later messages
    return DecryptFailure();
  }
  message.Truncate(static_cast<size_t>(len));
  return message;
}

}  // namespace rustiq::keyd::pkcs11
