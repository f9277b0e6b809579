#include "common/sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/base/unique_fd.h"

namespace rustiq::sandbox {
namespace {

// Rights newer than Debian 12's kernel headers.
constexpr uint64_t kFsTruncate = 1ULL << 14;        // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;        // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0;         // ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;      // ABI 4
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;        // ABI 6

// The ruleset attribute as of ABI 6; older kernels take a prefix of it.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

constexpr uint64_t kFileRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
    LANDLOCK_ACCESS_FS_READ_FILE | kFsTruncate | kFsIoctlDev;

uint64_t HandledFs(int abi) {
  uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= kFsTruncate;
  if (abi >= 5) fs |= kFsIoctlDev;
  return fs;
}

uint64_t ReadRights() {
  return LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
}

uint64_t WriteRights() {
  return ReadRights() | LANDLOCK_ACCESS_FS_WRITE_FILE |
         LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
         LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_SYM |
         LANDLOCK_ACCESS_FS_REFER | kFsTruncate;
}

}  // namespace

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0,
                     LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

absl::StatusOr<LandlockResult> ApplyLandlock(const LandlockRules& rules) {
  LandlockResult result;
  result.abi = LandlockAbi();
  if (result.abi == 0) return result;

  RulesetAttr attr{};
  size_t attr_size = sizeof(uint64_t);
  attr.handled_access_fs = HandledFs(result.abi);
  if (result.abi >= 4 && rules.deny_tcp) {
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    attr_size = 2 * sizeof(uint64_t);
    result.tcp_denied = true;
  }
  if (result.abi >= 6 && rules.scope_signals) {
    attr.scoped = kScopeAbstractUnix | kScopeSignal;
    attr_size = 3 * sizeof(uint64_t);
    result.signals_scoped = true;
  }
  UniqueFd ruleset(static_cast<int>(
      syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0)));
  if (ruleset.get() < 0) {
    return absl::InternalError(absl::StrCat(
        "landlock_create_ruleset (ABI ", result.abi, "): ", strerror(errno)));
  }

  auto add = [&](const std::string& path, uint64_t rights) -> absl::Status {
    UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) {
        result.skipped_paths.push_back(path);
        return absl::OkStatus();
      }
      return absl::InternalError(
          absl::StrCat("Landlock path ", path, ": ", strerror(errno)));
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) {
      return absl::InternalError(
          absl::StrCat("stat ", path, ": ", strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
    struct landlock_path_beneath_attr beneath = {};
    beneath.allowed_access = rights & attr.handled_access_fs;
    beneath.parent_fd = fd.get();
    if (syscall(SYS_landlock_add_rule, ruleset.get(),
                LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
      return absl::InternalError(
          absl::StrCat("landlock_add_rule ", path, ": ", strerror(errno)));
    }
    return absl::OkStatus();
  };
  for (const std::string& p : rules.read_only) {
    if (absl::Status s = add(p, ReadRights()); !s.ok()) return s;
  }
  for (const std::string& p : rules.executable) {
    if (absl::Status s = add(p, ReadRights() | LANDLOCK_ACCESS_FS_EXECUTE);
        !s.ok()) {
      return s;
    }
  }
  for (const std::string& p : rules.read_write) {
    if (absl::Status s = add(p, WriteRights()); !s.ok()) return s;
  }
  // landlock_restrict_self requires no_new_privs (or CAP_SYS_ADMIN); the
  // sequence sets it before this step.
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return absl::InternalError(
        absl::StrCat("landlock_restrict_self: ", strerror(errno)));
  }
  result.applied = true;
  return result;
}

}  // namespace rustiq::sandbox
