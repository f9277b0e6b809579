// What supervisord prepares on the file system before it starts daemons as
// their own users (as systemd's StateDirectory= and RuntimeDirectory= do):
// the runtime directory root:<stack group> mode 01770 (each daemon creates
// its socket there; the sticky bit keeps it from removing another's), and
// each daemon's state directory <state>/<daemon> owned by the daemon's user
// and group, mode 0700, with everything in it (never following a symlink).
#ifndef RUSTIQ_SERVICES_SUPERVISORD_STACK_PATHS_H_
#define RUSTIQ_SERVICES_SUPERVISORD_STACK_PATHS_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace rustiq::supervisord {

absl::Status PrepareRuntimeDir(const std::string& runtime_dir, gid_t group);
// Creates the directory if missing and hands the tree to uid:gid.
absl::Status HandOverStateDir(const std::string& dir, uid_t uid, gid_t gid);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_STACK_PATHS_H_
