// rustiq's token for a person: its claims, its footer, and the checks every
// daemon makes of them.
//
// Token format (authd issues, keyd's "token-signing" Ed25519 key signs,
// every daemon verifies; see paseto.h for the envelope):
//
//   token    = "v4.public." + base64url_nopad(m || sig)
//                           + "." + base64url_nopad(footer)
//   sig      = Ed25519(PAE("v4.public.", m, footer, implicit))   64 bytes
//   PAE      = LE64(count) || for each piece: LE64(len) || piece
//              (LE64: 64-bit little endian, top bit cleared)
//   implicit = "rustiq-device:" + <device ID>
//              signed, never sent: a token verifies only on its own device
//   footer   = {"kid":"token-signing:<keyd key version, decimal>"}
//              exactly these bytes (no spaces; version 1-4294967295, no
//              leading zero); read before the signature is checked, only to
//              pick the key version, and nothing else in it is trusted
//   m        = a JSON object (UTF-8):
//     "iss"   string  the device ID; must equal the verifier's
//     "aud"   string  "rustiq"
//     "sub"   string  the user name: 1-32 bytes, ^[a-z_][a-z0-9_.-]*$
//     "jti"   string  token ID: 32 lowercase hex digits (16 random bytes);
//                     what revocations name
//     "iat"   string  issued at  } RFC 3339 UTC, whole seconds, exactly
//     "nbf"   string  not before } "YYYY-MM-DDTHH:MM:SSZ"; nbf = iat when
//     "exp"   string  expires    } authd issues
//     "roles" array of strings, at most 32
//     "perms" array of strings, at most 64 (the permissions of the roles
//                     at issue time)
//     each role and permission 1-64 bytes of [a-z0-9_.-].
//   Every claim above is required with that JSON type; a claim named twice
//   makes the token invalid; other claims are ignored.
//
// Bounds and checks, in this order (all UNAUTHENTICATED when they fail):
// the whole token at most 4096 bytes; the envelope well formed; the footer's
// key version known to keyd; the signature; the claims as above; iss equals
// the device ID; aud is "rustiq"; iat and nbf not more than the clock skew
// (default 30 s) ahead of now; exp after now; exp after iat and exp - iat
// at most the maximum lifetime (default 12 h); the jti not revoked.
#ifndef RUSTIQ_COMMON_AUTH_TOKEN_CLAIMS_H_
#define RUSTIQ_COMMON_AUTH_TOKEN_CLAIMS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/rpc/token_verifier.h"

namespace rustiq::auth {

// keyd's well-known key that signs people's tokens.
inline constexpr absl::string_view kTokenKeyName = "token-signing";
inline constexpr absl::string_view kAudience = "rustiq";
inline constexpr absl::string_view kImplicitPrefix = "rustiq-device:";

inline constexpr size_t kMaxTokenBytes = 4096;
inline constexpr size_t kMaxUserNameBytes = 32;
inline constexpr size_t kMaxRoles = 32;
inline constexpr size_t kMaxPermissions = 64;
inline constexpr size_t kMaxRoleOrPermissionBytes = 64;
inline constexpr size_t kTokenIdHexDigits = 32;

// What the time checks allow.
struct ClaimsOptions {
  // How far ahead of this device's clock iat and nbf may be.
  absl::Duration clock_skew = absl::Seconds(30);
  // The longest exp - iat accepted.
  absl::Duration max_lifetime = absl::Hours(12);
};

// The implicit assertion binding a token to `device_id`.
std::string ImplicitAssertion(absl::string_view device_id);

// 1-32 bytes, ^[a-z_][a-z0-9_.-]*$ (as auth.proto's User.name).
bool IsValidUserName(absl::string_view name);
// 1-64 bytes of [a-z0-9_.-].
bool IsValidRoleOrPermission(absl::string_view name);
// 32 lowercase hex digits.
bool IsValidTokenId(absl::string_view token_id);

// A fresh token ID: 16 bytes from RAND_bytes, in lowercase hex. Aborts the
// process if the random generator fails (a predictable ID would let tokens
// collide in revocation).
std::string NewTokenId();

// The payload m for `claims`, issued on `device_id`. Times are written in
// whole seconds (sub-second parts are dropped) and nbf = iat.
// INVALID_ARGUMENT when the claims break a bound above (so authd cannot
// issue a token no daemon would accept).
absl::StatusOr<std::string> EncodePayload(const rpc::TokenClaims& claims,
                                          absl::string_view device_id);

// The claims of payload `json` for a verifier on `device_id` at `now`: every
// claims check above except revocation. UNAUTHENTICATED naming the claim at
// fault; never quotes a claim's value beyond the times.
absl::StatusOr<rpc::TokenClaims> DecodePayload(absl::string_view json,
                                               absl::string_view device_id,
                                               absl::Time now,
                                               const ClaimsOptions& options);

// The expiry check alone, for a token whose other claims were checked
// before (a cache hit). UNAUTHENTICATED "token expired at ...".
absl::Status CheckNotExpired(const rpc::TokenClaims& claims, absl::Time now);

// {"kid":"token-signing:<version>"}
std::string KeyIdFooter(uint32_t version);
// The key version named by `footer`, which must be byte for byte what
// KeyIdFooter makes (at most 64 bytes, parsed by hand: no JSON parser runs
// on unauthenticated input). UNAUTHENTICATED otherwise.
absl::StatusOr<uint32_t> ParseKeyIdFooter(absl::string_view footer);

// "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds), and its strict parse
// (exactly that shape, a real calendar time); exposed for tests.
std::string FormatTokenTime(absl::Time t);
bool ParseTokenTime(absl::string_view text, absl::Time* t);

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_TOKEN_CLAIMS_H_
