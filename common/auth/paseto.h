// PASETO v4.public (https://github.com/paseto-standard/paseto-spec): the
// envelope of rustiq's tokens. This file knows nothing of rustiq's claims;
// token_claims.h describes what goes inside and the whole token format.
//
//   token = "v4.public." + b64(m || sig)              (empty footer)
//         | "v4.public." + b64(m || sig) + "." + b64(footer)
//   sig   = Ed25519(PAE("v4.public.", m, footer, implicit))   (64 bytes)
//   PAE(p1..pn) = LE64(n) || LE64(len(p1)) || p1 || ... || LE64(len(pn)) || pn
//
// b64 is base64url (RFC 4648 section 5) without padding. Decoding is strict
// and canonical: a '=' or any byte outside [A-Za-z0-9_-] is refused, as are
// a length of 1 mod 4 and unused low bits that are not zero, so that every
// token has exactly one spelling (a cache keyed by the token's bytes cannot
// be filled with variants of one token). LE64 is a little-endian 64-bit
// unsigned integer whose top bit is cleared. The implicit assertion is
// signed but not carried in the token: the verifier supplies it.
//
// Every function here is thread-safe (no shared state).
#ifndef RUSTIQ_COMMON_AUTH_PASETO_H_
#define RUSTIQ_COMMON_AUTH_PASETO_H_

#include <openssl/evp.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace rustiq::auth::paseto {

inline constexpr absl::string_view kV4PublicHeader = "v4.public.";
inline constexpr size_t kEd25519SignatureBytes = 64;

// The pieces of a v4.public token, decoded.
struct V4PublicParts {
  std::string message;    // m: the signed payload
  std::string signature;  // 64 bytes
  std::string footer;     // empty when the token has none
};

// base64url without padding. The decoder is strict as described above:
// INVALID_ARGUMENT on any deviation (the message never quotes the input).
std::string Base64UrlEncode(absl::string_view bytes);
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

// PAE (pre-authentication encoding) of `pieces`, as the spec defines it.
std::string PreAuthEncode(absl::Span<const absl::string_view> pieces);

// What the Ed25519 signer must sign for a v4.public token carrying `m` and
// `footer`, bound to `implicit`: PAE("v4.public.", m, footer, implicit).
std::string SigningInput(absl::string_view m, absl::string_view footer,
                         absl::string_view implicit);

// The token for `m`, its 64-byte signature over SigningInput(m, footer,
// implicit) and `footer`. INVALID_ARGUMENT when `sig` is not 64 bytes.
absl::StatusOr<std::string> Assemble(absl::string_view m, absl::string_view sig,
                                     absl::string_view footer);

// Splits and decodes a token without checking its signature. UNAUTHENTICATED
// for anything that is not a well-formed v4.public token:
//   "token is not a v4.public PASETO" (with the version and purpose it has
//   when it names another one), "... has N parts, not 3 or 4",
//   "token payload is not valid base64url", "token footer is not valid
//   base64url", "token payload is too short to hold a signature", ...
absl::StatusOr<V4PublicParts> Parse(absl::string_view token);

// Checks `parts.signature` over SigningInput(parts.message, parts.footer,
// implicit) with the Ed25519 public key `ed25519` (not owned; only read).
// UNAUTHENTICATED "token signature does not verify" when it does not;
// FAILED_PRECONDITION when `ed25519` is not an Ed25519 key.
absl::Status VerifyParts(const V4PublicParts& parts, EVP_PKEY* ed25519,
                         absl::string_view implicit);

// Parse + VerifyParts: the verified payload m. Nothing in the payload is
// checked here (claims are the caller's business).
absl::StatusOr<std::string> VerifyV4Public(absl::string_view token,
                                           EVP_PKEY* ed25519,
                                           absl::string_view implicit);

// A pure Ed25519 signature of `message` with the private key `ed25519` (not
// owned). For tests and for signers holding the key in this process; authd
// has keyd sign instead.
absl::StatusOr<std::string> SignEd25519(EVP_PKEY* ed25519,
                                        absl::string_view message);

// SigningInput + SignEd25519 + Assemble with a local private key.
absl::StatusOr<std::string> SignV4Public(absl::string_view m,
                                         absl::string_view footer,
                                         absl::string_view implicit,
                                         EVP_PKEY* ed25519);

}  // namespace rustiq::auth::paseto

#endif  // RUSTIQ_COMMON_AUTH_PASETO_H_
