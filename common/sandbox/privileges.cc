#include "common/sandbox/privileges.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rustiq::sandbox {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<UserAndGroup> ResolveUserAndGroup(const std::string& user,
                                                 const std::string& group) {
  UserAndGroup ids{};
  std::vector<char> buf(16384);
  uint32_t numeric = 0;
  if (absl::SimpleAtoi(user, &numeric)) {
    ids.uid = numeric;
  } else {
    struct passwd pw;
    struct passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 ||
        found == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "user \"", user,
          "\" does not exist (systemd-sysusers with deploy/sysusers.d "
          "creates the rustiq users)"));
    }
    ids.uid = found->pw_uid;
  }
  if (absl::SimpleAtoi(group, &numeric)) {
    ids.gid = numeric;
  } else {
    struct group gr;
    struct group* found = nullptr;
    if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 ||
        found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("group \"", group, "\" does not exist"));
    }
    ids.gid = found->gr_gid;
  }
  return ids;
}

absl::StatusOr<std::vector<int>> ParseCapabilities(
    const std::vector<std::string>& names) {
  std::vector<int> caps;
  for (const std::string& raw : names) {
    std::string name = absl::AsciiStrToLower(raw);
    if (name.rfind("cap_", 0) == 0) name = name.substr(4);
    int cap = capng_name_to_capability(name.c_str());
    if (cap < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown capability \"", raw, "\""));
    }
    caps.push_back(cap);
  }
  return caps;
}

absl::Status DropPrivileges(const std::optional<UserAndGroup>& target,
                            const std::vector<int>& keep) {
  capng_clear(CAPNG_SELECT_ALL);
  for (int cap : keep) {
    if (capng_update(
            CAPNG_ADD,
            static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED |
                                      CAPNG_BOUNDING_SET),
            static_cast<unsigned>(cap)) != 0) {
      return absl::InternalError(absl::StrCat("cannot select capability ",
                                              capng_capability_to_name(cap)));
    }
  }
  const bool switched = target.has_value() && geteuid() == 0;
  if (switched) {
    // The bounding set is reduced to the list first, while CAP_SETPCAP is
    // still held; capng_change_id then keeps the selected capabilities across
    // setresuid and drops the supplementary groups.
    if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) {
      return absl::InternalError("cannot reduce the capability bounding set");
    }
    int rc =
        capng_change_id(static_cast<int>(target->uid),
                        static_cast<int>(target->gid), CAPNG_DROP_SUPP_GRP);
    if (rc != 0) {
      return absl::InternalError(
          absl::StrCat("cannot switch to uid ", target->uid, " gid ",
                       target->gid, " (capng_change_id returned ", rc, ")"));
    }
  } else if (capng_apply(CAPNG_SELECT_BOTH) != 0) {
    // Without CAP_SETPCAP the bounding set cannot be changed; the
    // permitted and effective sets still can.
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
      return absl::InternalError("cannot apply the capability sets");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    return Errno("cannot clear the ambient capabilities");
  }

  // Read back what is in force and refuse to continue on any difference.
  capng_get_caps_process();
  for (int cap = 0; cap <= static_cast<int>(CAP_LAST_CAP); ++cap) {
    bool wanted = false;
    for (int k : keep) wanted = wanted || k == cap;
    for (capng_type_t set : {CAPNG_EFFECTIVE, CAPNG_PERMITTED}) {
      if ((capng_have_capability(set, static_cast<unsigned>(cap)) != 0) !=
          wanted) {
        return absl::InternalError(absl::StrCat(
            "capability ", capng_capability_to_name(cap),
            wanted ? " is missing" : " is still held", " after dropping"));
      }
    }
    if (switched &&
        (capng_have_capability(CAPNG_BOUNDING_SET,
                               static_cast<unsigned>(cap)) != 0) != wanted) {
      return absl::InternalError(absl::StrCat(
          "capability ", capng_capability_to_name(cap),
          wanted ? " is missing from" : " is still in", " the bounding set"));
    }
    if (capng_have_capability(CAPNG_INHERITABLE, static_cast<unsigned>(cap))) {
      return absl::InternalError(absl::StrCat(
          "capability ", capng_capability_to_name(cap), " is inheritable"));
    }
  }
  if (target.has_value() && getuid() == 0 && target->uid != 0) {
    return absl::InternalError("still running as root after the user switch");
  }
  if (target.has_value() && target->uid != 0) {
    uid_t r, e, s;
    gid_t rg, eg, sg;
    getresuid(&r, &e, &s);
    getresgid(&rg, &eg, &sg);
    if (r != target->uid || e != target->uid || s != target->uid ||
        rg != target->gid || eg != target->gid || sg != target->gid) {
      return absl::InternalError(
          "uid/gid are not the target's after the switch");
    }
    if (getgroups(0, nullptr) != 0) {
      return absl::InternalError(
          "supplementary groups remain after the switch");
    }
  }
  return absl::OkStatus();
}

}  // namespace rustiq::sandbox
