#include "common/audit/security_event.h"

#include "absl/strings/str_cat.h"
#include "common/logging/log.h"

namespace rustiq::audit {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kDenied:
      return "denied";
    case Outcome::kFailure:
      return "failure";
  }
  return "failure";
}

void LogSecurityEventSink::Record(const SecurityEvent& event) {
  // Attributes are folded into one field so the record stays one line with a
  // fixed set of keys however many attributes the event carries.
  std::string attrs;
  for (const auto& [k, v] : event.attributes) {
    absl::StrAppend(&attrs, attrs.empty() ? "" : " ", k, "=", v);
  }
  log::Warning("security event", {{"category", event.category},
                                  {"action", event.action},
                                  {"outcome", OutcomeName(event.outcome)},
                                  {"actor", event.actor},
                                  {"attrs", attrs}});
}

}  // namespace rustiq::audit
