#include "common/rpc/unix_socket.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rustiq::rpc {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int err = errno;
  return absl::Status(err == EACCES || err == EPERM
                          ? absl::StatusCode::kPermissionDenied
                          : absl::StatusCode::kFailedPrecondition,
                      absl::StrCat(what, " ", path, ": ", strerror(err)));
}

}  // namespace

std::string DaemonSocketPath(absl::string_view runtime_dir,
                             absl::string_view daemon) {
  return absl::StrCat(runtime_dir, "/", daemon, ".sock");
}

absl::StatusOr<gid_t> ResolveGroup(const std::string& group) {
  if (group.empty()) return getegid();
  std::vector<char> buf(16384);
  struct group grp;
  struct group* result = nullptr;
  int rc = getgrnam_r(group.c_str(), &grp, buf.data(), buf.size(), &result);
  if (rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "socket group \"", group,
        "\" does not exist (set rpc.socket_group to an existing group, or "
        "leave it empty)"));
  }
  return result->gr_gid;
}

absl::Status PrepareSocketDirectory(const std::string& dir, gid_t gid) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (mkdir(dir.c_str(), kSocketDirMode) != 0 && errno != EEXIST) {
    return Errno("cannot create socket directory", dir);
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Errno("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket directory ", dir,
                     " is not a directory (a symlink is refused)"));
  }
  if (st.st_uid == geteuid() && (st.st_mode & 07777) == kSharedSocketDirMode) {
    // The stack's shared directory (supervisord's): its group and mode are
    // the stack's, not this server's.
    return absl::OkStatus();
  }
  if (st.st_uid == geteuid()) {
    if (st.st_gid != gid &&
        chown(dir.c_str(), static_cast<uid_t>(-1), gid) != 0) {
      return Errno("cannot set the group of", dir);
    }
    if ((st.st_mode & 07777) != kSocketDirMode &&
        chmod(dir.c_str(), kSocketDirMode) != 0) {
      return Errno("cannot set mode 0750 on", dir);
    }
  } else if ((st.st_mode & 0007) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "socket directory ", dir,
        " is accessible to all users and not owned by this user; make it "
        "mode 0750 (systemd-tmpfiles does this in production)"));
  }
  return absl::OkStatus();
}

absl::Status ClaimSocketPath(const std::string& path) {
  struct sockaddr_un addr;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket path ", path, " is longer than ", sizeof(addr.sun_path) - 1,
        " bytes; choose a shorter paths.runtime_dir"));
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("cannot stat", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " exists and is not a socket; refusing to replace it"));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("cannot create a probe socket for", path);
  addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int rc = connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  close(fd);
  if (rc == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("another process is already serving on ", path,
                     "; stop it before starting this one"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove stale socket", path);
  }
  return absl::OkStatus();
}

absl::Status SecureSocketFile(const std::string& path, gid_t gid) {
  if (chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    return Errno("cannot set the group of", path);
  }
  if (chmod(path.c_str(), kSocketMode) != 0) {
    return Errno("cannot set mode 0660 on", path);
  }
  return absl::OkStatus();
}

}  // namespace rustiq::rpc
