// rustiq-violator: confines itself exactly as rustiq-testserver does (its
// compiled seccomp policy, capabilities and Landlock paths, under a given
// device root), then performs ONE action named on the command line. The
// confinement tests run it once per action and assert the exact outcome:
// death by SIGSYS with a violation record naming the syscall, an errno, or
// success for the allowed counterparts.
//
//   rustiq-violator --root DIR [--user UID --group GID] [--complain]
//                   [--thread-first] ACTION
//
// --thread-first starts a thread before confining, as a daemon must not.
//
// Exit codes: 0 the action succeeded; 10 + errno-class (see Report) when it
// failed with an errno, printed as "errno=<name>"; 2 usage; 3 setup failed.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/sandbox/confine.h"
#include "common/sandbox/violation_record.h"
#include "policies/testserver/policy_files.h"
#include "policies/testserver/seccomp_policy.h"

namespace {

using rustiq::sandbox::policies::testserver::kCapabilities;
using rustiq::sandbox::policies::testserver::kLandlockPaths;

// Prints the outcome of a call that returned: success or its errno.
int Report(long rc) {
  if (rc >= 0) {
    std::printf("ok\n");
    return 0;
  }
  std::printf("errno=%s\n", strerrorname_np(errno));
  return 10;
}

int Run(const std::string& root, const std::string& action) {
  std::string state = root + "/state";
  std::map<std::string, std::function<long()>> actions = {
      // Forbidden by seccomp: each must end in SIGSYS.
      {"ptrace", [] { return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); }},
      {"execve",
       [] {
         char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
         return static_cast<long>(execve("/bin/true", argv, environ));
       }},
      {"mount",
       [] {
         return static_cast<long>(mount("none", "/tmp", "tmpfs", 0, nullptr));
       }},
      {"unshare", [] { return static_cast<long>(unshare(CLONE_NEWUSER)); }},
      {"bpf",
       [] {
         union bpf_attr attr = {};
         return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
       }},
      {"setuid", [] { return static_cast<long>(syscall(SYS_setuid, 0)); }},
      {"mprotect-exec",
       [] {
         void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return static_cast<long>(mprotect(p, 4096, PROT_READ | PROT_EXEC));
       }},
      {"mmap-wx",
       [] {
         void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return p == MAP_FAILED ? -1L : 0L;
       }},
      {"kill-init", [] { return static_cast<long>(kill(1, SIGTERM)); }},
      // Refused with an errno by the policy (a harmless probe gRPC makes).
      {"socket-inet",
       [] { return static_cast<long>(socket(AF_INET, SOCK_STREAM, 0)); }},
      // Refused by Landlock: EACCES.
      {"open-outside",
       [] { return static_cast<long>(open("/etc/hostname", O_RDONLY)); }},
      {"write-readonly",
       [root] {
         return static_cast<long>(
             open((root + "/etc/rustiq.toml").c_str(), O_WRONLY | O_APPEND));
       }},
      // Allowed counterparts.
      {"socket-unix",
       [] { return static_cast<long>(socket(AF_UNIX, SOCK_STREAM, 0)); }},
      {"mprotect-read",
       [] {
         void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return static_cast<long>(mprotect(p, 4096, PROT_READ));
       }},
      {"read-config",
       [root] {
         return static_cast<long>(
             open((root + "/etc/rustiq.toml").c_str(), O_RDONLY));
       }},
      {"write-state",
       [state] {
         return static_cast<long>(open((state + "/testserver/scratch").c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600));
       }},
      // Stays alive, confined, so a test can read its posture from /proc.
      {"pause",
       [] {
         std::printf("ready\n");
         std::fflush(stdout);
         // Waits for SIGTERM the way the test server's stop thread does
         // (rt_sigtimedwait is in its policy; pause(2) is not).
         sigset_t term;
         sigemptyset(&term);
         sigaddset(&term, SIGTERM);
         sigprocmask(SIG_BLOCK, &term, nullptr);
         int sig = 0;
         return static_cast<long>(sigwait(&term, &sig));
       }},
  };
  auto it = actions.find(action);
  if (it == actions.end()) {
    std::fprintf(stderr, "rustiq-violator: unknown action %s\n",
                 action.c_str());
    return 2;
  }
  return Report(it->second());
}

}  // namespace

int main(int argc, char** argv) {
  std::string root, action, user, group;
  bool complain = false;
  bool thread_first = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--root" && i + 1 < argc)
      root = argv[++i];
    else if (arg == "--user" && i + 1 < argc)
      user = argv[++i];
    else if (arg == "--group" && i + 1 < argc)
      group = argv[++i];
    else if (arg == "--complain")
      complain = true;
    else if (arg == "--thread-first")
      thread_first = true;
    else
      action = arg;
  }
  if (root.empty() || action.empty()) {
    std::fprintf(stderr,
                 "usage: rustiq-violator --root DIR [--user U --group G] "
                 "[--complain] [--thread-first] ACTION\n");
    return 2;
  }
  absl::StatusOr<rustiq::sandbox::ConfinementSpec> spec =
      rustiq::sandbox::SpecFromPolicy(
          "testserver", kCapabilities, kLandlockPaths,
          {root + "/etc", root + "/state", root + "/run", "testserver"},
          rustiq::sandbox::policies::TestserverSeccompPolicy());
  if (!spec.ok()) return 3;
  spec->complain = complain;
  // As every daemon's frame does: violations also go to this file.
  spec->violation_record_path =
      rustiq::sandbox::ViolationRecordPath(root + "/state", "testserver");
  if (!user.empty()) {
    auto ids = rustiq::sandbox::ResolveUserAndGroup(user, group);
    if (!ids.ok()) return 3;
    spec->run_as = *ids;
  }
  if (thread_first) {
    // A daemon that started a thread before confining itself: that thread
    // would stay unconfined, so confinement must refuse.
    std::thread([] { pause(); }).detach();
  }
  rustiq::sandbox::ConfineOrDie(*spec);
  return Run(root, action);
}
