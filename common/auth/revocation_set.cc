#include "common/auth/revocation_set.h"

#include <algorithm>

namespace rustiq::auth {

RevocationSet::RevocationSet() : RevocationSet(Options()) {}

RevocationSet::RevocationSet(Options options) : options_(options) {}

void RevocationSet::ReplaceAll(absl::Span<const Revocation> snapshot) {
  absl::flat_hash_map<std::string, absl::Time> fresh;
  fresh.reserve(snapshot.size());
  for (const Revocation& r : snapshot) {
    absl::Time& expires = fresh[r.token_id];
    expires = std::max(expires, r.expires);
  }
  absl::MutexLock lock(&mu_);
  revoked_.swap(fresh);
}

void RevocationSet::Add(absl::Span<const Revocation> revocations) {
  absl::MutexLock lock(&mu_);
  for (const Revocation& r : revocations) {
    auto [it, inserted] = revoked_.try_emplace(r.token_id, r.expires);
    if (!inserted) it->second = std::max(it->second, r.expires);
  }
}

bool RevocationSet::IsRevoked(absl::string_view token_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return revoked_.contains(token_id);
}

size_t RevocationSet::Prune(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return absl::erase_if(
      revoked_, [now](const auto& entry) { return entry.second <= now; });
}

size_t RevocationSet::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return revoked_.size();
}

void RevocationSet::MarkSynced(absl::Time) {
  absl::MutexLock lock(&mu_);
  synced_ = true;
  disconnected_since_.reset();
}

void RevocationSet::MarkDisconnected(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (!disconnected_since_.has_value()) disconnected_since_ = now;
}

bool RevocationSet::FreshLocked(absl::Time now) const {
  if (options_.always_fresh) return true;
  if (!synced_) return false;
  return !disconnected_since_.has_value() ||
         now - *disconnected_since_ <= options_.stale_after;
}

bool RevocationSet::Fresh(absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  return FreshLocked(now);
}

RevocationSet::Freshness RevocationSet::FreshnessAt(absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  return Freshness{FreshLocked(now), synced_ || options_.always_fresh,
                   disconnected_since_};
}

}  // namespace rustiq::auth
