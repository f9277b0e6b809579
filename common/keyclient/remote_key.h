// An EVP_PKEY whose private half is somewhere else (keyd): OpenSSL signs with
// it by calling a RemoteSigner. This is how cloudd presents the device
// identity in a TLS handshake without ever holding the identity key.
#ifndef RUSTIQ_COMMON_KEYCLIENT_REMOTE_KEY_H_
#define RUSTIQ_COMMON_KEYCLIENT_REMOTE_KEY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/keyclient/remote_signer.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyclient {

// An EC P-256 EVP_PKEY whose private operations are calls to `signer`
// (RemoteSigner::SignDigest, once per signature) and whose public half is
// signer->public_key_der(). It works where a private key is expected:
//   - SSL_CTX_use_PrivateKey / SSL_use_PrivateKey (client or server
//     certificate key; TLS 1.3 and TLS 1.2 ECDSA, SHA-256 schemes only:
//     libssl skips the others because the key refuses them);
//   - EVP_DigestSign* and EVP_PKEY_sign with SHA-256, X509_REQ_sign_ctx;
//   - EVP_PKEY_eq, X509_check_private_key, i2d_PUBKEY, EVP_DigestVerify* and
//     EVP_PKEY_verify, all done by the default provider with the public half.
// Every signature is checked against the public half before OpenSSL sees it.
//
// The key belongs to a library context of the provider's own (see
// internal::RemoteKeyLibraryContext); it works with SSL_CTXs and EVP calls
// in the default or any other context whose property query, if any, does not
// require another provider. The EVP_PKEY keeps `signer` alive; it may be used
// from several threads as OpenSSL allows for any EVP_PKEY.
//
// A signer is tied to one key version: when keyd rotates the key, make a new
// signer, a new key and a new certificate (signatures by a stale signer fail
// the check above).
absl::StatusOr<pki::EvpPkeyPtr> MakeRemoteKey(
    std::shared_ptr<RemoteSigner> signer);

}  // namespace rustiq::keyclient

#endif  // RUSTIQ_COMMON_KEYCLIENT_REMOTE_KEY_H_
