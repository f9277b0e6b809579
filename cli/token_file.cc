#include "cli/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rustiq::cli {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

}  // namespace

std::string TokenPath() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = runtime != nullptr && runtime[0] == '/'
                        ? std::string(runtime)
                        : absl::StrCat("/run/user/", geteuid());
  return dir + "/rustiq/token";
}

absl::StatusOr<std::optional<std::string>> ReadToken() {
  std::string path = TokenPath();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the token ", path, ": ", strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 0077) != 0 ||
      static_cast<size_t>(st.st_size) > kMaxTokenBytes) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "the token ", path,
        " is not a file of yours with mode 0600: remove it and log in again"));
  }
  std::string token(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = read(fd, token.data(), token.size());
  close(fd);
  if (n != static_cast<ssize_t>(token.size())) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the token ", path));
  }
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace rustiq::cli
