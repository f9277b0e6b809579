#include "services/authd/revocation_hub.h"

#include <algorithm>

namespace rustiq::authd {

RevocationHub::RevocationHub(std::vector<Revocation> active, Apply apply)
    : apply_(std::move(apply)) {
  if (apply_) apply_(active);
  absl::MutexLock lock(&mu_);
  for (Revocation& r : active) active_.emplace_back(next_seq_++, std::move(r));
}

void RevocationHub::Publish(const std::vector<Revocation>& revoked) {
  if (revoked.empty()) return;
  if (apply_) apply_(revoked);
  absl::MutexLock lock(&mu_);
  for (const Revocation& r : revoked) active_.emplace_back(next_seq_++, r);
  changed_.SignalAll();
}

void RevocationHub::Fill(const Revocation& r, v1::Revocation* out) {
  out->set_token_id(r.token_id);
  out->set_expires_unix_seconds(absl::ToUnixSeconds(r.expires));
}

void RevocationHub::Follow(
    const std::function<bool(const v1::WatchRevocationsResponse&)>& write,
    const std::function<bool()>& cancelled, absl::Duration poll) {
  v1::WatchRevocationsResponse message;
  message.set_snapshot(true);
  uint64_t seen = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [seq, r] : active_) Fill(r, message.add_revocations());
    seen = next_seq_ - 1;
  }
  if (!write(message)) return;
  while (true) {
    message.Clear();
    {
      absl::MutexLock lock(&mu_);
      while (!shut_down_ && next_seq_ - 1 == seen) {
        changed_.WaitWithTimeout(&mu_, poll);
        if (cancelled()) return;
      }
      if (shut_down_) return;
      for (const auto& [seq, r] : active_) {
        if (seq > seen) Fill(r, message.add_revocations());
      }
      seen = next_seq_ - 1;
    }
    if (message.revocations_size() > 0 && !write(message)) return;
  }
}

void RevocationHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  changed_.SignalAll();
}

void RevocationHub::Prune(absl::Time now) {
  absl::MutexLock lock(&mu_);
  active_.erase(
      std::remove_if(active_.begin(), active_.end(),
                     [&](const auto& e) { return e.second.expires <= now; }),
      active_.end());
}

size_t RevocationHub::size() const {
  absl::MutexLock lock(&mu_);
  return active_.size();
}

}  // namespace rustiq::authd
