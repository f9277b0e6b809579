#include "services/supervisord/stack_paths.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/pki/identity_files.h"
#include "common/rpc/unix_socket.h"

namespace rustiq::supervisord {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

// nftw gives no closure: the target owner for the walk in progress (one
// walk at a time, from main before any thread).
uid_t walk_uid;
gid_t walk_gid;
int walk_errno;
std::string walk_failed;

int ChownEntry(const char* path, const struct stat* /*st*/, int /*type*/,
               struct FTW* /*ftw*/) {
  if (lchown(path, walk_uid, walk_gid) != 0) {
    walk_errno = errno;
    walk_failed = path;
    return 1;
  }
  return 0;
}

}  // namespace

absl::Status PrepareRuntimeDir(const std::string& runtime_dir, gid_t group) {
  if (absl::Status s = pki::MakeDirectories(runtime_dir, 0755); !s.ok()) {
    return s;
  }
  struct stat st;
  if (lstat(runtime_dir.c_str(), &st) != 0)
    return Errno("cannot stat", runtime_dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("runtime directory ", runtime_dir, " is not a directory"));
  }
  if (chown(runtime_dir.c_str(), 0, group) != 0) {
    return Errno("cannot hand to the stack's group", runtime_dir);
  }
  if (chmod(runtime_dir.c_str(), rpc::kSharedSocketDirMode) != 0) {
    return Errno("cannot set mode 01770 on", runtime_dir);
  }
  return absl::OkStatus();
}

absl::Status HandOverStateDir(const std::string& dir, uid_t uid, gid_t gid) {
  if (absl::Status s = pki::MakeDirectories(dir, 0700); !s.ok()) return s;
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Errno("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state directory ", dir, " is not a directory (a symlink is refused)"));
  }
  if (chmod(dir.c_str(), 0700) != 0)
    return Errno("cannot set mode 0700 on", dir);
  walk_uid = uid;
  walk_gid = gid;
  walk_errno = 0;
  walk_failed.clear();
  if (nftw(dir.c_str(), ChownEntry, 16, FTW_PHYS | FTW_MOUNT) != 0) {
    errno = walk_errno != 0 ? walk_errno : errno;
    return Errno("cannot hand to the daemon's user",
                 walk_failed.empty() ? dir : walk_failed);
  }
  return absl::OkStatus();
}

}  // namespace rustiq::supervisord
