#include <grpcpp/grpcpp.h>
#include <openssl/opensslv.h>

#include "cli/commands.h"
#include "cli/version.h"

namespace rustiq::cli {

void AddVersionCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action) {
  CLI::App* cmd = app.add_subcommand("version", "Print the rustiq version");
  cmd->callback([&global, action] {
    *action = [&global] {
      Output out(global.json);
      out.Result(std::string("rustiqctl ") + kRustiqVersion,
                 {{"version", kRustiqVersion},
                  {"grpc", grpc::Version()},
                  {"openssl", OPENSSL_VERSION_STR}});
      return kExitOk;
    };
  });
}

}  // namespace rustiq::cli
