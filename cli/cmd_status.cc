// rustiqctl status [--security]: the stack as rustiq-supervisord sees it
// (docs/supervisord.md), over mTLS as the CLI's identity and for the person
// whose token is stored (permission services.read).
//
// Without --security: a header line and one row per daemon (state, health,
// pid, uptime, restarts, memory, last exit). With --security: each daemon's
// posture as the kernel reports it, and below it what is weaker than its
// policy. The exit code makes it a check a script can run.
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/daemon_call.h"
#include "cli/status_format.h"
#include "rustiq/v1/supervisor.grpc.pb.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "supervisord";

using Stub = v1::Supervisor::Stub;

int Status(const GlobalOptions& global, bool security) {
  Output out(global.json);
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  v1::StackInfoResponse stack;
  grpc::Status s = Invoke(global, conn->channel, &Stub::GetStackInfo,
                          v1::StackInfoRequest(), &stack);
  if (!s.ok()) return FailCall(out, kDaemon, s);
  v1::ListDaemonsRequest req;
  req.set_with_posture(security);
  v1::ListDaemonsResponse daemons;
  s = Invoke(global, conn->channel, &Stub::ListDaemons, req, &daemons);
  if (!s.ok()) return FailCall(out, kDaemon, s);

  std::string text =
      out.json() ? JsonLine(StatusJson(stack, daemons))
      : security
          ? absl::StrCat(StackHeaderText(stack), "\n\n",
                         PostureTable(daemons, ColourWanted()))
          : absl::StrCat(StackHeaderText(stack), "\n\n", DaemonsTable(daemons));
  std::fprintf(stdout, "%s\n", text.c_str());
  return ExitCodeForVerdict(JudgeStack(daemons, security));
}

}  // namespace

void AddStatusCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "status",
      "The daemons of the stack (rustiq-supervisord) and their health; "
      "--security: their posture");
  cmd->fallthrough();
  auto security = std::make_shared<bool>(false);
  cmd->add_flag("--security", *security,
                "Show each daemon's security posture (user, capabilities, "
                "no_new_privs, seccomp, Landlock, AppArmor, dumpable, core "
                "limit) and what is weaker than its policy");
  cmd->footer(
      "Exit codes: 0 every daemon is running and serving (and, with "
      "--security, has no findings); 5 a daemon is not running or not "
      "serving, or has findings; 3 supervisord is not reachable; 4 not "
      "logged in or not allowed (services.read).");
  cmd->callback([&global, action, security] {
    *action = [&global, security] { return Status(global, *security); };
  });
}

}  // namespace rustiq::cli
