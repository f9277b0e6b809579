#include "common/sandbox/confine.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging/log.h"
#include "common/sandbox/hardening.h"
#include "common/sandbox/posture.h"
#include "common/sandbox/violation_record.h"

namespace rustiq::sandbox {
namespace {

// Capabilities, no_new_privs and Landlock bind only the calling thread (and
// the threads it starts afterwards): a thread already running would go on
// unconfined, so confinement refuses to start beside one.
absl::Status CheckNoOtherThread() {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot count this process's threads (/proc/self/task: ",
                     std::strerror(errno), "); is /proc mounted?"));
  }
  int threads = 0;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] != '.') ++threads;
  }
  closedir(tasks);
  if (threads != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        threads - 1,
        " other thread(s) already running: confinement must come before "
        "the process starts any thread (capabilities, no_new_privs and "
        "Landlock bind only the calling thread)"));
  }
  return absl::OkStatus();
}

absl::Status Step(absl::string_view step, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(step, ": ", s.message()));
}

}  // namespace

absl::StatusOr<ConfinementSpec> SpecFromPolicy(
    absl::string_view daemon, absl::string_view capabilities_text,
    absl::string_view landlock_text, const PathRoots& roots,
    const SeccompPolicy& seccomp) {
  const std::string dir = absl::StrCat("policies/", daemon, "/");
  absl::StatusOr<std::vector<std::string>> caps =
      ParseCapabilitiesFile(capabilities_text, dir + "capabilities");
  if (!caps.ok()) return caps.status();
  absl::StatusOr<LandlockRules> landlock =
      ParseLandlockFile(landlock_text, dir + "landlock.paths", roots);
  if (!landlock.ok()) return landlock.status();
  ConfinementSpec spec;
  spec.daemon = std::string(daemon);
  spec.capabilities = *std::move(caps);
  spec.landlock = *std::move(landlock);
  spec.seccomp = &seccomp;
  return spec;
}

absl::StatusOr<ConfinementReport> Confine(const ConfinementSpec& spec) {
  ConfinementReport report;
  if (spec.seccomp == nullptr) {
    return absl::InvalidArgumentError("no seccomp policy compiled in");
  }
  if (absl::Status s = CheckNoOtherThread(); !s.ok()) {
    return Step("threads", s);
  }
  absl::StatusOr<std::vector<int>> caps = ParseCapabilities(spec.capabilities);
  if (!caps.ok()) return Step("capabilities", caps.status());
  // The violation record is opened while the process may still create it
  // (before the user switch and Landlock); the handler writes through the
  // descriptor. Without it, violations still reach stderr.
  int record_fd = -1;
  if (!spec.violation_record_path.empty() && !spec.complain) {
    absl::StatusOr<int> fd = OpenViolationRecord(spec.violation_record_path);
    if (fd.ok()) {
      record_fd = *fd;
    } else {
      log::Warning("sandbox violations are reported on stderr only",
                   {{"error", fd.status().message()}});
    }
  }

  std::optional<UserAndGroup> target =
      geteuid() == 0 ? spec.run_as : std::nullopt;
  if (absl::Status s = DropPrivileges(target, *caps); !s.ok()) {
    return Step("dropping privileges", s);
  }
  if (absl::Status s = HardenProcess(); !s.ok()) {
    return Step("process hardening", s);
  }
  absl::StatusOr<LandlockResult> landlock = ApplyLandlock(spec.landlock);
  if (!landlock.ok()) return Step("landlock", landlock.status());
  if (!landlock->applied && spec.require_landlock) {
    return absl::FailedPreconditionError(
        "landlock: the kernel has no Landlock support and this daemon "
        "requires it");
  }
  report.landlock = *landlock;
  NoteSelfLandlock(landlock->abi, landlock->applied);

  report.complain = spec.complain;
  NoteSelfSeccompComplain(spec.complain);
  if (!spec.complain) {
    InstallViolationReporter(*spec.seccomp, spec.daemon, record_fd);
  }
  if (absl::Status s = LoadSeccompFilter(
          *spec.seccomp,
          spec.complain ? SeccompMode::kComplain : SeccompMode::kEnforce);
      !s.ok()) {
    return Step("seccomp", s);
  }
  report.seccomp_loaded = true;
  return report;
}

ConfinementReport ConfineOrDie(const ConfinementSpec& spec) {
  if (spec.complain) {
    log::Error(
        "SECCOMP COMPLAIN MODE: forbidden system calls are logged by the "
        "kernel (dmesg, type=1326) instead of killing this daemon. For "
        "writing policies only; never in production.",
        {{"daemon", spec.daemon}});
  }
  absl::StatusOr<ConfinementReport> report = Confine(spec);
  if (!report.ok()) {
    log::Error("cannot confine; refusing to run half-confined",
               {{"error", report.status().message()}});
    std::_Exit(1);
  }
  if (!report->landlock.applied) {
    log::Warning(
        "Landlock is not available on this kernel; the file system "
        "is not restricted",
        {{"abi", report->landlock.abi}});
  }
  log::Info(
      "confined",
      {{"landlock_abi", report->landlock.abi},
       {"landlock", report->landlock.applied ? "applied" : "unavailable"},
       {"tcp_denied", report->landlock.tcp_denied ? "yes" : "no"},
       {"signals_scoped", report->landlock.signals_scoped ? "yes" : "no"},
       {"skipped_paths", absl::StrJoin(report->landlock.skipped_paths, ",")},
       {"seccomp", report->complain ? "complain" : "enforce"}});
  return *report;
}

}  // namespace rustiq::sandbox
