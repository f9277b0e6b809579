#include "tools/policyc/policy_tables.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

// clone3-only flags, not in glibc's <sched.h> (<linux/sched.h> clashes with
// it). Values from the kernel's include/uapi/linux/sched.h.
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace rustiq::policyc {
namespace {

struct Named {
  const char* name;
  std::uint64_t value;
};

// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): the name is the token.
#define RUSTIQ_NAMED(x) \
  Named { #x, static_cast < std::uint64_t>(x) }

// Only non-negative values: a comparison is on the unsigned 64-bit register
// and a negative int (AT_FDCWD) would need sign extension rules of its own.
constexpr Named kConstants[] = {
    // socket(2), socketpair(2), setsockopt(2), send/recv flags
    RUSTIQ_NAMED(AF_UNIX),
    RUSTIQ_NAMED(AF_LOCAL),
    RUSTIQ_NAMED(AF_INET),
    RUSTIQ_NAMED(AF_INET6),
    RUSTIQ_NAMED(AF_NETLINK),
    RUSTIQ_NAMED(AF_PACKET),
    RUSTIQ_NAMED(AF_VSOCK),
    RUSTIQ_NAMED(SOCK_STREAM),
    RUSTIQ_NAMED(SOCK_DGRAM),
    RUSTIQ_NAMED(SOCK_SEQPACKET),
    RUSTIQ_NAMED(SOCK_RAW),
    RUSTIQ_NAMED(SOCK_CLOEXEC),
    RUSTIQ_NAMED(SOCK_NONBLOCK),
    RUSTIQ_NAMED(SOL_SOCKET),
    RUSTIQ_NAMED(SOL_TCP),
    RUSTIQ_NAMED(IPPROTO_IP),
    RUSTIQ_NAMED(IPPROTO_IPV6),
    RUSTIQ_NAMED(IPPROTO_TCP),
    RUSTIQ_NAMED(IPPROTO_UDP),
    RUSTIQ_NAMED(SO_REUSEADDR),
    RUSTIQ_NAMED(SO_REUSEPORT),
    RUSTIQ_NAMED(SO_KEEPALIVE),
    RUSTIQ_NAMED(SO_RCVBUF),
    RUSTIQ_NAMED(SO_SNDBUF),
    RUSTIQ_NAMED(SO_PEERCRED),
    RUSTIQ_NAMED(SO_PASSCRED),
    RUSTIQ_NAMED(SO_ERROR),
    RUSTIQ_NAMED(SO_ZEROCOPY),
    RUSTIQ_NAMED(TCP_NODELAY),
    RUSTIQ_NAMED(TCP_INQ),
    RUSTIQ_NAMED(MSG_NOSIGNAL),
    RUSTIQ_NAMED(MSG_DONTWAIT),
    RUSTIQ_NAMED(MSG_PEEK),
    RUSTIQ_NAMED(MSG_CMSG_CLOEXEC),
    RUSTIQ_NAMED(NETLINK_ROUTE),
    RUSTIQ_NAMED(NETLINK_AUDIT),
    RUSTIQ_NAMED(NETLINK_KOBJECT_UEVENT),
    RUSTIQ_NAMED(SHUT_RD),
    RUSTIQ_NAMED(SHUT_WR),
    RUSTIQ_NAMED(SHUT_RDWR),
    // mmap(2), mprotect(2), madvise(2), mremap(2), memfd_create(2)
    RUSTIQ_NAMED(PROT_NONE),
    RUSTIQ_NAMED(PROT_READ),
    RUSTIQ_NAMED(PROT_WRITE),
    RUSTIQ_NAMED(PROT_EXEC),
    RUSTIQ_NAMED(PROT_GROWSDOWN),
    RUSTIQ_NAMED(PROT_GROWSUP),
    RUSTIQ_NAMED(MAP_SHARED),
    RUSTIQ_NAMED(MAP_SHARED_VALIDATE),
    RUSTIQ_NAMED(MAP_PRIVATE),
    RUSTIQ_NAMED(MAP_FIXED),
    RUSTIQ_NAMED(MAP_FIXED_NOREPLACE),
    RUSTIQ_NAMED(MAP_ANONYMOUS),
    RUSTIQ_NAMED(MAP_ANON),
    RUSTIQ_NAMED(MAP_NORESERVE),
    RUSTIQ_NAMED(MAP_STACK),
    RUSTIQ_NAMED(MAP_POPULATE),
    RUSTIQ_NAMED(MAP_GROWSDOWN),
    RUSTIQ_NAMED(MAP_DENYWRITE),
    RUSTIQ_NAMED(MAP_EXECUTABLE),
    RUSTIQ_NAMED(MAP_LOCKED),
    RUSTIQ_NAMED(MAP_HUGETLB),
    RUSTIQ_NAMED(MAP_32BIT),
    RUSTIQ_NAMED(MADV_NORMAL),
    RUSTIQ_NAMED(MADV_RANDOM),
    RUSTIQ_NAMED(MADV_SEQUENTIAL),
    RUSTIQ_NAMED(MADV_WILLNEED),
    RUSTIQ_NAMED(MADV_DONTNEED),
    RUSTIQ_NAMED(MADV_FREE),
    RUSTIQ_NAMED(MADV_DONTFORK),
    RUSTIQ_NAMED(MADV_DOFORK),
    RUSTIQ_NAMED(MADV_HUGEPAGE),
    RUSTIQ_NAMED(MADV_NOHUGEPAGE),
    RUSTIQ_NAMED(MADV_DONTDUMP),
    RUSTIQ_NAMED(MADV_DODUMP),
    RUSTIQ_NAMED(MADV_WIPEONFORK),
    RUSTIQ_NAMED(MADV_KEEPONFORK),
    RUSTIQ_NAMED(MREMAP_MAYMOVE),
    RUSTIQ_NAMED(MREMAP_FIXED),
    RUSTIQ_NAMED(MFD_CLOEXEC),
    RUSTIQ_NAMED(MFD_ALLOW_SEALING),
    // clone(2), clone3(2), unshare(2), setns(2)
    RUSTIQ_NAMED(CSIGNAL),
    RUSTIQ_NAMED(CLONE_VM),
    RUSTIQ_NAMED(CLONE_FS),
    RUSTIQ_NAMED(CLONE_FILES),
    RUSTIQ_NAMED(CLONE_SIGHAND),
    RUSTIQ_NAMED(CLONE_PIDFD),
    RUSTIQ_NAMED(CLONE_PTRACE),
    RUSTIQ_NAMED(CLONE_VFORK),
    RUSTIQ_NAMED(CLONE_PARENT),
    RUSTIQ_NAMED(CLONE_THREAD),
    RUSTIQ_NAMED(CLONE_SYSVSEM),
    RUSTIQ_NAMED(CLONE_SETTLS),
    RUSTIQ_NAMED(CLONE_PARENT_SETTID),
    RUSTIQ_NAMED(CLONE_CHILD_CLEARTID),
    RUSTIQ_NAMED(CLONE_DETACHED),
    RUSTIQ_NAMED(CLONE_UNTRACED),
    RUSTIQ_NAMED(CLONE_CHILD_SETTID),
    RUSTIQ_NAMED(CLONE_IO),
    RUSTIQ_NAMED(CLONE_CLEAR_SIGHAND),
    RUSTIQ_NAMED(CLONE_INTO_CGROUP),
    RUSTIQ_NAMED(CLONE_NEWNS),
    RUSTIQ_NAMED(CLONE_NEWCGROUP),
    RUSTIQ_NAMED(CLONE_NEWUTS),
    RUSTIQ_NAMED(CLONE_NEWIPC),
    RUSTIQ_NAMED(CLONE_NEWUSER),
    RUSTIQ_NAMED(CLONE_NEWPID),
    RUSTIQ_NAMED(CLONE_NEWNET),
    RUSTIQ_NAMED(CLONE_NEWTIME),
    // ioctl(2) requests
    RUSTIQ_NAMED(FIONBIO),
    RUSTIQ_NAMED(FIOCLEX),
    RUSTIQ_NAMED(FIONCLEX),
    RUSTIQ_NAMED(FIONREAD),
    RUSTIQ_NAMED(FIOASYNC),
    RUSTIQ_NAMED(TCGETS),
    RUSTIQ_NAMED(TIOCGWINSZ),
    // prctl(2) options a daemon uses
    RUSTIQ_NAMED(PR_SET_NAME),
    RUSTIQ_NAMED(PR_GET_NAME),
    RUSTIQ_NAMED(PR_SET_NO_NEW_PRIVS),
    RUSTIQ_NAMED(PR_GET_NO_NEW_PRIVS),
    RUSTIQ_NAMED(PR_SET_DUMPABLE),
    RUSTIQ_NAMED(PR_GET_DUMPABLE),
    RUSTIQ_NAMED(PR_CAPBSET_READ),
    RUSTIQ_NAMED(PR_CAPBSET_DROP),
    RUSTIQ_NAMED(PR_CAP_AMBIENT),
    RUSTIQ_NAMED(PR_SET_KEEPCAPS),
    RUSTIQ_NAMED(PR_GET_KEEPCAPS),
    RUSTIQ_NAMED(PR_SET_SECUREBITS),
    RUSTIQ_NAMED(PR_GET_SECUREBITS),
    RUSTIQ_NAMED(PR_SET_PDEATHSIG),
    RUSTIQ_NAMED(PR_GET_PDEATHSIG),
    RUSTIQ_NAMED(PR_SET_CHILD_SUBREAPER),
    RUSTIQ_NAMED(PR_GET_CHILD_SUBREAPER),
    RUSTIQ_NAMED(PR_SET_SECCOMP),
    RUSTIQ_NAMED(PR_GET_SECCOMP),
    RUSTIQ_NAMED(PR_SET_TIMERSLACK),
    RUSTIQ_NAMED(PR_GET_TIMERSLACK),
    RUSTIQ_NAMED(PR_SET_THP_DISABLE),
    RUSTIQ_NAMED(PR_GET_THP_DISABLE),
    RUSTIQ_NAMED(PR_SET_VMA),
    // signals, rt_sigprocmask(2) "how"
    RUSTIQ_NAMED(SIGHUP),
    RUSTIQ_NAMED(SIGINT),
    RUSTIQ_NAMED(SIGQUIT),
    RUSTIQ_NAMED(SIGILL),
    RUSTIQ_NAMED(SIGTRAP),
    RUSTIQ_NAMED(SIGABRT),
    RUSTIQ_NAMED(SIGBUS),
    RUSTIQ_NAMED(SIGFPE),
    RUSTIQ_NAMED(SIGKILL),
    RUSTIQ_NAMED(SIGUSR1),
    RUSTIQ_NAMED(SIGSEGV),
    RUSTIQ_NAMED(SIGUSR2),
    RUSTIQ_NAMED(SIGPIPE),
    RUSTIQ_NAMED(SIGALRM),
    RUSTIQ_NAMED(SIGTERM),
    RUSTIQ_NAMED(SIGCHLD),
    RUSTIQ_NAMED(SIGCONT),
    RUSTIQ_NAMED(SIGSTOP),
    RUSTIQ_NAMED(SIGTSTP),
    RUSTIQ_NAMED(SIGTTIN),
    RUSTIQ_NAMED(SIGTTOU),
    RUSTIQ_NAMED(SIGURG),
    RUSTIQ_NAMED(SIGXCPU),
    RUSTIQ_NAMED(SIGXFSZ),
    RUSTIQ_NAMED(SIGVTALRM),
    RUSTIQ_NAMED(SIGPROF),
    RUSTIQ_NAMED(SIGWINCH),
    RUSTIQ_NAMED(SIGIO),
    RUSTIQ_NAMED(SIGPWR),
    RUSTIQ_NAMED(SIGSYS),
    RUSTIQ_NAMED(SIG_BLOCK),
    RUSTIQ_NAMED(SIG_UNBLOCK),
    RUSTIQ_NAMED(SIG_SETMASK),
    // open(2) flags, fcntl(2) commands, lseek(2), *at(2) flags
    RUSTIQ_NAMED(O_RDONLY),
    RUSTIQ_NAMED(O_WRONLY),
    RUSTIQ_NAMED(O_RDWR),
    RUSTIQ_NAMED(O_ACCMODE),
    RUSTIQ_NAMED(O_CREAT),
    RUSTIQ_NAMED(O_EXCL),
    RUSTIQ_NAMED(O_NOCTTY),
    RUSTIQ_NAMED(O_TRUNC),
    RUSTIQ_NAMED(O_APPEND),
    RUSTIQ_NAMED(O_NONBLOCK),
    RUSTIQ_NAMED(O_DSYNC),
    RUSTIQ_NAMED(O_SYNC),
    RUSTIQ_NAMED(O_DIRECT),
    RUSTIQ_NAMED(O_DIRECTORY),
    RUSTIQ_NAMED(O_NOFOLLOW),
    RUSTIQ_NAMED(O_NOATIME),
    RUSTIQ_NAMED(O_CLOEXEC),
    RUSTIQ_NAMED(O_PATH),
    RUSTIQ_NAMED(O_TMPFILE),
    RUSTIQ_NAMED(F_DUPFD),
    RUSTIQ_NAMED(F_DUPFD_CLOEXEC),
    RUSTIQ_NAMED(F_GETFD),
    RUSTIQ_NAMED(F_SETFD),
    RUSTIQ_NAMED(F_GETFL),
    RUSTIQ_NAMED(F_SETFL),
    RUSTIQ_NAMED(F_GETLK),
    RUSTIQ_NAMED(F_SETLK),
    RUSTIQ_NAMED(F_SETLKW),
    RUSTIQ_NAMED(F_OFD_GETLK),
    RUSTIQ_NAMED(F_OFD_SETLK),
    RUSTIQ_NAMED(F_OFD_SETLKW),
    RUSTIQ_NAMED(F_ADD_SEALS),
    RUSTIQ_NAMED(F_GET_SEALS),
    RUSTIQ_NAMED(FD_CLOEXEC),
    RUSTIQ_NAMED(SEEK_SET),
    RUSTIQ_NAMED(SEEK_CUR),
    RUSTIQ_NAMED(SEEK_END),
    RUSTIQ_NAMED(AT_EMPTY_PATH),
    RUSTIQ_NAMED(AT_SYMLINK_NOFOLLOW),
    RUSTIQ_NAMED(AT_REMOVEDIR),
    // futex(2) operations and flags
    RUSTIQ_NAMED(FUTEX_WAIT),
    RUSTIQ_NAMED(FUTEX_WAKE),
    RUSTIQ_NAMED(FUTEX_FD),
    RUSTIQ_NAMED(FUTEX_REQUEUE),
    RUSTIQ_NAMED(FUTEX_CMP_REQUEUE),
    RUSTIQ_NAMED(FUTEX_WAKE_OP),
    RUSTIQ_NAMED(FUTEX_LOCK_PI),
    RUSTIQ_NAMED(FUTEX_UNLOCK_PI),
    RUSTIQ_NAMED(FUTEX_TRYLOCK_PI),
    RUSTIQ_NAMED(FUTEX_WAIT_BITSET),
    RUSTIQ_NAMED(FUTEX_WAKE_BITSET),
    RUSTIQ_NAMED(FUTEX_WAIT_REQUEUE_PI),
    RUSTIQ_NAMED(FUTEX_CMP_REQUEUE_PI),
    RUSTIQ_NAMED(FUTEX_LOCK_PI2),
    RUSTIQ_NAMED(FUTEX_PRIVATE_FLAG),
    RUSTIQ_NAMED(FUTEX_CLOCK_REALTIME),
    RUSTIQ_NAMED(FUTEX_WAIT_PRIVATE),
    RUSTIQ_NAMED(FUTEX_WAKE_PRIVATE),
    RUSTIQ_NAMED(FUTEX_WAIT_BITSET_PRIVATE),
    RUSTIQ_NAMED(FUTEX_WAKE_BITSET_PRIVATE),
    // eventfd2(2), epoll_create1(2), getrandom(2), clocks
    RUSTIQ_NAMED(EFD_CLOEXEC),
    RUSTIQ_NAMED(EFD_NONBLOCK),
    RUSTIQ_NAMED(EFD_SEMAPHORE),
    RUSTIQ_NAMED(EPOLL_CLOEXEC),
    RUSTIQ_NAMED(GRND_NONBLOCK),
    RUSTIQ_NAMED(GRND_RANDOM),
    RUSTIQ_NAMED(CLOCK_REALTIME),
    RUSTIQ_NAMED(CLOCK_MONOTONIC),
    RUSTIQ_NAMED(CLOCK_BOOTTIME),
};

constexpr Named kErrnos[] = {
    RUSTIQ_NAMED(EPERM),
    RUSTIQ_NAMED(ENOENT),
    RUSTIQ_NAMED(ESRCH),
    RUSTIQ_NAMED(EINTR),
    RUSTIQ_NAMED(EIO),
    RUSTIQ_NAMED(EBADF),
    RUSTIQ_NAMED(EAGAIN),
    RUSTIQ_NAMED(ENOMEM),
    RUSTIQ_NAMED(EACCES),
    RUSTIQ_NAMED(EFAULT),
    RUSTIQ_NAMED(EBUSY),
    RUSTIQ_NAMED(EEXIST),
    RUSTIQ_NAMED(ENODEV),
    RUSTIQ_NAMED(ENOTDIR),
    RUSTIQ_NAMED(EISDIR),
    RUSTIQ_NAMED(EINVAL),
    RUSTIQ_NAMED(ENFILE),
    RUSTIQ_NAMED(EMFILE),
    RUSTIQ_NAMED(ENOTTY),
    RUSTIQ_NAMED(ENOSPC),
    RUSTIQ_NAMED(EROFS),
    RUSTIQ_NAMED(EPIPE),
    RUSTIQ_NAMED(ENOSYS),
    RUSTIQ_NAMED(ENOTSUP),
    RUSTIQ_NAMED(EOPNOTSUPP),
    RUSTIQ_NAMED(EAFNOSUPPORT),
    RUSTIQ_NAMED(EPROTONOSUPPORT),
    RUSTIQ_NAMED(ENOPROTOOPT),
    RUSTIQ_NAMED(EADDRNOTAVAIL),
    RUSTIQ_NAMED(ENETUNREACH),
    RUSTIQ_NAMED(ECONNREFUSED),
};

#undef RUSTIQ_NAMED

// Keep in step with README.md ("Risky syscalls").
constexpr const char* kRiskySyscalls[] = {
    // code injection, W+X
    "mmap",
    "mprotect",
    "pkey_mprotect",
    "memfd_create",
    "remap_file_pages",
    // other processes, ptrace-like access
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    "kill",
    "tgkill",
    "tkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    // new programs, processes, namespaces
    "execve",
    "execveat",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "unshare",
    "setns",
    // file system views and handles
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_by_handle_at",
    "name_to_handle_at",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fspick",
    "mount_setattr",
    "fanotify_init",
    // credentials and capabilities
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "setgroups",
    "capset",
    // the kernel's larger attack surfaces
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "personality",
    "seccomp",
    "modify_ldt",
    "iopl",
    "ioperm",
    // devices, sockets and catch-all interfaces
    "ioctl",
    "prctl",
    "socket",
    "socketpair",
    // the machine itself
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "vhangup",
};

}  // namespace

std::optional<std::uint64_t> LookupConstant(absl::string_view name) {
  static const auto* table = [] {
    auto* map = new absl::flat_hash_map<absl::string_view, std::uint64_t>();
    for (const Named& c : kConstants) map->emplace(c.name, c.value);
    return map;
  }();
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

std::optional<int> LookupErrno(absl::string_view name) {
  for (const Named& e : kErrnos) {
    if (name == e.name) return static_cast<int>(e.value);
  }
  return std::nullopt;
}

bool IsRiskySyscall(absl::string_view name) {
  static const auto* set = [] {
    auto* s = new absl::flat_hash_set<absl::string_view>();
    for (const char* n : kRiskySyscalls) s->insert(n);
    return s;
  }();
  return set->contains(name);
}

}  // namespace rustiq::policyc
