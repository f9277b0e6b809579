#include "common/pki/identity_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/unique_fd.h"
#include "common/pki/openssl_util.h"

namespace rustiq::pki {
namespace {

constexpr absl::string_view kIdentityDir = "identity";
constexpr absl::string_view kClientsDir = "clients";
constexpr absl::string_view kTrustDir = "trust";
constexpr absl::string_view kCurrentLink = "current";
constexpr absl::string_view kGenerationPrefix = "gen-";
constexpr absl::string_view kTempLinkPrefix = ".current-";
constexpr absl::string_view kKeyFile = "key.pem";
constexpr absl::string_view kCertFile = "cert.pem";
constexpr mode_t kPrivateDirMode = 0700;
constexpr mode_t kPublicDirMode = 0755;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

std::string Join(absl::string_view dir, absl::string_view name) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir.empty()) return std::string(name);
  if (dir == "/") return absl::StrCat("/", name);
  return absl::StrCat(dir, "/", name);
}

std::string Dirname(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string Basename(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

absl::Status ErrnoError(int err, absl::string_view what) {
  return absl::ErrnoToStatus(err, what);
}

bool HasOwner(const FileOwner& owner) {
  return owner.uid.has_value() || owner.gid.has_value();
}

absl::Status ApplyOwner(const std::string& path, const FileOwner& owner) {
  if (!HasOwner(owner)) return absl::OkStatus();
  if (lchown(path.c_str(), owner.uid.value_or(static_cast<uid_t>(-1)),
             owner.gid.value_or(static_cast<gid_t>(-1))) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot change the owner of ", path));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view contents,
                      const std::string& path) {
  while (!contents.empty()) {
    ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat("cannot write ", path));
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes, chmods, chowns and fsyncs the already-open `fd`, then closes it.
absl::Status FillAndClose(UniqueFd& fd, absl::string_view contents, mode_t mode,
                          const FileOwner& owner, const std::string& path) {
  // fchmod after creation: the mode given to open(2) is masked by the umask.
  if (fchmod(fd.get(), mode) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot set the mode of ", path));
  }
  if (HasOwner(owner) &&
      fchown(fd.get(), owner.uid.value_or(static_cast<uid_t>(-1)),
             owner.gid.value_or(static_cast<gid_t>(-1))) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot change the owner of ", path));
  }
  if (absl::Status s = WriteAll(fd.get(), contents, path); !s.ok()) return s;
  if (fsync(fd.get()) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot flush ", path, " to disk"));
  }
  if (fd.Close() != 0) {
    return ErrnoError(errno, absl::StrCat("cannot close ", path));
  }
  return absl::OkStatus();
}

// Creates `path`, which must not exist yet.
absl::Status WriteNewFile(const std::string& path, absl::string_view contents,
                          mode_t mode, const FileOwner& owner) {
  UniqueFd fd(open(path.c_str(),
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   // Never wider than the final mode, even for a moment.
                   mode & kKeyMode));
  if (fd.get() < 0) {
    return ErrnoError(errno, absl::StrCat("cannot create ", path));
  }
  return FillAndClose(fd, contents, mode, owner, path);
}

absl::Status FsyncDirectory(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot flush directory ", dir));
  }
  return absl::OkStatus();
}

// Removes a generation directory and the plain files in it.
absl::Status RemoveGeneration(const std::string& path) {
  int dir_fd =
      open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, absl::StrCat("cannot open ", path));
  }
  DIR* dir = fdopendir(dir_fd);  // owns dir_fd from here on
  if (dir == nullptr) {
    int err = errno;
    close(dir_fd);
    return ErrnoError(err, absl::StrCat("cannot list ", path));
  }
  absl::Status status;
  while (dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (unlinkat(dirfd(dir), entry->d_name, 0) != 0 && status.ok()) {
      status =
          ErrnoError(errno, absl::StrCat("cannot remove ", path, "/", name));
    }
  }
  closedir(dir);
  if (!status.ok()) return status;
  if (rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(errno, absl::StrCat("cannot remove ", path));
  }
  return absl::OkStatus();
}

// Removes every generation but `keep`, and temporary links a crash left.
absl::Status RemoveOldGenerations(const std::string& dir_path,
                                  absl::string_view keep) {
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) {
    return ErrnoError(errno, absl::StrCat("cannot list ", dir_path));
  }
  std::vector<std::string> generations;
  std::vector<std::string> temp_links;
  while (dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (absl::StartsWith(name, kGenerationPrefix) && name != keep) {
      generations.emplace_back(name);
    } else if (absl::StartsWith(name, kTempLinkPrefix)) {
      temp_links.emplace_back(name);
    }
  }
  closedir(dir);
  absl::Status status;
  for (const std::string& name : generations) {
    absl::Status s = RemoveGeneration(Join(dir_path, name));
    if (status.ok()) status = s;
  }
  for (const std::string& name : temp_links) {
    std::string path = Join(dir_path, name);
    if (unlink(path.c_str()) != 0 && errno != ENOENT && status.ok()) {
      status = ErrnoError(errno, absl::StrCat("cannot remove ", path));
    }
  }
  return status;
}

// Refuses to put a pair on disk that no TLS stack could use.
absl::Status CheckKeyMatchesCertificate(absl::string_view key_pem,
                                        absl::string_view cert_pem) {
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(cert_pem);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate: ", cert.status().message()));
  }
  absl::StatusOr<EvpPkeyPtr> key = PrivateKeyFromPem(key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: ", key.status().message()));
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the key does not match the certificate");
  }
  return absl::OkStatus();
}

IdentityPaths PathsUnder(std::string dir) {
  std::string current = Join(dir, kCurrentLink);
  return IdentityPaths{std::move(dir), Join(current, kKeyFile),
                       Join(current, kCertFile)};
}

}  // namespace

IdentityPaths ForService(absl::string_view state_dir,
                         absl::string_view daemon) {
  return PathsUnder(Join(Join(state_dir, daemon), kIdentityDir));
}

IdentityPaths ForClient(absl::string_view state_dir, absl::string_view client) {
  return PathsUnder(
      Join(Join(Join(state_dir, kClientsDir), client), kIdentityDir));
}

absl::StatusOr<IdentityPaths> IdentityPathsFor(absl::string_view state_dir,
                                               const identity::SpiffeId& id) {
  std::vector<std::string> segments = absl::StrSplit(id.path(), '/');
  if (segments.size() == 2 && segments[0] == "svc") {
    // These names are directories of the layout itself.
    if (segments[1] == kClientsDir || segments[1] == kTrustDir) {
      return absl::InvalidArgumentError(
          absl::StrCat("identity ", id.ToUri(), " cannot be stored: \"",
                       segments[1], "\" is reserved in the state directory"));
    }
    return ForService(state_dir, segments[1]);
  }
  if (segments.size() == 2 && segments[0] == "client") {
    return ForClient(state_dir, segments[1]);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "identity ", id.ToUri(),
      " cannot be stored: only svc/<daemon> and client/<name> have files"));
}

std::string TrustBundlePath(absl::string_view state_dir) {
  return Join(Join(state_dir, kTrustDir), "bundle.pem");
}

DeviceCaPaths DeviceCaPathsFor(absl::string_view state_dir) {
  std::string dir = Join(Join(state_dir, "keyd"), "device-ca");
  return DeviceCaPaths{dir, Join(dir, kKeyFile), Join(dir, kCertFile)};
}

absl::Status MakeDirectories(absl::string_view path, mode_t mode) {
  if (path.empty()) {
    return absl::InvalidArgumentError("cannot create a directory: empty path");
  }
  size_t pos = 0;
  while (pos != absl::string_view::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix(path.substr(0, pos));
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (prefix == "/" || prefix == "." || prefix.empty()) continue;
    if (mkdir(prefix.c_str(), mode) == 0) {
      // mkdir's mode is masked by the umask; set it exactly.
      if (chmod(prefix.c_str(), mode) != 0) {
        return ErrnoError(errno,
                          absl::StrCat("cannot set the mode of ", prefix));
      }
      continue;
    }
    int err = errno;
    struct stat st {};
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return absl::FailedPreconditionError(
          absl::StrCat(prefix, " exists and is not a directory"));
    }
    return ErrnoError(err, absl::StrCat("cannot create directory ", prefix));
  }
  return absl::OkStatus();
}

absl::Status EnsureDirectory(absl::string_view path, mode_t mode,
                             mode_t parent_mode, const FileOwner& owner) {
  std::string dir(path);
  if (absl::Status s = MakeDirectories(Dirname(dir), parent_mode); !s.ok()) {
    return s;
  }
  if (mkdir(dir.c_str(), mode) != 0) {
    int err = errno;
    struct stat st {};
    if (err != EEXIST) {
      return ErrnoError(err, absl::StrCat("cannot create directory ", dir));
    }
    // lstat: a symlink here could point the private files anywhere.
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " exists and is not a directory (or is a symlink)"));
    }
  }
  if (chmod(dir.c_str(), mode) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot set the mode of ", dir));
  }
  return ApplyOwner(dir, owner);
}

absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents, mode_t mode,
                                 const FileOwner& owner) {
  return WriteFileAtomicallyReporting(path, contents, mode, owner).status;
}

AtomicWriteResult WriteFileAtomicallyReporting(absl::string_view path,
                                               absl::string_view contents,
                                               mode_t mode,
                                               const FileOwner& owner) {
  std::string target(path);
  std::string temp = target + ".tmp-XXXXXX";
  // mkostemp creates the file 0600, so it is never readable by others before
  // FillAndClose sets the final mode.
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return {ErrnoError(
        errno, absl::StrCat("cannot create a temporary file for ", target))};
  }
  absl::Status status = FillAndClose(fd, contents, mode, owner, temp);
  if (status.ok() && rename(temp.c_str(), target.c_str()) != 0) {
    status = ErrnoError(errno, absl::StrCat("cannot replace ", target));
  }
  if (!status.ok()) {
    unlink(temp.c_str());
    return {status};
  }
  return {FsyncDirectory(Dirname(target)), /*replaced=*/true};
}

absl::Status WriteIdentity(const IdentityPaths& paths,
                           absl::string_view key_pem,
                           absl::string_view cert_pem, const FileOwner& owner) {
  const IdentityPaths expected = PathsUnder(paths.dir);
  if (paths.dir.empty() || paths.key_path != expected.key_path ||
      paths.cert_path != expected.cert_path) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity paths for \"", paths.dir,
        "\" do not follow the layout; build them with ForService/ForClient"));
  }
  if (absl::Status s = CheckKeyMatchesCertificate(key_pem, cert_pem); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to write the identity in ", paths.dir, ": ", s.message()));
  }
  if (absl::Status s =
          EnsureDirectory(paths.dir, kPrivateDirMode, kPublicDirMode, owner);
      !s.ok()) {
    return s;
  }

  std::string generation = Join(paths.dir, "gen-XXXXXX");
  if (mkdtemp(generation.data()) == nullptr) {
    return ErrnoError(
        errno, absl::StrCat("cannot create a new generation in ", paths.dir));
  }
  const std::string generation_name = Basename(generation);
  const std::string current = Join(paths.dir, kCurrentLink);
  const std::string temp_link =
      Join(paths.dir,
           absl::StrCat(kTempLinkPrefix,
                        generation_name.substr(kGenerationPrefix.size())));
  auto publish = [&]() -> absl::Status {
    if (chmod(generation.c_str(), kPrivateDirMode) != 0) {
      return ErrnoError(errno,
                        absl::StrCat("cannot set the mode of ", generation));
    }
    if (absl::Status s = ApplyOwner(generation, owner); !s.ok()) return s;
    if (absl::Status s =
            WriteNewFile(Join(generation, kKeyFile), key_pem, kKeyMode, owner);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteNewFile(Join(generation, kCertFile), cert_pem,
                                      kCertMode, owner);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = FsyncDirectory(generation); !s.ok()) return s;
    // Relative target, so the state directory can be moved as a whole.
    unlink(temp_link.c_str());
    if (symlink(generation_name.c_str(), temp_link.c_str()) != 0) {
      return ErrnoError(errno, absl::StrCat("cannot create ", temp_link));
    }
    if (absl::Status s = ApplyOwner(temp_link, owner); !s.ok()) return s;
    if (rename(temp_link.c_str(), current.c_str()) != 0) {
      int err = errno;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
        return absl::FailedPreconditionError(
            absl::StrCat(current,
                         " is a directory, not the symlink rustiq maintains; "
                         "remove it and write the identity again"));
      }
      return ErrnoError(err, absl::StrCat("cannot replace ", current));
    }
    return FsyncDirectory(paths.dir);
  };
  if (absl::Status s = publish(); !s.ok()) {
    unlink(temp_link.c_str());
    RemoveGeneration(generation).IgnoreError();  // the error above matters
    return s;
  }
  if (absl::Status s = RemoveOldGenerations(paths.dir, generation_name);
      !s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("new identity is in place in ", paths.dir,
                     ", but an old generation was left: ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSmallFile(absl::string_view path,
                                          size_t max_bytes) {
  std::string file(path);
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(file, " does not exist"));
    }
    return ErrnoError(err, absl::StrCat("cannot open ", file));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot stat ", file));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(file, " is not a regular file"));
  }
  auto too_large = [&](uint64_t size) {
    return absl::FailedPreconditionError(
        absl::StrCat(file, " is ", size, " bytes, more than the ", max_bytes,
                     " bytes allowed"));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return too_large(static_cast<uint64_t>(st.st_size));
  }
  // Read until EOF, stopping one chunk past the limit: the file may have
  // grown since fstat.
  std::string contents;
  char buffer[16 * 1024];
  while (contents.size() <= max_bytes) {
    ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat("cannot read ", file));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  if (contents.size() > max_bytes) return too_large(contents.size());
  return contents;
}

}  // namespace rustiq::pki
