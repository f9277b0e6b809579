#include "services/supervisord/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/unique_fd.h"

namespace rustiq::supervisord {
namespace {

// /proc files read here are a few hundred bytes; anything much larger is not
// what was meant.
constexpr size_t kMaxFileBytes = 64 * 1024;
// starttime is field 22; after the ')' that ends field 2 come fields 3 on.
constexpr size_t kStartTimeAfterComm = 22 - 3;

}  // namespace

absl::StatusOr<std::string> ReadProcFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // ESRCH: the process exited (or is a zombie) after the open.
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) break;
  }
  return text;
}

absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat) {
  size_t comm_end = stat.rfind(')');
  if (comm_end == absl::string_view::npos) {
    return absl::InvalidArgumentError("stat: no command name in parentheses");
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(comm_end + 1), ' ', absl::SkipEmpty());
  uint64_t ticks = 0;
  if (fields.size() <= kStartTimeAfterComm ||
      !absl::SimpleAtoi(fields[kStartTimeAfterComm], &ticks)) {
    return absl::InvalidArgumentError("stat: no start time in field 22");
  }
  return ticks;
}

absl::StatusOr<uint64_t> ReadStartTime(pid_t pid) {
  return ReadProcFileOf(pid, "stat", &ParseStartTime);
}

}  // namespace rustiq::supervisord
