// The file where a daemon's event sink keeps what eventd has not yet
// acknowledged when the daemon stops (event_log_sink.h), so that the
// events of the very end of a run (supervisord's record of eventd and keyd
// stopping, say: they stop after eventd) reach the log at the next start
// instead of only the log lines.
//
// Format: a first line "rustiq-event-spool 1", a second line "sha256:" and
// the hex SHA-256 of the rest, then one serialized AppendBatchRequest
// holding the events in order. It is written atomically (a temporary file,
// fsync, rename, fsync of the directory) and read whole: a truncated,
// bit-flipped or foreign file is refused as a whole, never half-loaded.
// The checksum detects corruption, not tampering: the file is protected by
// its directory (the daemon's own state directory, 0700) and its mode
// (0600); the events are signed into the log only once eventd has them.
#ifndef RUSTIQ_COMMON_EVENTS_EVENT_SPOOL_H_
#define RUSTIQ_COMMON_EVENTS_EVENT_SPOOL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {

// <state>/<daemon>/events-pending
std::string EventSpoolPath(absl::string_view state_dir,
                           absl::string_view daemon);

// Replaces the spool at `path` with `events` (mode 0600). The directory
// must exist.
absl::Status WriteEventSpool(const std::string& path,
                             const std::vector<v1::EventInput>& events);

// The events of the spool at `path`; none when there is no file. At most
// `max_events`, each of at most kMaxEventBytes (event_limits.h): a larger
// file is refused. DataLoss for a file that is not a whole spool (its
// message says what is wrong); other errors name the path and errno.
absl::StatusOr<std::vector<v1::EventInput>> ReadEventSpool(
    const std::string& path, size_t max_events);

// Moves an unreadable spool aside to `path`.corrupt (replacing an older
// one), where an operator can look at it; the name it got.
absl::StatusOr<std::string> SetAsideEventSpool(const std::string& path);

// Removes the spool; no file is not an error.
absl::Status RemoveEventSpool(const std::string& path);

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_EVENT_SPOOL_H_
