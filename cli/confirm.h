// rustiqctl asks no questions: a command that destroys something runs only
// when --yes says the person means it, and without it is a usage error
// saying what it would have destroyed.
#ifndef RUSTIQ_CLI_CONFIRM_H_
#define RUSTIQ_CLI_CONFIRM_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace rustiq::cli {

// The usage error (exit code 2) of a destructive command run without --yes:
// "<consequence>; rustiqctl asks no questions: add --yes to <verb>".
int FailUnconfirmed(const Output& out, absl::string_view consequence,
                    absl::string_view verb);

// Adds `delete NAME --yes` to the command group `group`: `help` describes
// the subcommand, `name` and `name_help` its one positional argument. When it
// is chosen, the action runs `run` with NAME and whether --yes was given.
void AddDeleteSubcommand(
    CLI::App* group, const std::string& help, const std::string& name,
    const std::string& name_help, Action* action,
    std::function<int(const std::string& name, bool yes)> run);

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_CONFIRM_H_
