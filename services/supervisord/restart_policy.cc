#include "services/supervisord/restart_policy.h"

#include <algorithm>

namespace rustiq::supervisord {

RestartPolicy::RestartPolicy(const config::SupervisordConfig& config)
    : initial_(absl::Milliseconds(config.restart_delay_ms)),
      max_(absl::Milliseconds(config.restart_max_delay_ms)),
      window_(absl::Seconds(config.crash_loop_seconds)),
      limit_(config.crash_loop_exits) {}

bool RestartPolicy::RecordExit(absl::Time started, absl::Time now) {
  // A run that lasted a whole window was healthy: the back-off starts over.
  if (now - started >= window_) consecutive_ = 0;
  ++consecutive_;
  exits_.push_back(now);
  while (!exits_.empty() && now - exits_.front() > window_) exits_.pop_front();
  return exits_.size() >= limit_;
}

absl::Duration RestartPolicy::NextDelay() {
  absl::Duration delay = initial_;
  for (uint32_t i = 1; i < consecutive_ && delay < max_; ++i) delay *= 2;
  delay = std::min(delay, max_);
  double jitter = absl::Uniform(random_, 0.0, 0.25);
  return delay + delay * jitter;
}

void RestartPolicy::Reset() {
  exits_.clear();
  consecutive_ = 0;
}

}  // namespace rustiq::supervisord
