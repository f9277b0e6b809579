#include "cli/confirm.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/daemon_call.h"

namespace rustiq::cli {

int FailUnconfirmed(const Output& out, absl::string_view consequence,
                    absl::string_view verb) {
  return FailUsage(
      out, absl::StrCat(consequence,
                        "; rustiqctl asks no questions: add --yes to ", verb));
}

void AddDeleteSubcommand(
    CLI::App* group, const std::string& help, const std::string& name,
    const std::string& name_help, Action* action,
    std::function<int(const std::string& name, bool yes)> run) {
  auto delete_name = std::make_shared<std::string>();
  auto delete_yes = std::make_shared<bool>(false);
  CLI::App* delete_cmd = group->add_subcommand("delete", help);
  delete_cmd->add_option(name, *delete_name, name_help)->required();
  delete_cmd->add_flag("--yes", *delete_yes, "Really delete it");
  delete_cmd->callback([action, delete_name, delete_yes, run = std::move(run)] {
    *action = [delete_name, delete_yes, run] {
      return run(*delete_name, *delete_yes);
    };
  });
}

}  // namespace rustiq::cli
