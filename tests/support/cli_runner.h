// Runs the real rustiqctl binary for integration tests: its exit code,
// stdout and stderr.
#ifndef RUSTIQ_TESTS_SUPPORT_CLI_RUNNER_H_
#define RUSTIQ_TESTS_SUPPORT_CLI_RUNNER_H_

#include <string>

namespace rustiq::testing {

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `rustiqctl <args>` through /bin/sh (so `args` must be shell-quoted
// where needed), with `env` ("VAR=value ...") prefixed to the command.
// Without XDG_RUNTIME_DIR in `env` it runs with an empty runtime directory
// of its own: logged out, whatever token the user running the tests holds.
CtlRun Ctl(const std::string& args, const std::string& env = "");

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_CLI_RUNNER_H_
