// Where a person's token lives between rustiqctl runs: written by
// 'rustiqctl login' (authd, issue 6), read before every call that may need
// it. $XDG_RUNTIME_DIR/rustiq/token, else /run/user/<uid>/rustiq/token: a
// per-user tmpfs that disappears at logout. The file must be a regular file
// owned by the user with mode 0600; any other file is not used.
#ifndef RUSTIQ_CLI_TOKEN_FILE_H_
#define RUSTIQ_CLI_TOKEN_FILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace rustiq::cli {

std::string TokenPath();

// The stored token, nullopt when there is none; FailedPrecondition naming the
// file when it exists but is not safe to use (owner, mode, size).
absl::StatusOr<std::optional<std::string>> ReadToken();

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_TOKEN_FILE_H_
