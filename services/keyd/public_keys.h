// Public-key work keyd does without the backend: verifying signatures with a
// stored public key, and reading imported public keys.
#ifndef RUSTIQ_SERVICES_KEYD_PUBLIC_KEYS_H_
#define RUSTIQ_SERVICES_KEYD_PUBLIC_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/keyd/backend.h"

namespace rustiq::keyd {

// True when `signature` is valid for `input` (a 32-byte digest, or the
// message for Ed25519) under the SubjectPublicKeyInfo `public_key_der`.
absl::StatusOr<bool> VerifySignature(absl::string_view public_key_der,
                                     SignatureScheme scheme,
                                     absl::string_view input,
                                     absl::string_view signature);

struct ParsedPublicKey {
  Algorithm algorithm;
  std::string der;  // SubjectPublicKeyInfo
};

// Parses a PEM public key and says which algorithm it is; refuses anything
// other than EC P-256, Ed25519 and RSA-3072.
absl::StatusOr<ParsedPublicKey> ParsePublicKeyPem(absl::string_view pem);

// The SPKI DER as PEM.
absl::StatusOr<std::string> PublicKeyPem(absl::string_view der);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_PUBLIC_KEYS_H_
