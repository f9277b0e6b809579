#include "common/rpc/caller_limiter.h"

#include "absl/strings/string_view.h"

namespace rustiq::rpc {

bool CallerLimiter::TryAcquire(absl::string_view caller) {
  absl::MutexLock lock(&mu_);
  uint32_t& n = in_flight_[caller];
  if (n >= max_) return false;
  ++n;
  return true;
}

void CallerLimiter::Release(absl::string_view caller) {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(caller);
  if (it == in_flight_.end()) return;
  // Entries are erased at zero so the map holds only active callers.
  if (--it->second == 0) in_flight_.erase(it);
}

uint32_t CallerLimiter::InFlight(absl::string_view caller) const {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(caller);
  return it == in_flight_.end() ? 0 : it->second;
}

}  // namespace rustiq::rpc
