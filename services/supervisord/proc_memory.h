// A process's memory as the kernel accounts it: RSS and PSS (its share of
// pages shared with others) from /proc/<pid>/smaps_rollup. Reading another
// user's non-dumpable process needs CAP_SYS_PTRACE (or root).
#ifndef RUSTIQ_SERVICES_SUPERVISORD_PROC_MEMORY_H_
#define RUSTIQ_SERVICES_SUPERVISORD_PROC_MEMORY_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::supervisord {

struct Memory {
  uint64_t rss_bytes = 0;
  uint64_t pss_bytes = 0;
  // The PSS split (Linux 5.9 and later; 0 when the kernel has no such
  // lines): anonymous pages (heap, stacks, written library data) and pages
  // of files (the binary's and the libraries' code and read-only data).
  uint64_t pss_anon_bytes = 0;
  uint64_t pss_file_bytes = 0;
};

absl::StatusOr<Memory> ReadMemory(pid_t pid);
// Parses the text of a smaps_rollup file ("Rss:  1234 kB" lines): Rss and
// Pss are required, Pss_Anon and Pss_File optional.
absl::StatusOr<Memory> ParseSmapsRollup(absl::string_view text);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_PROC_MEMORY_H_
