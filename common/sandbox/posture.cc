#include "common/sandbox/posture.h"

#include <cap-ng.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/sandbox/landlock.h"

namespace rustiq::sandbox {
namespace {

std::atomic<int> g_landlock_abi{-1};
std::atomic<bool> g_landlock_applied{false};
std::atomic<bool> g_seccomp_complain{false};

absl::StatusOr<std::string> ReadProc(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, " (no such process?)"));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool ParseIds(absl::string_view value, uint32_t out[3]) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(value, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (parts.size() < 3) return false;
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], &out[i])) return false;
  }
  return true;
}

}  // namespace

void NoteSelfLandlock(int abi, bool applied) {
  g_landlock_abi = abi;
  g_landlock_applied = applied;
}
void NoteSelfSeccompComplain(bool complain) { g_seccomp_complain = complain; }

absl::StatusOr<Posture> ReadPosture(pid_t pid) {
  Posture p;
  p.pid = pid == 0 ? getpid() : pid;
  std::string base = absl::StrCat("/proc/", p.pid);
  absl::StatusOr<std::string> status = ReadProc(base + "/status");
  if (!status.ok()) return status.status();
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    absl::string_view key = kv.first;
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    uint32_t ids[3];
    if (key == "Uid" && ParseIds(value, ids)) {
      p.uid_real = ids[0], p.uid_effective = ids[1], p.uid_saved = ids[2];
    } else if (key == "Gid" && ParseIds(value, ids)) {
      p.gid_real = ids[0], p.gid_effective = ids[1], p.gid_saved = ids[2];
    } else if (key == "Groups") {
      for (absl::string_view g :
           absl::StrSplit(value, ' ', absl::SkipEmpty())) {
        uint32_t gid;
        if (absl::SimpleAtoi(g, &gid)) p.groups.push_back(gid);
      }
    } else if (key == "CapInh") {
      absl::SimpleHexAtoi(value, &p.cap_inheritable);
    } else if (key == "CapPrm") {
      absl::SimpleHexAtoi(value, &p.cap_permitted);
    } else if (key == "CapEff") {
      absl::SimpleHexAtoi(value, &p.cap_effective);
    } else if (key == "CapBnd") {
      absl::SimpleHexAtoi(value, &p.cap_bounding);
    } else if (key == "CapAmb") {
      absl::SimpleHexAtoi(value, &p.cap_ambient);
    } else if (key == "NoNewPrivs") {
      p.no_new_privs = value == "1";
    } else if (key == "Seccomp") {
      absl::SimpleAtoi(value, &p.seccomp_mode);
    } else if (key == "Seccomp_filters") {
      absl::SimpleAtoi(value, &p.seccomp_filters);
    }
  }
  if (absl::StatusOr<std::string> limits = ReadProc(base + "/limits");
      limits.ok()) {
    for (absl::string_view line : absl::StrSplit(*limits, '\n')) {
      if (!absl::ConsumePrefix(&line, "Max core file size")) continue;
      std::vector<absl::string_view> f =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      uint64_t soft = 0;
      if (!f.empty()) {
        p.core_limit =
            f[0] == "unlimited"
                ? UINT64_MAX
                : (absl::SimpleAtoi(f[0], &soft) ? soft : UINT64_MAX);
      }
    }
  }
  if (absl::StatusOr<std::string> label = ReadProc(base + "/attr/current");
      label.ok()) {
    p.lsm_label = std::string(absl::StripAsciiWhitespace(*label));
  }
  if (p.pid == getpid()) {
    p.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
    // Before Confine() has noted anything, nothing has been applied.
    p.landlock_abi =
        g_landlock_abi >= 0 ? g_landlock_abi.load() : LandlockAbi();
    p.landlock_applied = g_landlock_applied;
    p.seccomp_complain = g_seccomp_complain;
  } else {
    struct stat st;
    if (stat((base + "/environ").c_str(), &st) == 0 && p.uid_effective != 0) {
      // The kernel hands a non-dumpable process's /proc entries to root,
      // except world-readable directories such as /proc/<pid> itself.
      p.dumpable = st.st_uid == p.uid_effective;
    }
  }
  return p;
}

std::string CapabilityNames(uint64_t set) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if ((set >> cap) & 1) {
      const char* name = capng_capability_to_name(static_cast<unsigned>(cap));
      names.push_back(name != nullptr ? absl::StrCat("cap_", name)
                                      : absl::StrCat("cap_", cap));
    }
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

namespace {
const char* SeccompName(int mode) {
  return mode == 2 ? "filter" : mode == 1 ? "strict" : "disabled";
}
std::string Tri(const std::optional<bool>& v) {
  return v.has_value() ? (*v ? "yes" : "no") : "unknown";
}
std::string Landlock(const Posture& p) {
  if (p.landlock_abi < 0) return "not visible from outside the process";
  if (!p.landlock_applied) {
    return absl::StrCat("not applied (kernel ABI ", p.landlock_abi, ")");
  }
  return absl::StrCat("applied (ABI ", p.landlock_abi, ")");
}
}  // namespace

std::string FormatPosture(const Posture& p) {
  std::vector<std::string> groups;
  for (gid_t g : p.groups) groups.push_back(std::to_string(g));
  return absl::StrCat(
      "pid:           ", p.pid, "\n", "uid:           ", p.uid_real, "/",
      p.uid_effective, "/", p.uid_saved, " (real/effective/saved)\n",
      "gid:           ", p.gid_real, "/", p.gid_effective, "/", p.gid_saved,
      "\n",
      "groups:        ", groups.empty() ? "none" : absl::StrJoin(groups, ","),
      "\n", "no_new_privs:  ", p.no_new_privs ? "yes" : "no", "\n",
      "seccomp:       ", SeccompName(p.seccomp_mode), " (", p.seccomp_filters,
      " filters)", p.seccomp_complain ? " COMPLAIN MODE" : "", "\n",
      "cap effective: ", CapabilityNames(p.cap_effective), "\n",
      "cap permitted: ", CapabilityNames(p.cap_permitted), "\n",
      "cap bounding:  ", CapabilityNames(p.cap_bounding), "\n",
      "cap ambient:   ", CapabilityNames(p.cap_ambient), "\n",
      "dumpable:      ", Tri(p.dumpable), "\n", "core limit:    ",
      p.core_limit.has_value()
          ? (*p.core_limit == UINT64_MAX ? "unlimited"
                                         : std::to_string(*p.core_limit))
          : "unknown",
      "\n", "landlock:      ", Landlock(p), "\n",
      "lsm label:     ", p.lsm_label.empty() ? "none" : p.lsm_label);
}

}  // namespace rustiq::sandbox
