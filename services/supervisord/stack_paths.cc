#include "services/supervisord/stack_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/unique_fd.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/unix_socket.h"

namespace rustiq::supervisord {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

constexpr int kMaxDepth = 32;

// Hands what is in the open directory `dir` (at `path`, for messages) to
// uid:gid, through descriptors only: each entry is opened with
// O_PATH|O_NOFOLLOW and changed through that descriptor, and a
// subdirectory is entered through that same descriptor (its ".").
// So a name swapped meanwhile for a symlink changes nothing outside the
// tree. A file with more than one hard link is left as it is: it may be a
// link a daemon planted to another file (/etc/shadow, where
// fs.protected_hardlinks is off). Other file systems mounted inside are
// not entered.
absl::Status HandOverEntries(int dir, const std::string& path, dev_t dev,
                             uid_t uid, gid_t gid, int depth) {
  if (depth > kMaxDepth) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is nested more than ", kMaxDepth, " deep"));
  }
  int listing = dup(dir);
  if (listing < 0) return Errno("cannot read", path);
  DIR* d = fdopendir(listing);
  if (d == nullptr) {
    close(listing);
    return Errno("cannot read", path);
  }
  absl::Status status;
  while (status.ok()) {
    errno = 0;
    struct dirent* entry = readdir(d);
    if (entry == nullptr) {
      if (errno != 0) status = Errno("cannot read", path);
      break;
    }
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string child = absl::StrCat(path, "/", name);
    UniqueFd fd(openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      status = Errno("cannot open", child);
      break;
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) {
      status = Errno("cannot stat", child);
      break;
    }
    if (st.st_dev != dev) continue;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      status = sub.get() < 0 ? Errno("cannot open", child)
                             : HandOverEntries(sub.get(), child, dev, uid, gid,
                                               depth + 1);
      if (!status.ok()) break;
    } else if (!S_ISLNK(st.st_mode) && st.st_nlink > 1) {
      log::Warning(
          "not handing over a file with more than one hard link (it may be "
          "another file's); remove it if it is not",
          {{"path", child}, {"links", static_cast<uint64_t>(st.st_nlink)}});
      continue;
    }
    // The entry itself, through its descriptor (a symlink stays unfollowed).
    if (fchownat(fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) !=
        0) {
      status = Errno("cannot hand to the daemon's user", child);
    }
  }
  closedir(d);
  return status;
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
  UniqueFd top(
      open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (top.get() < 0) {
    if (errno == ENOTDIR || errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat("state directory ", dir,
                       " is not a directory (a symlink is refused)"));
    }
    return Errno("cannot open", dir);
  }
  struct stat st;
  if (fstat(top.get(), &st) != 0) return Errno("cannot stat", dir);
  if (fchmod(top.get(), 0700) != 0)
    return Errno("cannot set mode 0700 on", dir);
  if (absl::Status s = HandOverEntries(top.get(), dir, st.st_dev, uid, gid, 0);
      !s.ok()) {
    return s;
  }
  if (fchown(top.get(), uid, gid) != 0) {
    return Errno("cannot hand to the daemon's user", dir);
  }
  return absl::OkStatus();
}

}  // namespace rustiq::supervisord
