#include "common/sandbox/hardening.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "absl/strings/str_cat.h"

namespace rustiq::sandbox {

absl::Status HardenProcess() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_NO_NEW_PRIVS failed: ", strerror(errno)));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_DUMPABLE failed: ", strerror(errno)));
  }
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) {
    return absl::InternalError(
        absl::StrCat("setting RLIMIT_CORE to 0 failed: ", strerror(errno)));
  }
  // Verify, in the spirit of OpenSSH: a step that did not take is fatal.
  struct rlimit now;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
      prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 ||
      getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur != 0 ||
      now.rlim_max != 0) {
    return absl::InternalError("process hardening did not take effect");
  }
  return absl::OkStatus();
}

}  // namespace rustiq::sandbox
