// The non-seccomp parts of a daemon's policy in policies/<daemon>/:
//
// `capabilities`: one capability per line ("CAP_NET_BIND_SERVICE"), each
// with a "# why:" comment; an empty file (comments only) means none.
//
// `landlock.paths`: one rule per line, "<access> <path>" where access is
// `ro`, `rw` or `exec` and the path is absolute or starts with one of the
// configuration's roots: ${config}, ${state}, ${runtime}; ${daemon} is the
// daemon's name. Example:
//     rw   ${state}/${daemon}
//     rw   ${runtime}
//     ro   ${state}/trust
//     ro   /usr/lib/ssl          # why: OpenSSL's configuration
// Both files are compiled into the binary (their text is embedded at build
// time and parsed by the same code the build-time check runs), and any error
// names the file and line.
#ifndef RUSTIQ_COMMON_SANDBOX_POLICY_FILES_H_
#define RUSTIQ_COMMON_SANDBOX_POLICY_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sandbox/landlock.h"

namespace rustiq::sandbox {

struct PathRoots {
  std::string config;
  std::string state;
  std::string runtime;
  std::string daemon;
};

absl::StatusOr<std::vector<std::string>> ParseCapabilitiesFile(
    absl::string_view text, absl::string_view origin);

// Parses and expands the rules; `roots` may be empty strings for a
// build-time syntax check (variables then expand to placeholders).
absl::StatusOr<LandlockRules> ParseLandlockFile(absl::string_view text,
                                                absl::string_view origin,
                                                const PathRoots& roots);

}  // namespace rustiq::sandbox

#endif  // RUSTIQ_COMMON_SANDBOX_POLICY_FILES_H_
