#include "common/events/security_event_input.h"

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "common/events/event_limits.h"
#include "common/events/event_names.h"

namespace rustiq::events {
namespace {

// The longest prefix of `s` of at most `max` bytes that does not cut a
// UTF-8 sequence.
std::string Trim(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// [a-z0-9_.-] only; anything else becomes '_'.
std::string NameChars(const std::string& s, size_t max) {
  std::string out = absl::AsciiStrToLower(s.substr(0, max));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '_' &&
        c != '.' && c != '-') {
      c = '_';
    }
  }
  return out;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

}  // namespace

v1::EventInput ToEventInput(const audit::SecurityEvent& event,
                            int64_t occurred_unix_nanos) {
  v1::EventInput in;
  v1::EventCategory category = v1::EVENT_CATEGORY_POLICY;
  CategoryFromName(event.category, &category);
  in.set_category(category);
  std::string action = NameChars(event.action, kMaxActionBytes);
  if (action.empty() ||
      !absl::ascii_islower(static_cast<unsigned char>(action[0]))) {
    action = "x" + action.substr(0, kMaxActionBytes - 1);
  }
  in.set_action(action);
  switch (event.outcome) {
    case audit::Outcome::kSuccess:
      in.set_outcome(v1::EVENT_OUTCOME_SUCCESS);
      in.set_severity(v1::EVENT_SEVERITY_INFO);
      break;
    case audit::Outcome::kDenied:
      in.set_outcome(v1::EVENT_OUTCOME_DENIED);
      in.set_severity(v1::EVENT_SEVERITY_WARNING);
      break;
    case audit::Outcome::kFailure:
      in.set_outcome(v1::EVENT_OUTCOME_FAILURE);
      in.set_severity(v1::EVENT_SEVERITY_ERROR);
      break;
  }
  v1::EventSeverity severity;
  if (!event.severity.empty() && SeverityFromName(event.severity, &severity)) {
    in.set_severity(severity);
  }
  in.set_actor(Trim(Printable(event.actor), kMaxActorBytes));
  std::set<std::string> keys;
  for (const auto& [k, v] : event.attributes) {
    if (static_cast<size_t>(in.attributes_size()) >= kMaxAttributes) break;
    std::string key = NameChars(k, kMaxAttributeKeyBytes);
    if (key.empty() || !keys.insert(key).second) continue;
    v1::EventAttribute* a = in.add_attributes();
    a->set_key(key);
    std::string value = v;
    value.erase(std::remove(value.begin(), value.end(), '\0'), value.end());
    a->set_value(Trim(value, kMaxAttributeValueBytes));
  }
  in.set_occurred_unix_nanos(occurred_unix_nanos);
  return in;
}

}  // namespace rustiq::events
