#include "cli/token_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rustiq::cli {
namespace {

constexpr size_t kMaxTokenBytes = 8192;
constexpr char kTokenName[] = "token";
constexpr char kSetRuntimeDir[] =
    "set XDG_RUNTIME_DIR to a directory of yours with mode 0700";

// $XDG_RUNTIME_DIR when it is an absolute path (the XDG spec says to ignore
// a relative one), else the per-user directory systemd-logind makes.
std::string RuntimeDir(bool* from_environment) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  *from_environment = runtime != nullptr && runtime[0] == '/';
  return *from_environment ? std::string(runtime)
                           : absl::StrCat("/run/user/", geteuid());
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Opens the token directory, creating it (mode 0700) when missing, and
// checks that it is a directory of the user's own that nobody else can
// enter. Everything after this goes through the descriptor, so that the
// directory checked is the directory written.
absl::StatusOr<int> OpenTokenDir() {
  bool from_environment = false;
  std::string runtime = RuntimeDir(&from_environment);
  struct stat st {};
  if (stat(runtime.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        from_environment
            ? absl::StrCat("cannot store the token: XDG_RUNTIME_DIR (", runtime,
                           ") is not a directory; ", kSetRuntimeDir)
            : absl::StrCat("cannot store the token: XDG_RUNTIME_DIR is not "
                           "set and ",
                           runtime, " does not exist; ", kSetRuntimeDir));
  }
  std::string dir = absl::StrCat(runtime, "/rustiq");
  bool created = mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create the token directory ", dir, ": ", ErrnoText(errno)));
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      return absl::FailedPreconditionError(
          absl::StrCat("the token directory ", dir,
                       " is not a directory (a symbolic link or a file): "
                       "remove it and log in again"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the token directory ", dir, ": ", ErrnoText(err)));
  }
  // A umask may have taken bits from the directory just made; never more
  // than 0700 is asked for, so setting it exactly cannot widen anything.
  if (created && fchmod(fd, 0700) != 0) {
    int err = errno;
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot chmod ", dir, ": ", ErrnoText(err)));
  }
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
      (st.st_mode & 0077) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "the token directory ", dir,
        " is not a directory of yours with mode 0700: remove it and log in "
        "again"));
  }
  return fd;
}

// A name for the temporary file that another rustiqctl writing at the same
// time will not pick.
std::string TempName() {
  unsigned char random[8] = {};
  if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
    // Only uniqueness matters here (O_EXCL makes a clash an error, not a
    // hazard): the pid is unique enough among this user's processes.
    return absl::StrCat(".token.tmp-", getpid());
  }
  return absl::StrCat(".token.tmp-", absl::BytesToHexString(absl::string_view(
                                         reinterpret_cast<const char*>(random),
                                         sizeof(random))));
}

// 0, or the errno of the write that failed.
int WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace

std::string TokenPath() {
  bool from_environment = false;
  return RuntimeDir(&from_environment) + "/rustiq/" + kTokenName;
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

absl::Status WriteToken(const std::string& token) {
  // The token is sent back as an "authorization" header: one line of
  // printable ASCII (a PASETO token is base64url and dots). The token
  // itself is never quoted in a message.
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token to store is empty or longer than ",
                     kMaxTokenBytes, " bytes"));
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          "the token to store holds a character that is not printable "
          "ASCII");
    }
  }
  absl::StatusOr<int> dir = OpenTokenDir();
  if (!dir.ok()) return dir.status();
  int dir_fd = *dir;
  std::string path = TokenPath();

  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    temp = TempName();
    fd = openat(dir_fd, temp.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int err = errno;
    close(dir_fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create a file beside ", path, ": ", ErrnoText(err)));
  }
  // Past here a failure removes the temporary file: a half-written token
  // is never left behind.
  auto fail = [&](absl::string_view what, int err) {
    if (fd >= 0) close(fd);
    unlinkat(dir_fd, temp.c_str(), 0);
    close(dir_fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot store the token in ", path, ": ", what, ": ", ErrnoText(err)));
  };
  // The umask could only narrow 0600, but the mode ReadToken wants is exact.
  if (fchmod(fd, 0600) != 0) return fail("chmod", errno);
  if (int err = WriteAll(fd, token); err != 0) return fail("write", err);
  if (fsync(fd) != 0) return fail("fsync", errno);
  if (close(fd) != 0) {
    fd = -1;
    return fail("close", errno);
  }
  fd = -1;
  // rename() replaces a symbolic link named "token" rather than following
  // it, and never leaves the name missing.
  if (renameat(dir_fd, temp.c_str(), dir_fd, kTokenName) != 0) {
    return fail("rename", errno);
  }
  // The rename itself durable; a tmpfs ignores this, a disk does not.
  fsync(dir_fd);
  close(dir_fd);
  return absl::OkStatus();
}

absl::Status RemoveToken() {
  std::string path = TokenPath();
  if (unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot remove the token ", path, ": ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

}  // namespace rustiq::cli
