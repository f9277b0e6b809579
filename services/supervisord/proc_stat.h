// Reading a process's files under /proc, and telling one process from a
// later one that got the same pid: its start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot), which no later process of that
// pid can share.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_
#define RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rustiq::supervisord {

// The text of a /proc file of at most 64 KiB (more is cut). NotFound (from
// ENOENT) when the process is gone; every message names the path.
absl::StatusOr<std::string> ReadProcFile(const std::string& path);

// /proc/<pid>/<file>, read and parsed by `parse`; a parse error names the
// path.
template <typename T>
absl::StatusOr<T> ReadProcFileOf(
    pid_t pid, absl::string_view file,
    absl::StatusOr<T> (*parse)(absl::string_view)) {
  const std::string path = absl::StrCat("/proc/", pid, "/", file);
  absl::StatusOr<std::string> text = ReadProcFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<T> parsed = parse(*text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

// The start time in a /proc/<pid>/stat line. The command name (field 2, in
// parentheses) may itself hold spaces and parentheses: fields are counted
// from the last ')'.
absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat);
absl::StatusOr<uint64_t> ReadStartTime(pid_t pid);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_PROC_STAT_H_
