// Assembling a person's token (format in token_claims.h) around a signature
// made elsewhere: authd has keyd sign with the "token-signing" key (Keys/Sign,
// SIGNATURE_ALGORITHM_ED25519, the signing input as the message); tests sign
// with a local key. Both share this code, so a token is built one way only.
#ifndef RUSTIQ_COMMON_AUTH_TOKEN_ISSUER_H_
#define RUSTIQ_COMMON_AUTH_TOKEN_ISSUER_H_

#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/rpc/token_verifier.h"

namespace rustiq::auth {

// Signs `signing_input` (the PASETO PAE bytes) with Ed25519 and returns the
// 64-byte signature. Called once per IssueToken, on the caller's thread.
using TokenSignFunction =
    std::function<absl::StatusOr<std::string>(absl::string_view signing_input)>;

// The token carrying `claims` (token_id from NewTokenId(), issued/expires in
// whole seconds), issued on `device_id`, naming version `key_version` of the
// token-signing key in its footer, signed by `sign`.
//
// The footer is part of what is signed, so the version must be known before
// signing: authd asks keyd for the current version (GetPublicKey, version 0),
// signs, and checks that SignResponse.version is the same (a rotation in
// between: issue again).
//
// INVALID_ARGUMENT for claims no verifier would accept or a token over 4096
// bytes; `sign`'s error as it is; INTERNAL when the signature is not 64
// bytes.
absl::StatusOr<std::string> IssueToken(const rpc::TokenClaims& claims,
                                       absl::string_view device_id,
                                       uint32_t key_version,
                                       const TokenSignFunction& sign);

// A TokenSignFunction over a local Ed25519 private key (not owned; must
// outlive the function). For tests and tools.
TokenSignFunction LocalEd25519Signer(EVP_PKEY* private_key);

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_TOKEN_ISSUER_H_
