// eventd's own security events (a call denied by its enforcement point,
// say) go straight into its log, with source svc/eventd, and to its
// operator log as every daemon's do.
#ifndef RUSTIQ_SERVICES_EVENTD_OWN_EVENT_SINK_H_
#define RUSTIQ_SERVICES_EVENTD_OWN_EVENT_SINK_H_

#include "absl/time/clock.h"
#include "common/audit/security_event.h"
#include "common/events/security_event_input.h"
#include "services/eventd/event_log.h"

namespace rustiq::eventd {

class OwnEventSink final : public audit::SecurityEventSink {
 public:
  // `log` is not owned; null until it is set (events are then only logged).
  void set_log(EventLog* log) { log_ = log; }
  void Record(const audit::SecurityEvent& event) override {
    audit::LogSecurityEventSink().Record(event);
    if (log_ != nullptr) {
      log_->RecordOwn(
          events::ToEventInput(event, absl::ToUnixNanos(absl::Now())));
    }
  }

 private:
  EventLog* log_ = nullptr;
};

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_OWN_EVENT_SINK_H_
