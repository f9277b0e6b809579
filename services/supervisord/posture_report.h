// A daemon's posture as the admin API reports it: what the kernel says
// about the process (common/sandbox/posture.h, read from /proc), and what
// of it is weaker than the daemon's policy: a finding for each of root, a
// user other than the configured one, a capability (effective, permitted
// or in the bounding set) its policies/<d>/capabilities does not list,
// NoNewPrivs off, seccomp not in filter mode, dumpable, core dumps allowed,
// and an AppArmor label of "unconfined" on a kernel with AppArmor.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_POSTURE_REPORT_H_
#define RUSTIQ_SERVICES_SUPERVISORD_POSTURE_REPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sandbox/posture.h"
#include "rustiq/v1/supervisor.pb.h"

namespace rustiq::supervisord {

struct ExpectedPosture {
  uint64_t capabilities = 0;  // the set its policy allows
  // The user supervisord switched it to (its configured user), if it did.
  std::optional<uid_t> uid;
  std::string user;  // that user's name, for the finding's text
};

// The capability set of a daemon's compiled-in policy (policies/<d>/
// capabilities, parsed once); a daemon without one (a test daemon) may hold
// none.
absl::StatusOr<uint64_t> PolicyCapabilities(absl::string_view daemon);

std::vector<std::string> Findings(const sandbox::Posture& posture,
                                  const ExpectedPosture& expected);

v1::DaemonPosture PostureToProto(const sandbox::Posture& posture,
                                 const ExpectedPosture& expected);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_POSTURE_REPORT_H_
