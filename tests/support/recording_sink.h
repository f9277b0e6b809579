// A security-event sink for tests that remembers every event it was told,
// safe to record into from any thread.
#ifndef RUSTIQ_TESTS_SUPPORT_RECORDING_SINK_H_
#define RUSTIQ_TESTS_SUPPORT_RECORDING_SINK_H_

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/audit/security_event.h"

namespace rustiq::testing {

// Remembers every event; `on_record`, when set, runs inside Record (to look
// at the world at the moment an event is recorded), and `on_flush` inside
// Flush (at the moment the caller waits for its events to be stored).
class RecordingSink final : public audit::SecurityEventSink {
 public:
  void Record(const audit::SecurityEvent& event) override {
    std::function<void(const audit::SecurityEvent&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(event);
      hook = on_record_;
    }
    if (hook) hook(event);
  }
  bool Flush(int /*timeout_ms*/) override {
    std::function<void(size_t)> hook;
    size_t recorded = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = on_flush_;
      recorded = events_.size();
    }
    if (hook) hook(recorded);
    return true;
  }
  void OnRecord(std::function<void(const audit::SecurityEvent&)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_record_ = std::move(hook);
  }
  // `hook` gets the number of events recorded when Flush is called.
  void OnFlush(std::function<void(size_t)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_flush_ = std::move(hook);
  }
  std::vector<audit::SecurityEvent> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  // The events with this action, in order.
  std::vector<audit::SecurityEvent> WithAction(absl::string_view action) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<audit::SecurityEvent> out;
    for (const audit::SecurityEvent& e : events_) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<audit::SecurityEvent> events_;
  std::function<void(const audit::SecurityEvent&)> on_record_;
  std::function<void(size_t)> on_flush_;
};

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_RECORDING_SINK_H_
