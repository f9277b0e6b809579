// The security-event sink: one interface through which every daemon records
// what the event log must hold (a denied call, a sandbox violation, ...).
// Today's implementation writes a structured log line; the event-log client
// of common/events replaces it without touching the callers.
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
};

// Thread-safe; Record() must not block on I/O to another daemon.
class SecurityEventSink {
 public:
  virtual ~SecurityEventSink() = default;
  virtual void Record(const SecurityEvent& event) = 0;
};

// Writes each event as a structured warning line on stderr.
class LogSecurityEventSink final : public SecurityEventSink {
 public:
  void Record(const SecurityEvent& event) override;
};

}  // namespace rustiq::audit

#endif  // RUSTIQ_COMMON_AUDIT_SECURITY_EVENT_H_
