// Where a verifier gets the public half of a version of keyd's
// "token-signing" key: keyd over gRPC for every daemon
// (keyd_token_key_source.h), keyd's own store for keyd, a fixed key in tests.
#ifndef RUSTIQ_COMMON_AUTH_PUBLIC_KEY_SOURCE_H_
#define RUSTIQ_COMMON_AUTH_PUBLIC_KEY_SOURCE_H_

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace rustiq::auth {

// An EVP_PKEY shared between a key source's cache and verifications in
// flight; freed with EVP_PKEY_free when the last holder lets go.
using SharedPublicKey = std::shared_ptr<EVP_PKEY>;

// Takes ownership of `key` (may be null: then an empty pointer).
inline SharedPublicKey ShareKey(EVP_PKEY* key) {
  if (key == nullptr) return nullptr;
  return SharedPublicKey(key, EVP_PKEY_free);
}

class TokenKeySource {
 public:
  virtual ~TokenKeySource() = default;

  // The Ed25519 public key of `version` (>= 1) of the token-signing key.
  // UNAUTHENTICATED when no such version exists (retired or never made: a
  // token naming it is bad); UNAVAILABLE when it cannot be had now.
  // Thread-safe: called from gRPC transport threads concurrently.
  virtual absl::StatusOr<SharedPublicKey> Key(uint32_t version) = 0;
};

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_PUBLIC_KEY_SOURCE_H_
