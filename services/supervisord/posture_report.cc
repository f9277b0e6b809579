#include "services/supervisord/posture_report.h"

#include <grp.h>
#include <pwd.h>

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/sandbox/policy_files.h"
#include "common/sandbox/privileges.h"
#include "policies/authd/policy_files.h"
#include "policies/eventd/policy_files.h"
#include "policies/keyd/policy_files.h"

namespace rustiq::supervisord {
namespace {

std::string UserName(uid_t uid) {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[1024];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return "";
  }
  return pw.pw_name;
}

std::string GroupName(gid_t gid) {
  struct group gr;
  struct group* found = nullptr;
  char buf[1024];
  if (getgrgid_r(gid, &gr, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return "";
  }
  return gr.gr_name;
}

}  // namespace

absl::StatusOr<uint64_t> ParsePolicyCapabilities(absl::string_view daemon,
                                                 absl::string_view text) {
  absl::StatusOr<std::vector<std::string>> names =
      sandbox::ParseCapabilitiesFile(text, daemon);
  if (!names.ok()) return names.status();
  absl::StatusOr<std::vector<int>> caps = sandbox::ParseCapabilities(*names);
  if (!caps.ok()) return caps.status();
  uint64_t set = 0;
  for (int cap : *caps) set |= uint64_t{1} << cap;
  return set;
}

absl::StatusOr<uint64_t> PolicyCapabilities(absl::string_view daemon) {
  namespace policies = sandbox::policies;
  // Parsed once: the texts are compiled in.
  static const auto* const kSets =
      new std::map<std::string, absl::StatusOr<uint64_t>, std::less<>>{
          {"keyd",
           ParsePolicyCapabilities("keyd", policies::keyd::kCapabilities)},
          {"eventd",
           ParsePolicyCapabilities("eventd", policies::eventd::kCapabilities)},
          {"authd",
           ParsePolicyCapabilities("authd", policies::authd::kCapabilities)},
      };
  auto it = kSets->find(daemon);
  return it == kSets->end() ? absl::StatusOr<uint64_t>(0) : it->second;
}

std::vector<std::string> Findings(const sandbox::Posture& p,
                                  const ExpectedPosture& expected) {
  std::vector<std::string> out;
  if (p.uid_effective == 0 || p.uid_real == 0 || p.uid_saved == 0) {
    out.push_back("runs as root");
  } else if (expected.uid.has_value() &&
             (p.uid_effective != *expected.uid || p.uid_real != *expected.uid ||
              p.uid_saved != *expected.uid)) {
    out.push_back(absl::StrCat("runs as uid ", p.uid_effective,
                               ", not as its user ", expected.user, " (uid ",
                               *expected.uid, ")"));
  }
  if (!p.groups.empty()) {
    out.push_back(
        absl::StrCat("holds ", p.groups.size(), " supplementary groups"));
  }
  for (auto [set, which] : {std::pair{p.cap_effective, "effective"},
                            std::pair{p.cap_permitted, "permitted"},
                            std::pair{p.cap_bounding, "bounding"},
                            std::pair{p.cap_ambient, "ambient"},
                            std::pair{p.cap_inheritable, "inheritable"}}) {
    uint64_t extra = set & ~expected.capabilities;
    if (extra != 0) {
      out.push_back(absl::StrCat(which, " capabilities not in its policy: ",
                                 sandbox::CapabilityNames(extra)));
    }
  }
  if (!p.no_new_privs) out.push_back("NoNewPrivs is off");
  if (p.seccomp_mode != 2) {
    out.push_back(absl::StrCat("seccomp is ",
                               p.seccomp_mode == 0 ? "off" : "in strict mode",
                               ", not in filter mode"));
  }
  if (p.dumpable.has_value() && *p.dumpable) {
    out.push_back("dumpable (ptrace by its own user, core dumps)");
  }
  if (p.core_limit.has_value() && *p.core_limit != 0) {
    out.push_back("core dumps allowed (RLIMIT_CORE is not 0)");
  }
  if (p.lsm_label == "unconfined") {
    out.push_back("AppArmor: unconfined (its profile is not loaded)");
  }
  return out;
}

v1::DaemonPosture PostureToProto(const sandbox::Posture& p,
                                 const ExpectedPosture& expected) {
  v1::DaemonPosture out;
  out.set_uid(p.uid_effective);
  out.set_gid(p.gid_effective);
  for (gid_t g : p.groups) out.add_groups(g);
  out.set_user(UserName(p.uid_effective));
  out.set_group(GroupName(p.gid_effective));
  out.set_capabilities_effective(sandbox::CapabilityNames(p.cap_effective));
  out.set_capabilities_permitted(sandbox::CapabilityNames(p.cap_permitted));
  out.set_capabilities_bounding(sandbox::CapabilityNames(p.cap_bounding));
  out.set_no_new_privs(p.no_new_privs);
  out.set_seccomp(p.seccomp_mode == 2   ? "filter"
                  : p.seccomp_mode == 1 ? "strict"
                                        : "disabled");
  out.set_seccomp_filters(static_cast<uint32_t>(p.seccomp_filters));
  out.set_landlock("not visible");
  out.set_apparmor(p.lsm_label);
  out.set_dumpable(!p.dumpable.has_value() ? "unknown"
                   : *p.dumpable           ? "yes"
                                           : "no");
  if (!p.core_limit.has_value()) {
    out.set_core_limit("unknown");
  } else if (*p.core_limit == UINT64_MAX) {
    out.set_core_limit("unlimited");
  } else {
    out.set_core_limit(absl::StrCat(*p.core_limit));
  }
  for (std::string& f : Findings(p, expected)) out.add_findings(std::move(f));
  return out;
}

}  // namespace rustiq::supervisord
