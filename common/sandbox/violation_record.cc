#include "common/sandbox/violation_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rustiq::sandbox {
namespace {

constexpr size_t kMaxRecordBytes = 64 * 1024;
constexpr size_t kMaxLineBytes = 512;

}  // namespace

std::string ViolationRecordPath(absl::string_view state_dir,
                                absl::string_view daemon) {
  return absl::StrCat(state_dir, "/", daemon, "/sandbox-violation");
}

ViolationRecord ParseViolationLine(absl::string_view line) {
  ViolationRecord r;
  line = absl::StripTrailingAsciiWhitespace(line);
  r.line = std::string(line.substr(0, kMaxLineBytes));
  for (absl::string_view field : absl::StrSplit(line, ' ')) {
    if (absl::ConsumePrefix(&field, "syscall="))
      r.syscall = std::string(field);
    else if (absl::ConsumePrefix(&field, "nr="))
      r.nr = std::string(field);
    else if (absl::ConsumePrefix(&field, "arch="))
      r.arch = std::string(field);
    else if (absl::ConsumePrefix(&field, "cause="))
      r.cause = std::string(field);
  }
  return r;
}

absl::StatusOr<std::optional<ViolationRecord>> TakeViolationRecord(
    const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<ViolationRecord>();
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file"));
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < kMaxRecordBytes &&
         (n = read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  bool emptied = ftruncate(fd, 0) == 0;
  close(fd);
  if (!emptied) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot empty ", path));
  }
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (lines.empty()) return std::optional<ViolationRecord>();
  return std::optional<ViolationRecord>(ParseViolationLine(lines.back()));
}

absl::StatusOr<int> OpenViolationRecord(const std::string& path) {
  int fd = open(path.c_str(),
                O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
  return fd;
}

}  // namespace rustiq::sandbox
