// Where a person's token lives between rustiqctl runs: written by
// 'rustiqctl login', read before every call that may need it, removed by
// 'rustiqctl logout'. $XDG_RUNTIME_DIR/rustiq/token, else
// /run/user/<uid>/rustiq/token: a per-user tmpfs that disappears at logout.
// The directory must be the user's own with mode 0700 and the file a regular
// file owned by the user with mode 0600; anything else is not used.
#ifndef RUSTIQ_CLI_TOKEN_FILE_H_
#define RUSTIQ_CLI_TOKEN_FILE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rustiq::cli {

std::string TokenPath();

// The stored token, nullopt when there is none; FailedPrecondition naming the
// file when it exists but is not safe to use (owner, mode, size).
absl::StatusOr<std::optional<std::string>> ReadToken();

// Stores `token` (replacing the one stored before, atomically: a reader sees
// the old token or the new one, never a part). Creates the rustiq directory
// (mode 0700) in the runtime directory when it is missing; the runtime
// directory itself must exist (FailedPrecondition saying to set
// XDG_RUNTIME_DIR). A rustiq directory that is not the user's own with mode
// 0700, or a symbolic link, is refused. InvalidArgument when `token` is not
// one line of printable ASCII of at most 8 KiB (it goes into call metadata).
absl::Status WriteToken(const std::string& token);

// Removes the stored token; there being none is not an error.
absl::Status RemoveToken();

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_TOKEN_FILE_H_
