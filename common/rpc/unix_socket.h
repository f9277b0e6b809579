// Creating the listening socket's directory and file with restrictive modes:
// defense in depth under mTLS, so that only the intended users can connect
// at all.
#ifndef RUSTIQ_COMMON_RPC_UNIX_SOCKET_H_
#define RUSTIQ_COMMON_RPC_UNIX_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::rpc {

inline constexpr mode_t kSocketDirMode = 0750;
// The runtime directory supervisord prepares for a stack of daemons running
// as different users in one group: each creates its own socket there, and
// the sticky bit keeps it from removing another's.
inline constexpr mode_t kSharedSocketDirMode = 01770;
inline constexpr mode_t kSocketMode = 0660;

// Where the daemon `daemon` listens: <runtime_dir>/<daemon>.sock.
std::string DaemonSocketPath(absl::string_view runtime_dir,
                             absl::string_view daemon);

// Resolves a group name to its gid; empty means the process's effective gid.
absl::StatusOr<gid_t> ResolveGroup(const std::string& group);

// Creates `dir` (mode 0750, group `gid`) if missing. An existing directory we
// own is brought to that mode and group, unless it is the stack's shared
// directory (kSharedSocketDirMode), which is left as it is; one we do not own
// must at least not be accessible to others. A symlink is refused.
absl::Status PrepareSocketDirectory(const std::string& dir, gid_t gid);

// Makes `path` free for a new listener: a stale socket is removed; a socket
// that still accepts connections (another instance serving) or a non-socket
// file is an error. Also checks the path fits in sockaddr_un.
absl::Status ClaimSocketPath(const std::string& path);

// Sets the listening socket's mode (0660) and group after bind.
absl::Status SecureSocketFile(const std::string& path, gid_t gid);

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_UNIX_SOCKET_H_
