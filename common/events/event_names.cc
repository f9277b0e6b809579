#include "common/events/event_names.h"

#include <array>
#include <utility>

namespace rustiq::events {
namespace {

template <typename E, size_t N>
const char* NameOf(const std::array<std::pair<E, const char*>, N>& table,
                   E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
bool ValueOf(const std::array<std::pair<E, const char*>, N>& table,
             absl::string_view name, E* out) {
  for (const auto& [v, n] : table) {
    if (name == n) {
      *out = v;
      return true;
    }
  }
  return false;
}

constexpr std::array<std::pair<v1::EventCategory, const char*>, 10>
    kCategories = {{
        {v1::EVENT_CATEGORY_AUTH, "auth"},
        {v1::EVENT_CATEGORY_KEY, "key"},
        {v1::EVENT_CATEGORY_UPDATE, "update"},
        {v1::EVENT_CATEGORY_SANDBOX, "sandbox"},
        {v1::EVENT_CATEGORY_NETWORK, "network"},
        {v1::EVENT_CATEGORY_ADMIN, "admin"},
        {v1::EVENT_CATEGORY_SUPERVISOR, "supervisor"},
        {v1::EVENT_CATEGORY_POLICY, "policy"},
        {v1::EVENT_CATEGORY_RPC, "rpc"},
        {v1::EVENT_CATEGORY_EVENTLOG, "eventlog"},
    }};

constexpr std::array<std::pair<v1::EventOutcome, const char*>, 3> kOutcomes = {{
    {v1::EVENT_OUTCOME_SUCCESS, "success"},
    {v1::EVENT_OUTCOME_DENIED, "denied"},
    {v1::EVENT_OUTCOME_FAILURE, "failure"},
}};

constexpr std::array<std::pair<v1::EventSeverity, const char*>, 7> kSeverities =
    {{
        {v1::EVENT_SEVERITY_DEBUG, "debug"},
        {v1::EVENT_SEVERITY_INFO, "info"},
        {v1::EVENT_SEVERITY_NOTICE, "notice"},
        {v1::EVENT_SEVERITY_WARNING, "warning"},
        {v1::EVENT_SEVERITY_ERROR, "error"},
        {v1::EVENT_SEVERITY_CRITICAL, "critical"},
        {v1::EVENT_SEVERITY_ALERT, "alert"},
    }};

}  // namespace

const char* CategoryName(v1::EventCategory category) {
  return NameOf(kCategories, category);
}
const char* OutcomeName(v1::EventOutcome outcome) {
  return NameOf(kOutcomes, outcome);
}
const char* SeverityName(v1::EventSeverity severity) {
  return NameOf(kSeverities, severity);
}
bool CategoryFromName(absl::string_view name, v1::EventCategory* out) {
  return ValueOf(kCategories, name, out);
}
bool OutcomeFromName(absl::string_view name, v1::EventOutcome* out) {
  return ValueOf(kOutcomes, name, out);
}
bool SeverityFromName(absl::string_view name, v1::EventSeverity* out) {
  return ValueOf(kSeverities, name, out);
}
const char* CategoryNames() {
  return "auth, key, update, sandbox, network, admin, supervisor, policy, "
         "rpc, eventlog";
}
const char* OutcomeNames() { return "success, denied, failure"; }
const char* SeverityNames() {
  return "debug, info, notice, warning, error, critical, alert";
}

}  // namespace rustiq::events
