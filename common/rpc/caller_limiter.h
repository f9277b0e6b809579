// Bounds the calls in flight per caller ID, so that one misbehaving client
// cannot take every server thread. Thread-safe.
#ifndef RUSTIQ_COMMON_RPC_CALLER_LIMITER_H_
#define RUSTIQ_COMMON_RPC_CALLER_LIMITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace rustiq::rpc {

class CallerLimiter {
 public:
  explicit CallerLimiter(uint32_t max_in_flight_per_caller)
      : max_(max_in_flight_per_caller) {}

  // Takes a slot for `caller`; false when it already has the maximum.
  bool TryAcquire(absl::string_view caller);
  // Returns a slot taken by TryAcquire.
  void Release(absl::string_view caller);
  uint32_t InFlight(absl::string_view caller) const;
  uint32_t max() const { return max_; }

 private:
  const uint32_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_CALLER_LIMITER_H_
