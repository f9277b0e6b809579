#include "services/supervisord/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::supervisord {
namespace {

// The steps of the child between fork and exec, as reported through the
// error pipe.
enum Step : int {
  kStepMoveDescriptors = 1,
  kStepSetsid,
  kStepOpenDevNull,
  kStepDup2,
  kStepCloseDescriptors,
  kStepSignalMask,
  kStepBoundingSet,
  kStepSetgroups,
  kStepSetgid,
  kStepSetuid,
  kStepPdeathsig,
  kStepParentGone,
  kStepExecve,
};

// What the child writes to the error pipe when a step fails: small and
// fixed, so that one write() is atomic.
struct ChildError {
  int step = 0;
  int error = 0;
};

const char* StepName(int step) {
  switch (step) {
    case kStepMoveDescriptors:
      return "fcntl(F_DUPFD_CLOEXEC)";
    case kStepSetsid:
      return "setsid";
    case kStepOpenDevNull:
      return "open /dev/null";
    case kStepDup2:
      return "dup2";
    case kStepCloseDescriptors:
      return "close_range";
    case kStepSignalMask:
      return "sigprocmask";
    case kStepBoundingSet:
      return "prctl(PR_CAPBSET_DROP)";
    case kStepSetgroups:
      return "setgroups";
    case kStepSetgid:
      return "setgid";
    case kStepSetuid:
      return "setuid";
    case kStepPdeathsig:
      return "prctl(PR_SET_PDEATHSIG)";
    case kStepParentGone:
      return "getppid (supervisord exited)";
    case kStepExecve:
      return "execve";
  }
  return "unknown step";
}

// Everything the child needs, prepared before fork so that the child only
// makes async-signal-safe calls.
struct Prepared {
  std::vector<char*> argv;
  std::vector<char*> envp;
  sigset_t empty_mask;
  unsigned int max_fd = 0;  // for the close loop when close_range is missing
};

[[noreturn]] void ChildFail(int error_fd, int step) {
  ChildError report;
  report.step = step;
  report.error = errno;
  ssize_t ignored = write(error_fd, &report, sizeof(report));
  (void)ignored;
  _exit(127);
}

// Moves `*fd` above the standard descriptors (close-on-exec), so that the
// dup2() calls onto 0, 1 and 2 cannot clobber it.
bool MoveAboveStandard(int* fd) {
  if (*fd > 2) return true;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  *fd = moved;
  return true;
}

void CloseRange(unsigned int first, unsigned int last, unsigned int max_fd) {
  if (first > last) return;
  if (close_range(first, last, 0) == 0) return;
  // ENOSYS (a kernel before 5.9): close one by one.
  for (unsigned int fd = first; fd <= last && fd < max_fd; ++fd) close(fd);
}

// Runs in the child after fork; never returns.
[[noreturn]] void RunChild(const LaunchSpec& spec, const Prepared& prepared,
                           pid_t parent, int output_fd, int error_fd) {
  // Until the error pipe is moved, a failure is reported on it where it is.
  if (!MoveAboveStandard(&error_fd)) ChildFail(error_fd, kStepMoveDescriptors);
  if (!MoveAboveStandard(&output_fd)) {
    ChildFail(error_fd, kStepMoveDescriptors);
  }
  // A session of its own (so also its own process group): no controlling
  // terminal, whose input a daemon of another user could otherwise inject
  // into the shell that started supervisord (TIOCSTI).
  if (setsid() < 0) ChildFail(error_fd, kStepSetsid);

  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) ChildFail(error_fd, kStepOpenDevNull);
  if (dup2(null_fd, 0) < 0 || dup2(output_fd, 1) < 0 ||
      dup2(output_fd, 2) < 0) {
    ChildFail(error_fd, kStepDup2);
  }
  // Everything but 0, 1, 2 and the error pipe (close-on-exec) goes.
  unsigned int keep = static_cast<unsigned int>(error_fd);
  CloseRange(3, keep - 1, prepared.max_fd);
  CloseRange(keep + 1, ~0U, prepared.max_fd);

  // Dispositions first, then the mask, so that a signal pending from the
  // parent's mask cannot run one of supervisord's handlers here.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // Fails (EINVAL) for the signals glibc keeps for itself; that is fine.
    sigaction(sig, &default_action, nullptr);
  }
  if (sigprocmask(SIG_SETMASK, &prepared.empty_mask, nullptr) != 0) {
    ChildFail(error_fd, kStepSignalMask);
  }

  if (spec.clear_bounding_set) {
    // A daemon starting as another user could not clear it itself (that
    // needs CAP_SETPCAP): it must not inherit supervisord's.
    for (int cap = 0; cap <= 63; ++cap) {
      if (prctl(PR_CAPBSET_READ, cap) != 1) continue;
      if (prctl(PR_CAPBSET_DROP, cap) != 0) {
        ChildFail(error_fd, kStepBoundingSet);
      }
    }
  }
  // The binary is opened while supervisord's credentials still reach it: a
  // daemon's user need not be able to traverse the path to its binary (a
  // build under /root, mode 0700), only to execute the file itself.
  // Close-on-exec, so it does not outlive the exec (a script could not be
  // started this way; daemons are ELF binaries).
  const int exe_fd = open(spec.binary.c_str(), O_PATH | O_CLOEXEC);
  if (exe_fd < 0) ChildFail(error_fd, kStepExecve);
  if (spec.gid.has_value() || spec.uid.has_value()) {
    // A user switch without a group switch must not keep supervisord's
    // supplementary groups either.
    if (setgroups(0, nullptr) != 0) ChildFail(error_fd, kStepSetgroups);
  }
  if (spec.gid.has_value() && setgid(*spec.gid) != 0) {
    ChildFail(error_fd, kStepSetgid);
  }
  if (spec.uid.has_value() && setuid(*spec.uid) != 0) {
    ChildFail(error_fd, kStepSetuid);
  }

  // After the credential change, which clears it. Note that the signal is
  // sent when the *thread* that forked exits, not only the process.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    ChildFail(error_fd, kStepPdeathsig);
  }
  // supervisord died before the signal was armed: nobody will reap or
  // relay for this child, so it does not start.
  if (getppid() != parent) _exit(1);

  fexecve(exe_fd, prepared.argv.data(), prepared.envp.data());
  ChildFail(error_fd, kStepExecve);
}

absl::Status ValidateSpec(const LaunchSpec& spec) {
  if (spec.binary.empty() || spec.binary[0] != '/') {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start \"", spec.binary, "\": not an absolute path"));
  }
  if (spec.binary.find('\0') != std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start \"", spec.binary, "\": NUL in the path"));
  }
  struct stat st {};
  if (stat(spec.binary.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", spec.binary, ": ", strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", spec.binary, ": not a regular file"));
  }
  if ((st.st_mode & 0111) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", spec.binary, ": not executable"));
  }
  for (const std::string& arg : spec.args) {
    if (arg.find('\0') != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot start ", spec.binary, ": an argument contains NUL"));
    }
  }
  for (const std::string& entry : spec.env) {
    if (entry.find('=') == std::string::npos ||
        entry.find('\0') != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot start ", spec.binary,
          ": environment entry is not NAME=value: \"", entry, "\""));
    }
  }
  return absl::OkStatus();
}

Prepared Prepare(const LaunchSpec& spec) {
  Prepared prepared;
  prepared.argv.push_back(const_cast<char*>(spec.binary.c_str()));
  for (const std::string& arg : spec.args) {
    prepared.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  prepared.argv.push_back(nullptr);
  for (const std::string& entry : spec.env) {
    prepared.envp.push_back(const_cast<char*>(entry.c_str()));
  }
  prepared.envp.push_back(nullptr);
  sigemptyset(&prepared.empty_mask);
  struct rlimit limit {};
  prepared.max_fd = 1024 * 1024;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < prepared.max_fd) {
    prepared.max_fd = static_cast<unsigned int>(limit.rlim_cur);
  }
  return prepared;
}

// The message for a step that failed in the child.
std::string DescribeChildError(const LaunchSpec& spec, int step) {
  switch (step) {
    case kStepSetgroups:
      if (spec.gid.has_value()) {
        return absl::StrCat("cannot switch to gid ", *spec.gid, ": setgroups");
      }
      return absl::StrCat("cannot switch to uid ", spec.uid.value_or(0),
                          ": setgroups");
    case kStepSetgid:
      return absl::StrCat("cannot switch to gid ", spec.gid.value_or(0),
                          ": setgid");
    case kStepSetuid:
      return absl::StrCat("cannot switch to uid ", spec.uid.value_or(0),
                          ": setuid");
    default:
      return absl::StrCat("cannot start ", spec.binary, ": ", StepName(step));
  }
}

void CloseIfOpen(int fd) {
  if (fd >= 0) close(fd);
}

}  // namespace

absl::StatusOr<Child> Spawn(const LaunchSpec& spec) {
  if (absl::Status valid = ValidateSpec(spec); !valid.ok()) return valid;
  const Prepared prepared = Prepare(spec);

  int output_pipe[2];
  if (pipe2(output_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot start ", spec.binary, ": pipe2"));
  }
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    int saved = errno;
    close(output_pipe[0]);
    close(output_pipe[1]);
    return absl::ErrnoToStatus(
        saved, absl::StrCat("cannot start ", spec.binary, ": pipe2"));
  }

  // Every signal blocked across fork, so that none runs a supervisord
  // handler in the child before it has reset them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    close(output_pipe[0]);
    close(error_pipe[0]);
    RunChild(spec, prepared, parent, output_pipe[1], error_pipe[1]);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(output_pipe[1]);
  close(error_pipe[1]);
  if (pid < 0) {
    close(output_pipe[0]);
    close(error_pipe[0]);
    return absl::ErrnoToStatus(
        fork_errno, absl::StrCat("cannot start ", spec.binary, ": fork"));
  }

  // End of file: execve succeeded (the pipe is close-on-exec), or the child
  // died before it could say anything (the caller reaps it and sees why).
  ChildError report;
  ssize_t n;
  do {
    n = read(error_pipe[0], &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (n <= 0) return Child{.pid = pid, .output_fd = output_pipe[0]};

  CloseIfOpen(output_pipe[0]);
  // The child _exit()s right after the report. ECHILD: someone else reaped
  // it (a waitpid(-1) loop); nothing is left to do then.
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(report))) {
    return absl::InternalError(absl::StrCat("cannot start ", spec.binary,
                                            ": short report from the child"));
  }
  return absl::ErrnoToStatus(report.error,
                             DescribeChildError(spec, report.step));
}

absl::Status BecomeSubreaper() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return absl::ErrnoToStatus(errno,
                               "cannot become a subreaper: "
                               "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  return absl::OkStatus();
}

}  // namespace rustiq::supervisord
