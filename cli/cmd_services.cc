// rustiqctl services restart|stop|start NAME: one daemon of the stack,
// through rustiq-supervisord (docs/supervisord.md), over mTLS as the CLI's
// identity and for the person whose token is stored (permission
// services.manage).
//
// NAME is checked before anything is sent (CheckDaemonName); whether such a
// daemon exists is supervisord's to say (NOT_FOUND, exit 1).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cli/commands.h"
#include "cli/daemon_call.h"
#include "cli/status_format.h"
#include "rustiq/v1/supervisor.grpc.pb.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "supervisord";

using Stub = v1::Supervisor::Stub;
using Method = grpc::Status (Stub::*)(grpc::ClientContext*,
                                      const v1::DaemonRequest&,
                                      v1::DaemonResponse*);

struct ServiceAction {
  const char* name;  // the subcommand
  const char* help;
  const char* verb;  // what the printed line says is happening
  Method method;
};

int Run(const GlobalOptions& global, const ServiceAction& act,
        const std::string& name) {
  Output out(global.json);
  if (absl::Status s = CheckDaemonName(name); !s.ok()) return out.Fail(s);
  v1::DaemonRequest req;
  req.set_name(name);
  v1::DaemonResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, act.method, req, &resp);
      rc != kExitOk) {
    return rc;
  }
  std::string text = out.json() ? JsonLine(DaemonStatusJson(resp.daemon()))
                                : ServiceActionText(act.verb, resp.daemon());
  std::fprintf(stdout, "%s\n", text.c_str());
  return kExitOk;
}

}  // namespace

void AddServicesCommand(CLI::App& app, const GlobalOptions& global,
                        Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "services", "Restart, stop or start a daemon (rustiq-supervisord)");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  static const ServiceAction kActions[] = {
      {"restart",
       "Stop a daemon (SIGTERM, then SIGKILL after its stop timeout) and "
       "start it again; also brings a failed daemon back",
       "restarting", &Stub::RestartDaemon},
      {"stop",
       "Stop a daemon; it stays stopped until started (daemons that depend "
       "on it keep running and fail closed)",
       "stopping", &Stub::StopDaemon},
      {"start",
       "Start a stopped or failed daemon (once its dependencies serve)",
       "starting", &Stub::StartDaemon},
  };
  for (const ServiceAction& act : kActions) {
    auto name = std::make_shared<std::string>();
    CLI::App* sub = cmd->add_subcommand(act.name, act.help);
    sub->add_option("NAME", *name,
                    "Daemon name, e.g. keyd (see 'rustiqctl status')")
        ->required();
    sub->callback([&global, action, &act, name] {
      *action = [&global, &act, name] { return Run(global, act, *name); };
    });
  }
}

}  // namespace rustiq::cli
