// Identity and capability steps of the confinement sequence (DESIGN.md,
// "Confinement"): drop supplementary groups and switch to the daemon's user
// when started as root, then keep only the capabilities on the daemon's list
// (bounding set cleared of everything else, ambient set empty).
#ifndef RUSTIQ_COMMON_SANDBOX_PRIVILEGES_H_
#define RUSTIQ_COMMON_SANDBOX_PRIVILEGES_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rustiq::sandbox {

struct UserAndGroup {
  uid_t uid;
  gid_t gid;
};

// Resolves "user" and "group" names (or numeric strings) to ids; the error
// names what does not exist and how to create it.
absl::StatusOr<UserAndGroup> ResolveUserAndGroup(const std::string& user,
                                                 const std::string& group);

// Parses capability names ("CAP_NET_BIND_SERVICE" or "net_bind_service")
// into libcap-ng numbers; an unknown name is an error naming it.
absl::StatusOr<std::vector<int>> ParseCapabilities(
    const std::vector<std::string>& names);

// When the process runs as root and `target` is given: drops supplementary
// groups and switches real, effective and saved uid/gid to `target`, keeping
// only `keep` across the switch. Then, in every case: permitted and effective
// sets become exactly `keep`, inheritable and ambient sets empty, and the
// bounding set holds only `keep`. Each step is verified by reading it back.
absl::Status DropPrivileges(const std::optional<UserAndGroup>& target,
                            const std::vector<int>& keep);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_PRIVILEGES_H_
