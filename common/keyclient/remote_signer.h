// A private key held somewhere else (keyd), seen through the one operation
// TLS client authentication needs from it: signing a digest.
//
// MakeRemoteKey (remote_key.h) wraps a RemoteSigner in an EVP_PKEY, so that
// OpenSSL code that expects a private key (SSL_CTX_use_PrivateKey,
// EVP_DigestSign*) calls SignDigest instead of touching key bytes.
#ifndef RUSTIQ_COMMON_KEYCLIENT_REMOTE_SIGNER_H_
#define RUSTIQ_COMMON_KEYCLIENT_REMOTE_SIGNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyclient {

// Implementations must be thread-safe: OpenSSL may sign from any thread that
// runs a handshake, several at once.
class RemoteSigner {
 public:
  virtual ~RemoteSigner() = default;

  // The key's SubjectPublicKeyInfo, DER. It never changes for the lifetime of
  // the object: a signer for a rotated key is a new object. EC P-256 is the
  // only kind MakeRemoteKey accepts.
  virtual const std::string& public_key_der() const = 0;

  // ECDSA P-256: signs `digest` (a SHA-256 digest, exactly 32 bytes) and
  // returns the DER-encoded (r, s). May block (it is an RPC for keyd); the
  // TLS handshake that asked waits for it. Error messages name the key, never
  // key material.
  virtual absl::StatusOr<std::string> SignDigest(absl::string_view digest) = 0;
};

}  // namespace rustiq::keyclient

#endif  // RUSTIQ_COMMON_KEYCLIENT_REMOTE_SIGNER_H_
