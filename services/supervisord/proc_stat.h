// Reading a process's files under /proc, and telling one process from a
// later one that got the same pid: its start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot), which no later process of that
// pid can share.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_
#define RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::supervisord {

// The text of a /proc file of at most 64 KiB (more is cut). NotFound (from
// ENOENT) when the process is gone; every message names the path.
absl::StatusOr<std::string> ReadProcFile(const std::string& path);

// The start time in a /proc/<pid>/stat line. The command name (field 2, in
// parentheses) may itself hold spaces and parentheses: fields are counted
// from the last ')'.
absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat);
absl::StatusOr<uint64_t> ReadStartTime(pid_t pid);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_
