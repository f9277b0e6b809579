// rustiqctl posture [PID]: what the kernel says is in force for a process
// (uid/gid, capabilities, no_new_privs, seccomp, dumpable, core limit, LSM
// label; Landlock only for the CLI itself, as the kernel does not show it).
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/sandbox/posture.h"

namespace rustiq::cli {
namespace {

nlohmann::json ToJson(const sandbox::Posture& p) {
  auto hex = [](uint64_t v) { return absl::StrCat(absl::Hex(v)); };
  nlohmann::json j = {
      {"pid", p.pid},
      {"uid", {p.uid_real, p.uid_effective, p.uid_saved}},
      {"gid", {p.gid_real, p.gid_effective, p.gid_saved}},
      {"groups", p.groups},
      {"no_new_privs", p.no_new_privs},
      {"seccomp_mode", p.seccomp_mode},
      {"seccomp_filters", p.seccomp_filters},
      {"cap_effective", hex(p.cap_effective)},
      {"cap_permitted", hex(p.cap_permitted)},
      {"cap_bounding", hex(p.cap_bounding)},
      {"cap_ambient", hex(p.cap_ambient)},
      {"cap_effective_names", sandbox::CapabilityNames(p.cap_effective)},
      {"lsm_label", p.lsm_label},
      {"landlock_abi", p.landlock_abi},
      {"landlock_applied", p.landlock_applied},
  };
  j["dumpable"] = p.dumpable.has_value() ? nlohmann::json(*p.dumpable)
                                         : nlohmann::json(nullptr);
  j["core_limit"] = p.core_limit.has_value() ? nlohmann::json(*p.core_limit)
                                             : nlohmann::json(nullptr);
  return j;
}

int ShowPosture(const GlobalOptions& global, int pid) {
  Output out(global.json);
  absl::StatusOr<sandbox::Posture> posture = sandbox::ReadPosture(pid);
  if (!posture.ok()) return out.Fail(posture.status());
  out.Result(sandbox::FormatPosture(*posture), ToJson(*posture));
  return kExitOk;
}

}  // namespace

void AddPostureCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "posture", "Show the security posture of a process, read from /proc");
  auto pid = std::make_shared<int>(0);
  cmd->add_option("pid", *pid, "Process ID (default: rustiqctl itself)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&global, action, pid] {
    *action = [&global, pid] { return ShowPosture(global, *pid); };
  });
}

}  // namespace rustiq::cli
