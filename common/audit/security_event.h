// The security-event sink: one interface through which every daemon records
// what the event log must hold (a denied call, a sandbox violation, ...).
// LogSecurityEventSink writes a structured log line; the event-log client
// (common/events/event_log_sink.h) sends each event to eventd and writes the
// same line.
#ifndef RUSTIQ_COMMON_AUDIT_SECURITY_EVENT_H_
#define RUSTIQ_COMMON_AUDIT_SECURITY_EVENT_H_

#include <string>
#include <utility>
#include <vector>

namespace rustiq::audit {

enum class Outcome { kSuccess, kDenied, kFailure };
const char* OutcomeName(Outcome outcome);

struct SecurityEvent {
  std::string category;  // "rpc", "sandbox", "key", "auth", ...
  std::string action;    // "call.denied", "call.unauthenticated", ...
  Outcome outcome = Outcome::kDenied;
  std::string actor;  // caller ID ("client/rustiqctl") or "unauthenticated"
  std::vector<std::pair<std::string, std::string>> attributes;
  // "debug" .. "alert" (common/events/event_names.h); empty: from the
  // outcome (success info, denied warning, failure error).
  std::string severity;
};

// Thread-safe; Record() must not block on I/O to another daemon.
class SecurityEventSink {
 public:
  virtual ~SecurityEventSink() = default;
  virtual void Record(const SecurityEvent& event) = 0;
  // Waits at most `timeout_ms` until everything recorded so far is stored
  // for good (for an act that must be on record before it happens, such
  // as zeroize). True when it is.
  virtual bool Flush(int timeout_ms) {
    (void)timeout_ms;
    return true;
  }
};

// Writes each event as a structured warning line on stderr.
class LogSecurityEventSink final : public SecurityEventSink {
 public:
  void Record(const SecurityEvent& event) override;
};

}  // namespace rustiq::audit

#endif  // RUSTIQ_COMMON_AUDIT_SECURITY_EVENT_H_
