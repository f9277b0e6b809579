// rpc::TokenVerifier for people's tokens (format in token_claims.h): every
// daemon's check of the "authorization: Bearer" token of a call.
//
// Verify() runs on gRPC transport threads, many at once. It checks, in
// order: size (at most 4096 bytes), envelope, footer key ID, the key of that
// version (from a TokenKeySource), the Ed25519 signature with the device's
// implicit assertion, the claims and time window, and revocation. A token
// that passed is cached by its SHA-256: a hit skips the signature and the
// JSON but still checks expiry and revocation. Only valid tokens enter the
// cache, and it is bounded, so a flood of distinct bad tokens costs CPU, not
// memory.
#ifndef RUSTIQ_COMMON_AUTH_TOKEN_VERIFIER_H_
#define RUSTIQ_COMMON_AUTH_TOKEN_VERIFIER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/public_key_source.h"
#include "common/auth/revocation_set.h"
#include "common/auth/token_claims.h"
#include "common/rpc/token_verifier.h"

namespace rustiq::auth {

class LocalTokenVerifier final : public rpc::TokenVerifier {
 public:
  struct Options {
    std::string device_id;  // tokens verify only for this device
    bool cache = true;
    size_t cache_entries = 4096;  // at most this many valid tokens remembered
    absl::Duration clock_skew = absl::Seconds(30);
    absl::Duration max_lifetime = absl::Hours(12);
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  // `keys` and `revocations` are not owned and must outlive the verifier.
  LocalTokenVerifier(Options options, TokenKeySource* keys,
                     RevocationSet* revocations);

  // UNAUTHENTICATED with what is wrong for a bad, expired or revoked token;
  // UNAVAILABLE when the key cannot be fetched or the revocation list is
  // stale ("revoked tokens are not known: authd has not been reachable for
  // N s; retry when it is"). Messages never quote the token.
  absl::StatusOr<rpc::TokenClaims> Verify(absl::string_view token) override;

  // Valid tokens currently cached (for tests and metrics).
  size_t CachedTokens() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Digest = std::string;  // SHA-256 of the token, 32 bytes
  using Cached = std::shared_ptr<const rpc::TokenClaims>;

  absl::StatusOr<rpc::TokenClaims> VerifyFully(absl::string_view token,
                                               absl::Time now);
  // Expiry and revocation: what must be asked again of a cached token.
  absl::Status CheckStillValid(const rpc::TokenClaims& claims,
                               absl::Time now) const;
  Cached Lookup(const Digest& digest) ABSL_LOCKS_EXCLUDED(mu_);
  void Insert(const Digest& digest, Cached claims) ABSL_LOCKS_EXCLUDED(mu_);
  void Forget(const Digest& digest) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  const ClaimsOptions claims_options_;
  const std::string implicit_;
  TokenKeySource* const keys_;
  RevocationSet* const revocations_;

  // Two generations approximate LRU in O(1): entries go into current_; when
  // it holds half the budget it becomes previous_ (whose entries are
  // dropped), and a hit in previous_ moves the entry back into current_.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Digest, Cached> current_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Digest, Cached> previous_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_TOKEN_VERIFIER_H_
