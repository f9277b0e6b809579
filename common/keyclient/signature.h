// OSSL_OP_SIGNATURE of the remote-key provider: ECDSA P-256 with SHA-256,
// whose private operation is RemoteSigner::SignDigest.
//
// Internal to common/keyclient.
#ifndef RUSTIQ_COMMON_KEYCLIENT_SIGNATURE_H_
#define RUSTIQ_COMMON_KEYCLIENT_SIGNATURE_H_

#include <openssl/core.h>

namespace rustiq::keyclient::internal {

// Signing: sign (a 32-byte digest, EVP_PKEY_sign) and digest-sign (init,
// update, final and one-shot; libssl signs CertificateVerify with
// EVP_DigestSign, and OpenSSL 3.0 has no fallback for a provider without
// digest-sign functions). SHA-256 only: any other digest fails at init, so
// libssl skips the signature schemes that would need it.
//
// Verification (verify, digest-verify) and the parameters libssl and X.509
// signing read are delegated to the default provider with the public half.
extern const OSSL_DISPATCH kRemoteEcdsaSignatureFunctions[];

}  // namespace rustiq::keyclient::internal

#endif  // RUSTIQ_COMMON_KEYCLIENT_SIGNATURE_H_
