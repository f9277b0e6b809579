#include "tests/support/softhsm_token.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace rustiq::testing {
namespace {

// Runs `argv` (argv[0] looked up on PATH) with stdout and stderr going to
// `log_path`; returns its exit status, or -1 when it could not run.
int Run(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int spawned =
      posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  if (const char* previous = getenv("SOFTHSM2_CONF")) {
    previous_conf_ = previous;
  }
}

SoftHsmToken::~SoftHsmToken() {
  if (previous_conf_.has_value()) {
    setenv("SOFTHSM2_CONF", previous_conf_->c_str(), 1);
  } else {
    unsetenv("SOFTHSM2_CONF");
  }
}

absl::StatusOr<std::unique_ptr<SoftHsmToken>> SoftHsmToken::Create(
    const std::string& label) {
  if (!std::filesystem::exists(kModulePath)) {
    return absl::FailedPreconditionError(
        absl::StrCat("SoftHSM2 is not installed (no ", kModulePath,
                     "); scripts/setup-deps installs it"));
  }
  std::unique_ptr<SoftHsmToken> token(new SoftHsmToken(label));
  std::string token_dir = token->dir_ / "tokens";
  std::error_code ec;
  std::filesystem::create_directory(token_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", token_dir, ": ", ec.message()));
  }
  token->conf_path_ = token->dir_ / "softhsm2.conf";
  {
    std::ofstream conf(token->conf_path_);
    conf << "directories.tokendir = " << token_dir << "\n"
         << "objectstore.backend = file\n"
         << "log.level = ERROR\n"
         << "slots.removable = false\n";
    if (!conf) {
      return absl::InternalError(
          absl::StrCat("cannot write ", token->conf_path_));
    }
  }
  setenv("SOFTHSM2_CONF", token->conf_path_.c_str(), 1);
  std::string log_path = token->dir_ / "softhsm2-util.log";
  int exit_code = Run({kUtilPath, "--init-token", "--free", "--label", label,
                       "--so-pin", token->so_pin_, "--pin", token->user_pin_},
                      log_path);
  if (exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("softhsm2-util --init-token failed (exit ", exit_code,
                     "): ", ReadAll(log_path)));
  }
  return token;
}

}  // namespace rustiq::testing
