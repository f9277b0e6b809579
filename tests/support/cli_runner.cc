#include "tests/support/cli_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {

CtlRun Ctl(const std::string& args, const std::string& env) {
  // A file of its own per run: ctest runs tests in parallel processes.
  char err_template[] = "/tmp/rustiq-ctl-stderr-XXXXXX";
  int err_fd = mkstemp(err_template);
  if (err_fd >= 0) close(err_fd);
  std::string err_file = err_template;
  // Unless the test gives its own, an empty runtime directory: the token of
  // whoever runs the tests (after 'rustiqctl login', e.g. in scripts/demo)
  // must never stand in for the test's.
  std::string runtime;
  std::string full_env = env;
  if (!absl::StrContains(env, "XDG_RUNTIME_DIR=")) {
    char runtime_template[] = "/tmp/rustiq-ctl-runtime-XXXXXX";
    if (mkdtemp(runtime_template) != nullptr) {
      runtime = runtime_template;
      full_env = absl::StrCat("XDG_RUNTIME_DIR=", runtime, " ", env);
    }
  }
  std::string cmd = absl::StrCat(full_env, " ", BinaryPath("cli/rustiqctl"),
                                 " ", args, " 2>", err_file);
  CtlRun run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    run.out.append(buf.data(), n);
  }
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  run.err.assign(std::istreambuf_iterator<char>(in), {});
  unlink(err_file.c_str());
  if (!runtime.empty()) std::filesystem::remove_all(runtime);
  return run;
}

}  // namespace rustiq::testing
