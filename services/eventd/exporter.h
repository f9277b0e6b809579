// Writes a log's export file (common/events/export_format.h) from its
// store: eventd's Export call, and `rustiqctl events verify --db` /
// `events export --db` on a copy of the file.
#ifndef RUSTIQ_SERVICES_EVENTD_EXPORTER_H_
#define RUSTIQ_SERVICES_EVENTD_EXPORTER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/eventd/event_store.h"

namespace rustiq::eventd {

struct ExportRange {
  uint64_t from_seq = 0;  // raised to the oldest kept event
  // One past the last event; 0: everything the store holds, and then every
  // signed head, even beyond the events (so that a truncated log shows).
  uint64_t to_seq = 0;
};

// Calls `line` with each line (without its newline), in the documented
// order. Stops at the first error of `line` (a cancelled stream, say).
absl::Status ExportLog(const EventStore& store, absl::string_view device_id,
                       ExportRange range,
                       const std::function<absl::Status(std::string)>& line);

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_EXPORTER_H_
