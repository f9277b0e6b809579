// Short lower-case names of an event's enums, as the CLI, the journal, the
// export and the client sink use them: "auth", "denied", "warning".
#ifndef RUSTIQ_COMMON_EVENTS_EVENT_NAMES_H_
#define RUSTIQ_COMMON_EVENTS_EVENT_NAMES_H_

#include "absl/strings/string_view.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {

// "?" for a value outside the enum.
const char* CategoryName(v1::EventCategory category);
const char* OutcomeName(v1::EventOutcome outcome);
const char* SeverityName(v1::EventSeverity severity);
// False for an unknown name ("unspecified" is not a name).
bool CategoryFromName(absl::string_view name, v1::EventCategory* out);
bool OutcomeFromName(absl::string_view name, v1::EventOutcome* out);
bool SeverityFromName(absl::string_view name, v1::EventSeverity* out);
// Every name, for help texts: "auth, key, ...".
const char* CategoryNames();
const char* OutcomeNames();
const char* SeverityNames();

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_EVENT_NAMES_H_
