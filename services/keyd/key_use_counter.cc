#include "services/keyd/key_use_counter.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace rustiq::keyd {

void KeyUseCounter::Count(absl::string_view caller, absl::string_view key,
                          absl::string_view operation) {
  if (sink_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[Key(std::string(caller), std::string(key), std::string(operation))];
  absl::Time now = absl::Now();
  if (now - window_start_ >= window_) FlushLocked(now);
}

void KeyUseCounter::Flush() {
  if (sink_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  FlushLocked(absl::Now());
}

void KeyUseCounter::FlushLocked(absl::Time now) {
  int64_t seconds = absl::ToInt64Seconds(now - window_start_);
  for (const auto& [k, count] : counts_) {
    const auto& [caller, key, operation] = k;
    audit::SecurityEvent e;
    e.category = "key";
    e.action = "key.used";
    e.outcome = audit::Outcome::kSuccess;
    e.actor = caller;
    e.attributes = {{"key", key},
                    {"operation", operation},
                    {"count", absl::StrCat(count)},
                    {"window_seconds", absl::StrCat(seconds)}};
    sink_->Record(e);  // the sink never blocks
  }
  counts_.clear();
  window_start_ = now;
}

}  // namespace rustiq::keyd
