// A sandbox violation kills the process that made it before it can tell
// anyone but its stderr. So that it also reaches the event log, the SIGSYS
// handler appends the same line to a file in the daemon's state directory
// (opened before confinement, written through its descriptor), and the
// daemon, at its next start, takes the record and sends it as an event
// (common/daemon: RecordPreviousViolation). The supervisor, which sees the
// exit itself, records it too (issue 7).
#ifndef RUSTIQ_COMMON_SANDBOX_VIOLATION_RECORD_H_
#define RUSTIQ_COMMON_SANDBOX_VIOLATION_RECORD_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::sandbox {

// <state>/<daemon>/sandbox-violation
std::string ViolationRecordPath(absl::string_view state_dir,
                                absl::string_view daemon);

// What the handler wrote (seccomp_filter.h): the fields of its line.
struct ViolationRecord {
  std::string syscall;  // "ptrace", or "unknown"
  std::string nr;
  std::string arch;
  std::string cause;  // "not-listed" or "arguments"
  std::string line;   // the whole line, as written (at most 512 bytes)
};

// Parses one line; fields it does not find stay empty.
ViolationRecord ParseViolationLine(absl::string_view line);

// The record a previous run left at `path` (its last line), and the file
// emptied. nullopt when there is none (no file, or an empty one). Refuses
// a path that is not a regular file (a symlink, say).
absl::StatusOr<std::optional<ViolationRecord>> TakeViolationRecord(
    const std::string& path);

// Opens (creating, mode 0600) the file the handler appends to; the
// descriptor is close-on-exec and stays open for the process's life.
absl::StatusOr<int> OpenViolationRecord(const std::string& path);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_VIOLATION_RECORD_H_
