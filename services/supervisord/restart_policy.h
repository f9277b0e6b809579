// When a daemon that ended is started again: exponential back-off with
// jitter, and the crash-loop limit past which it is FAILED instead
// (config::SupervisordConfig explains the knobs). Time is passed in, so
// tests drive it without waiting.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_RESTART_POLICY_H_
#define RUSTIQ_SERVICES_SUPERVISORD_RESTART_POLICY_H_

#include <cstdint>
#include <deque>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "common/config/config.h"

namespace rustiq::supervisord {

class RestartPolicy {
 public:
  explicit RestartPolicy(const config::SupervisordConfig& config);

  // Records an exit at `now` of a run that started at `started`. True when
  // that makes a crash loop: crash_loop_exits exits within
  // crash_loop_seconds.
  bool RecordExit(absl::Time started, absl::Time now);
  // The delay before the next start: restart_delay doubled per exit since
  // the daemon last served a whole crash-loop window, capped, plus up to
  // 25% jitter.
  absl::Duration NextDelay();
  // A person asked for a start: the history is forgotten.
  void Reset();
  size_t recent_exits() const { return exits_.size(); }

 private:
  absl::Duration initial_, max_, window_;
  uint32_t limit_;
  std::deque<absl::Time> exits_;
  uint32_t consecutive_ = 0;
  absl::BitGen random_;
};

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_RESTART_POLICY_H_
