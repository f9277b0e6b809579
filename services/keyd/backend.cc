#include "services/keyd/backend.h"

namespace rustiq::keyd {

const char* AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcP256:
      return "ec-p256";
    case Algorithm::kEd25519:
      return "ed25519";
    case Algorithm::kRsa3072:
      return "rsa-3072";
    case Algorithm::kAes256:
      return "aes-256";
  }
  return "unknown";
}

bool ParseAlgorithm(absl::string_view name, Algorithm* algorithm) {
  for (Algorithm a : {Algorithm::kEcP256, Algorithm::kEd25519,
                      Algorithm::kRsa3072, Algorithm::kAes256}) {
    if (name == AlgorithmName(a)) {
      *algorithm = a;
      return true;
    }
  }
  return false;
}

Algorithm SchemeAlgorithm(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaP256Sha256:
      return Algorithm::kEcP256;
    case SignatureScheme::kEd25519:
      return Algorithm::kEd25519;
    case SignatureScheme::kRsaPssSha256:
    case SignatureScheme::kRsaPkcs1Sha256:
      return Algorithm::kRsa3072;
  }
  return Algorithm::kEcP256;
}

bool SchemeTakesDigest(SignatureScheme scheme) {
  return scheme != SignatureScheme::kEd25519;
}

}  // namespace rustiq::keyd
