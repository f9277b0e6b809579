// The interface every key backend implements (soft, pkcs11; later TPM 2.0).
//
// A backend generates keys and performs their private operations. It does
// not know names, versions, callers or policies: KeyManager keeps those in
// the key store and hands the backend, for each key version, the `handle` the
// backend returned when it generated the key. What a handle holds is the
// backend's business: the soft backend's handle is the private key itself
// (kept only inside the encrypted store), a PKCS#11 handle names
// non-extractable objects on the token. The store treats every handle as
// secret.
#ifndef RUSTIQ_SERVICES_KEYD_BACKEND_H_
#define RUSTIQ_SERVICES_KEYD_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd {

enum class Algorithm { kEcP256, kEd25519, kRsa3072, kAes256 };
const char* AlgorithmName(Algorithm algorithm);  // "ec-p256", ...
bool ParseAlgorithm(absl::string_view name, Algorithm* algorithm);

enum class SignatureScheme {
  kEcdsaP256Sha256,  // input: a 32-byte SHA-256 digest; output: DER (r, s)
  kEd25519,          // input: the message itself; output: 64 bytes
  kRsaPssSha256,     // input: a 32-byte digest; salt 32, MGF1-SHA256
  kRsaPkcs1Sha256,   // input: a 32-byte digest
};
// Which key algorithm a scheme needs.
Algorithm SchemeAlgorithm(SignatureScheme scheme);
// Whether the scheme signs a SHA-256 digest (true) or the message (Ed25519).
bool SchemeTakesDigest(SignatureScheme scheme);

enum class DecryptScheme {
  kRsaOaepSha256,  // MGF1-SHA256, empty label
};

inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

// One key version, opened. Safe to use from several threads at once.
class BackendKey {
 public:
  virtual ~BackendKey() = default;
  virtual Algorithm algorithm() const = 0;
  // SubjectPublicKeyInfo DER. FailedPrecondition for AES keys.
  virtual absl::StatusOr<std::string> PublicKeyDer() const = 0;
  // `input` as SchemeTakesDigest() says. The caller (KeyManager) has checked
  // that the scheme fits the algorithm and the digest length; a backend
  // still refuses a mismatch with InvalidArgument rather than misbehave.
  virtual absl::StatusOr<std::string> Sign(SignatureScheme scheme,
                                           absl::string_view input) const = 0;
  // RSA keys only. A ciphertext that does not decrypt is InvalidArgument
  // with one fixed message (no padding oracle detail).
  virtual absl::StatusOr<SecretBytes> Decrypt(
      DecryptScheme scheme, absl::string_view ciphertext) const = 0;
  // AES keys only: AES-256-GCM with a fresh random 96-bit nonce. Returns
  // nonce || ciphertext || tag.
  virtual absl::StatusOr<std::string> SealGcm(absl::string_view plaintext,
                                              absl::string_view aad) const = 0;
  // The inverse; a wrong key, AAD or any altered byte is InvalidArgument
  // with one fixed message.
  virtual absl::StatusOr<SecretBytes> UnsealGcm(
      absl::string_view sealed, absl::string_view aad) const = 0;
};

class KeyBackend {
 public:
  virtual ~KeyBackend() = default;
  // "soft", "pkcs11".
  virtual const char* name() const = 0;
  // Generates a key. `label` (the key name and version, "device-ca.v1") may
  // be recorded on the backend for an operator's inspection. Returns the
  // handle to store.
  virtual absl::StatusOr<SecretBytes> Generate(Algorithm algorithm,
                                               absl::string_view label) = 0;
  // Opens a stored handle. DataLoss when the handle is malformed or its
  // objects are gone from the backend.
  virtual absl::StatusOr<std::unique_ptr<BackendKey>> Open(
      Algorithm algorithm, const SecretBytes& handle) = 0;
  // Destroys the key material a handle refers to (a token object); a no-op
  // for backends whose handle is the material (the store forgets it).
  virtual absl::Status Destroy(Algorithm algorithm,
                               const SecretBytes& handle) = 0;
  // Starts the backend's background threads (soft: the ECDSA nonce
  // precomputation). keyd calls it once it is confined: a thread started
  // before confinement would not be confined.
  virtual void StartWorkers() {}
  // Zeroize: destroys every key this backend ever created for rustiq,
  // including ones the store no longer lists.
  virtual absl::Status DestroyAll() = 0;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_BACKEND_H_
