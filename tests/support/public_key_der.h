// The DER SubjectPublicKeyInfo of a key, as keyd's GetPublicKey sends it:
// what a test's fake keyd answers and what a test compares a client's key
// with.
#ifndef RUSTIQ_TESTS_SUPPORT_PUBLIC_KEY_DER_H_
#define RUSTIQ_TESTS_SUPPORT_PUBLIC_KEY_DER_H_

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <string>

namespace rustiq::testing {

// The public half of `key` (i2d_PUBKEY); empty if it cannot be encoded.
inline std::string PublicKeyDer(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_PUBLIC_KEY_DER_H_
