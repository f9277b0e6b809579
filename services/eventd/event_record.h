// One event as eventd records it: what a sender may send (checked field by
// field), what eventd stamps on it, and the entry bytes its Merkle leaf is
// the hash of.
#ifndef RUSTIQ_SERVICES_EVENTD_EVENT_RECORD_H_
#define RUSTIQ_SERVICES_EVENTD_EVENT_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::eventd {

// INVALID_ARGUMENT naming the field and the bound, for anything outside the
// bounds of common/events/event_limits.h (docs/eventd.md, "The event").
absl::Status ValidateInput(const v1::EventInput& input);

// What eventd adds to an input.
struct Stamp {
  uint64_t seq = 0;
  int64_t time_unix_nanos = 0;
  int64_t monotonic_nanos = 0;
  std::string boot_id;
  std::string source;  // the sender's ID path, from its certificate
};

// The event of a validated input: attributes sorted by key, the actor the
// source itself when the input names none.
v1::Event MakeEvent(const v1::EventInput& input, const Stamp& stamp);

// The entry bytes: the event serialized deterministically. Its Merkle leaf
// is SHA-256(0x00 || entry).
std::string EntryBytes(const v1::Event& event);

// The event of stored entry bytes; DATA_LOSS when they do not parse.
absl::StatusOr<v1::Event> ParseEntry(absl::string_view entry);

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_EVENT_RECORD_H_
