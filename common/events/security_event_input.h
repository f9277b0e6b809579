// The EventInput of an audit::SecurityEvent: what every daemon's sink sends
// to eventd. Categories map by name ("rpc", "key", ...); the severity
// follows the outcome (success: info, denied: warning, failure: error)
// unless the event names one. Fields are trimmed to the bounds of
// event_limits.h, so a sink never sends what eventd would refuse.
#ifndef RUSTIQ_COMMON_EVENTS_SECURITY_EVENT_INPUT_H_
#define RUSTIQ_COMMON_EVENTS_SECURITY_EVENT_INPUT_H_

#include "common/audit/security_event.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {

v1::EventInput ToEventInput(const audit::SecurityEvent& event,
                            int64_t occurred_unix_nanos);

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_SECURITY_EVENT_INPUT_H_
