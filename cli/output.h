// How rustiqctl speaks: a readable line by default, one JSON object with
// --json, errors as one line on stderr, and exit codes a script can act on.
#ifndef RUSTIQ_CLI_OUTPUT_H_
#define RUSTIQ_CLI_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace rustiq::cli {

// Exit codes (documented in docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // the operation failed (see the message)
  kExitUsage = 2,        // bad command line
  kExitUnavailable = 3,  // the daemon is not reachable or timed out
  kExitDenied = 4,       // unauthenticated or not allowed
  kExitNotServing = 5,   // reachable but not healthy
  kExitConfig = 6,       // configuration or provisioning problem
};

// Maps a status to its exit code.
int ExitCodeFor(const absl::Status& status);

class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  // Prints `text` (human mode) or `object` (JSON mode) on stdout.
  void Result(const std::string& text, const nlohmann::json& object) const;
  // Prints "rustiqctl: <message>" (or {"error":...} with --json) on stderr
  // and returns the exit code to use.
  int Fail(const absl::Status& status) const;
  // The same with an exit code of the caller's choosing, for a failure whose
  // status code alone would map to another (a verifier's INVALID_ARGUMENT
  // about a damaged file is a failed operation, not a bad command line).
  int FailWithExitCode(const absl::Status& status, int exit_code) const;

 private:
  bool json_;
};

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_OUTPUT_H_
