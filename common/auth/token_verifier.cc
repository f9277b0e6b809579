#include "common/auth/token_verifier.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/paseto.h"

namespace rustiq::auth {
namespace {

std::string Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    return "";  // never in practice; an empty key simply is not cached
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace

LocalTokenVerifier::LocalTokenVerifier(Options options, TokenKeySource* keys,
                                       RevocationSet* revocations)
    : options_(std::move(options)),
      claims_options_{options_.clock_skew, options_.max_lifetime},
      implicit_(ImplicitAssertion(options_.device_id)),
      keys_(keys),
      revocations_(revocations) {}

absl::StatusOr<rpc::TokenClaims> LocalTokenVerifier::Verify(
    absl::string_view token) {
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "the call's token is empty: log in first ('rustiqctl login')");
  }
  if (token.size() > kMaxTokenBytes) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token is larger than ", kMaxTokenBytes, " bytes: not a rustiq token"));
  }
  absl::Time now = options_.now();
  if (!options_.cache || options_.cache_entries == 0) {
    return VerifyFully(token, now);
  }
  Digest digest = Sha256(token);
  if (digest.empty()) return VerifyFully(token, now);
  if (Cached hit = Lookup(digest); hit != nullptr) {
    absl::Status s = CheckStillValid(*hit, now);
    if (absl::IsUnauthenticated(s)) Forget(digest);  // expired or revoked
    if (!s.ok()) return s;
    return *hit;
  }
  absl::StatusOr<rpc::TokenClaims> claims = VerifyFully(token, now);
  if (claims.ok()) {
    Insert(digest, std::make_shared<const rpc::TokenClaims>(*claims));
  }
  return claims;
}

absl::StatusOr<rpc::TokenClaims> LocalTokenVerifier::VerifyFully(
    absl::string_view token, absl::Time now) {
  absl::StatusOr<paseto::V4PublicParts> parts = paseto::Parse(token);
  if (!parts.ok()) return parts.status();
  absl::StatusOr<uint32_t> version = ParseKeyIdFooter(parts->footer);
  if (!version.ok()) return version.status();
  absl::StatusOr<SharedPublicKey> key = keys_->Key(*version);
  if (!key.ok()) return key.status();
  if (*key == nullptr) {
    return absl::UnavailableError(
        "the token-signing key source returned no key");
  }
  if (absl::Status s = paseto::VerifyParts(*parts, key->get(), implicit_);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<rpc::TokenClaims> claims =
      DecodePayload(parts->message, options_.device_id, now, claims_options_);
  if (!claims.ok()) return claims.status();
  if (absl::Status s = CheckStillValid(*claims, now); !s.ok()) return s;
  return claims;
}

absl::Status LocalTokenVerifier::CheckStillValid(const rpc::TokenClaims& claims,
                                                 absl::Time now) const {
  if (absl::Status s = CheckNotExpired(claims, now); !s.ok()) return s;
  if (revocations_->IsRevoked(claims.token_id)) {
    return absl::UnauthenticatedError(
        "token has been revoked (logout, password or role change, or account "
        "deleted): log in again ('rustiqctl login')");
  }
  RevocationSet::Freshness freshness = revocations_->FreshnessAt(now);
  if (!freshness.fresh) {
    if (freshness.unreachable_since.has_value()) {
      return absl::UnavailableError(absl::StrCat(
          "revoked tokens are not known: authd has not been reachable for ",
          absl::ToInt64Seconds(now - *freshness.unreachable_since),
          " s; retry when it is"));
    }
    return absl::UnavailableError(
        "revoked tokens are not known: this daemon has not heard from authd "
        "yet; retry in a moment");
  }
  return absl::OkStatus();
}

LocalTokenVerifier::Cached LocalTokenVerifier::Lookup(const Digest& digest) {
  absl::MutexLock lock(&mu_);
  if (auto it = current_.find(digest); it != current_.end()) return it->second;
  auto it = previous_.find(digest);
  if (it == previous_.end()) return nullptr;
  Cached hit = std::move(it->second);
  previous_.erase(it);
  size_t half = std::max<size_t>(1, options_.cache_entries / 2);
  if (current_.size() >= half) previous_ = std::exchange(current_, {});
  current_.emplace(digest, hit);
  return hit;
}

void LocalTokenVerifier::Insert(const Digest& digest, Cached claims) {
  absl::MutexLock lock(&mu_);
  size_t half = std::max<size_t>(1, options_.cache_entries / 2);
  if (current_.size() >= half) previous_ = std::exchange(current_, {});
  current_.insert_or_assign(digest, std::move(claims));
}

void LocalTokenVerifier::Forget(const Digest& digest) {
  absl::MutexLock lock(&mu_);
  current_.erase(digest);
  previous_.erase(digest);
}

size_t LocalTokenVerifier::CachedTokens() const {
  absl::MutexLock lock(&mu_);
  return current_.size() + previous_.size();
}

}  // namespace rustiq::auth
