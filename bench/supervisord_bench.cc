// supervisord_bench: what rustiq-supervisord costs the stack: how long the
// stack takes to serve when supervisord starts it, how much memory the idle
// stack holds, and how long a daemon killed with SIGKILL takes to serve
// again.
//
// One run measures, interleaved in rounds (the order of the phases rotates
// each round):
//   1. cold start: from the fork and exec of rustiq-supervisord (the
//      device's [supervisord.daemons]: keyd, then eventd, then authd, each
//      started once those it needs serve, each as its own user when this
//      runs as root and the stack's users exist) to every daemon answering
//      SERVING to a grpc.health.v1 Check made by this process directly on
//      the daemon's socket (a fresh channel per try, a try every ~2 ms with
//      a short deadline); supervisord is then stopped with SIGTERM and waited
//      for, with its daemons. The baseline: the same three binaries started
//      by this process itself, as the same users, in the same order, each
//      once the previous one serves (what a naive script does), the same
//      measurement; and each one's own start (its exec to its SERVING);
//   2. idle memory: after the supervised cold start the stack idles for
//      --seconds, then RSS and PSS (and PSS split into anonymous and
//      file-backed pages) from /proc/<pid>/smaps_rollup of supervisord and
//      each daemon, summed. The baseline: an idle
//      rustiq-testserver (the RPC layer's minimal daemon), started on its own
//      in a phase of its own, idle as long;
//   3. SIGKILL to serving: in the first --kills rounds, each daemon in turn
//      (the order rotates) is sent SIGKILL and timed until supervisord has
//      started a new process for it and that one answers SERVING. Every
//      kill is the daemon's first exit under a fresh supervisord, so its
//      back-off is the shipped first delay (restart_delay_ms, plus up to 25%
//      jitter), which the figure includes. The baseline: that daemon's own
//      cold start in the direct starts.
// Targets: every daemon SERVING within 0.5 s of supervisord's exec; the idle
// stack's summed PSS below 15 MB (10^6 bytes).
//
//   supervisord_bench [--quick] [--keep] [--rounds 10] [--kills 5]
//                     [--seconds 2] [--max-other-load 0.1]
//                     [--supervisord PATH] [--testserver PATH]
//
// Everything runs on a throw-away device under a temporary directory
// (chmod 0755 so that the daemons' users reach their files), provisioned
// through keyd, its [supervisord.daemons] those of this build
// (config::StackDaemonsConfig(<build>/bin, ...)) with the shipped
// [supervisord] settings. An unrecorded supervised start comes first: it
// hands the daemons' state directories to their users, which the direct
// starts need too, and warms the page cache for both sides. A cold start
// during which other processes used more than --max-other-load cores is
// repeated (up to 5 times); kills are not (a second exit would double the
// back-off). A daemon or supervisord that exits before serving, does not
// stop cleanly (exit status 0) or logs a denial fails the run. The tables go
// to stdout, per-measurement figures to stderr. Exit status: 0 when the run
// completed, 1 on any error, 2 on bad flags.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <grpcpp/grpcpp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_flags.h"
#include "bench/bench_support.h"
#include "common/config/config.h"
#include "common/config/daemons.h"
#include "common/rpc/client.h"
#include "common/rpc/unix_socket.h"
#include "common/sandbox/privileges.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/supervisord/proc_memory.h"

#ifndef RUSTIQ_BINARY_DIR
#define RUSTIQ_BINARY_DIR "."
#endif

namespace rustiq::bench {
namespace {

using HealthApi = grpc::health::v1::Health;

constexpr char kTool[] = "supervisord_bench";
constexpr char kDeviceId[] = "bench-device";
// The identity this process checks health as (svc/supervisord).
constexpr char kHealthCaller[] = "supervisord";
constexpr char kBaseName[] = "testserver";  // svc/testserver, testserver.sock

// The stack's daemons, in start order.
constexpr size_t kNumDaemons = 3;
constexpr std::array<const char*, kNumDaemons> kNames = {"keyd", "eventd",
                                                         "authd"};

// A try every ~2 ms, each with a deadline of its own.
constexpr auto kPollInterval = std::chrono::milliseconds(2);
constexpr auto kProbeDeadline = std::chrono::milliseconds(100);
// How long a start, a restart or a stop may take before the run fails.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(30);
// Between two kills, once every daemon serves: the restarted daemon's
// supervisor state settles (its own health probe sees it serve).
constexpr absl::Duration kSettle = absl::Milliseconds(300);

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double Mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

// ---------------------------------------------------------------------------
// Processes: CPU, state, children, exits.

// The CPU seconds process `pid` has used (all threads); 0 when it is gone.
double ProcessCpuSeconds(pid_t pid) {
  absl::StatusOr<clockid_t> clock = ProcessCpuClock(pid);
  return clock.ok() ? CpuSeconds(*clock) : 0;
}

// Whether `pid` has ended: gone, or a zombie not yet reaped.
bool Ended(pid_t pid) {
  const std::string stat = ReadWholeFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  const char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}

// The children of `pid` (of all its threads).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  const std::string task = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(task.c_str());
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string children =
        ReadWholeFile(absl::StrCat(task, "/", e->d_name, "/children"));
    for (absl::string_view t :
         absl::StrSplit(children, ' ', absl::SkipWhitespace())) {
      pid_t child = 0;
      if (absl::SimpleAtoi(t, &child)) out.push_back(child);
    }
  }
  closedir(dir);
  return out;
}

// The child of `parent` that has exec'd <...>/rustiq-<name> (a zombie's
// command line is empty, a child not yet exec'd is still its parent's).
std::optional<pid_t> DaemonChild(pid_t parent, absl::string_view name) {
  const std::string suffix = absl::StrCat("/rustiq-", name);
  for (pid_t child : ChildrenOf(parent)) {
    std::string cmdline =
        ReadWholeFile(absl::StrCat("/proc/", child, "/cmdline"));
    cmdline = cmdline.substr(0, cmdline.find('\0'));
    if (absl::EndsWith(cmdline, suffix)) return child;
  }
  return std::nullopt;
}

// Waits up to `timeout` for child `pid` to exit; its wait status, or
// DeadlineExceeded (it is then killed and reaped).
absl::StatusOr<int> WaitExit(pid_t pid, absl::Duration timeout,
                             absl::string_view who) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  pid_t r = 0;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (r == pid) return status;
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return absl::DeadlineExceededError(absl::StrCat(
      who, " did not stop within ", absl::FormatDuration(timeout), "; killed"));
}

// Fails unless `status` is a clean exit; names `who` and shows `log`.
absl::Status CleanExit(int status, absl::string_view who,
                       const std::string& log) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(who, " ended with wait status ",
                                          status, "; its log:\n",
                                          Tail(ReadWholeFile(log), 4000)));
}

// Fails when the log at `path` records a denial.
absl::Status NoDenial(const std::string& path, absl::string_view who) {
  const std::string log = ReadWholeFile(path);
  if (!absl::StrContains(log, "outcome=denied")) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(who, " recorded a denial; its log:\n", Tail(log, 4000)));
}

// The ids a daemon runs as (nullopt: this process's).
struct Ids {
  uid_t uid;
  gid_t gid;
};

// Forks and execs `path` with `args` (args[0] included), its stdout and
// stderr in `log_path`, as `ids` when set: supplementary groups dropped, the
// group then the user taken, as supervisord switches its children; then the
// parent-death signal (a credential change clears it). Only
// async-signal-safe calls in the child.
absl::StatusOr<pid_t> SpawnAs(const std::string& path,
                              std::vector<std::string> args,
                              const std::string& log_path,
                              std::optional<Ids> ids) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  fflush(stdout);
  fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    if (ids.has_value() && (setgroups(0, nullptr) != 0 ||
                            setresgid(ids->gid, ids->gid, ids->gid) != 0 ||
                            setresuid(ids->uid, ids->uid, ids->uid) != 0)) {
      _exit(126);
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// ---------------------------------------------------------------------------
// Health checks.

// One grpc.health.v1 Check on a fresh channel (its own connection, a low
// reconnect back-off), as svc/supervisord.
class Prober {
 public:
  explicit Prober(const config::StackConfig& cfg)
      : factory_(Options(cfg)), runtime_dir_(cfg.paths.runtime_dir) {}

  // Whether `daemon` answers SERVING now (no socket, a refused connection
  // or a deadline: no).
  bool Serving(absl::string_view daemon) const {
    const std::string socket = absl::StrCat(runtime_dir_, "/", daemon, ".sock");
    if (access(socket.c_str(), F_OK) != 0) return false;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        factory_.ForDaemon(daemon);
    if (!channel.ok()) return false;
    std::unique_ptr<HealthApi::Stub> stub = HealthApi::NewStub(*channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kProbeDeadline);
    grpc::health::v1::HealthCheckResponse resp;
    return stub->Check(&ctx, {}, &resp).ok() &&
           resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

 private:
  static rpc::ClientOptions Options(const config::StackConfig& cfg) {
    rpc::ClientOptions o = rpc::ClientOptionsForService(cfg, kHealthCaller);
    o.private_connection = true;
    // gRPC also takes the minimum back-off as the connection attempt's
    // timeout (handshake included): below a loaded machine's handshake time
    // no try could ever connect.
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 100;
    return o;
  }

  rpc::ChannelFactory factory_;
  std::string runtime_dir_;
};

// ---------------------------------------------------------------------------
// Other load during a measurement.

// The machine's busy time over a window minus this process's and the
// stack's processes' (those alive at its end: a process started inside the
// window counts from its start, one that died inside it is lost and counted
// as other load).
class Window {
 public:
  explicit Window(const std::vector<pid_t>& before) {
    for (pid_t p : before) before_.emplace_back(p, ProcessCpuSeconds(p));
    own0_ = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    busy0_ = MachineBusySeconds();
    t0_ = Clock::now();
  }
  double ForeignCores(const std::vector<pid_t>& after) const {
    double own = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - own0_;
    for (pid_t p : after) {
      double start = 0;
      for (const auto& [q, cpu] : before_) {
        if (q == p) start = cpu;
      }
      own += ProcessCpuSeconds(p) - start;
    }
    const double busy = MachineBusySeconds() - busy0_;
    const double window =
        std::chrono::duration<double>(Clock::now() - t0_).count();
    return window > 0 ? std::max(0.0, busy - own) / window : 0;
  }

 private:
  std::vector<std::pair<pid_t, double>> before_;
  double own0_ = 0;
  double busy0_ = 0;
  Clock::time_point t0_;
};

// ---------------------------------------------------------------------------
// What is measured.

struct ColdStart {
  double all_ms = 0;  // the first exec to the last daemon's SERVING
  std::array<double, kNumDaemons> serving_ms{};  // since the first exec
  std::array<double, kNumDaemons> own_ms{};      // direct: since its exec
  double foreign_cores = 0;
};

struct StackMemory {
  supervisord::Memory supervisord;
  std::array<supervisord::Memory, kNumDaemons> daemons;
  // Supervisord's and the daemons' figures, summed.
  supervisord::Memory Total() const {
    supervisord::Memory t = supervisord;
    for (const auto& d : daemons) {
      t.rss_bytes += d.rss_bytes;
      t.pss_bytes += d.pss_bytes;
      t.pss_anon_bytes += d.pss_anon_bytes;
      t.pss_file_bytes += d.pss_file_bytes;
    }
    return t;
  }
};

// One process's (or the stack's) idle memory, one entry per round, in MB.
struct MemoryCells {
  std::vector<double> rss, pss, anon, file;  // anon + file: PSS split
  void Add(const supervisord::Memory& m) {
    rss.push_back(Mb(m.rss_bytes));
    pss.push_back(Mb(m.pss_bytes));
    anon.push_back(Mb(m.pss_anon_bytes));
    file.push_back(Mb(m.pss_file_bytes));
  }
};

struct Restart {
  double new_pid_ms = 0;  // SIGKILL to supervisord's new process exec'd
  double serving_ms = 0;  // SIGKILL to the new process's SERVING
  double foreign_cores = 0;
};

// The figures of the run, one entry per round (kills: per repetition).
struct Cells {
  std::vector<double> sv_all, direct_all;
  std::array<std::vector<double>, kNumDaemons> sv_serving, direct_serving,
      direct_own, kill_new_pid, kill_serving;
  MemoryCells sv_mem, stack_mem, base_mem;
  std::array<MemoryCells, kNumDaemons> daemon_mem;
  double max_kill_foreign = 0;
};

// ---------------------------------------------------------------------------
// Flags.

struct Flags : RunFlags {
  int kills = 5;
  bool quick = false;
  bool keep = false;
  std::string supervisord =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/bin/rustiq-supervisord");
  std::string bin_dir = absl::StrCat(RUSTIQ_BINARY_DIR, "/bin");
  std::string testserver =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/tests/testserver/rustiq-testserver");
};

constexpr char kUsage[] =
    "usage: supervisord_bench [--quick] [--keep] [--rounds N] [--kills M]\n"
    "       [--seconds S] [--max-other-load C] [--supervisord PATH]\n"
    "       [--bin-dir DIR] [--testserver PATH]\n"
    "  --quick       a short smoke run: --rounds 1 --kills 1 --seconds 1\n"
    "                --max-other-load 0 (flags given override these)\n"
    "  --rounds      cold starts of each kind, interleaved (default 10)\n"
    "  --kills       SIGKILLs of each daemon, one per round from the first,\n"
    "                at most --rounds (default 5, or --rounds if fewer)\n"
    "  --seconds     how long the stack idles before its memory is read\n"
    "                (default 2)\n"
    "  --max-other-load  repeat a cold start (up to 5 times) when other\n"
    "                processes used more than C cores meanwhile (default 0.1;\n"
    "                0: never)\n"
    "  --warmup, --threads  accepted (scripts/bench passes them to every\n"
    "                benchmark); no effect here\n"
    "  --keep        leave the run's directory (device, logs) in place\n"
    "  --supervisord  rustiq-supervisord (default: this build's)\n"
    "  --bin-dir     the daemons' binaries, rustiq-<name>, as the device's\n"
    "                [supervisord.daemons] lists them (default: this build's\n"
    "                bin/)\n"
    "  --testserver  the baseline's rustiq-testserver (default: this "
    "build's)\n";

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  f.rounds = 10;
  f.seconds = 2;
  FlagParser parser;
  AddRunFlags(&parser, &f, 64);
  parser.Switch("--quick", &f.quick);
  parser.Switch("--keep", &f.keep);
  parser.Valued("--kills", [&f](const std::string& v) {
    return absl::SimpleAtoi(v, &f.kills) && f.kills >= 0;
  });
  parser.NonEmpty("--supervisord", &f.supervisord);
  parser.NonEmpty("--bin-dir", &f.bin_dir);
  parser.NonEmpty("--testserver", &f.testserver);
  if (absl::Status s = parser.Parse(argc, argv); !s.ok()) return s;
  if (f.quick) {
    ApplyQuickRun(parser, &f, /*seconds=*/1, /*warmup=*/0);
    if (!parser.Given("--kills")) f.kills = 1;
  }
  // Fewer rounds given (scripts/bench passes its --rounds to every
  // benchmark): as many kills as rounds, unless --kills asks for more.
  if (!parser.Given("--kills")) f.kills = std::min(f.kills, f.rounds);
  if (f.kills > f.rounds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--kills ", f.kills, " needs at least as many --rounds (", f.rounds,
        "): one kill of each daemon per supervised start"));
  }
  return f;
}

// ---------------------------------------------------------------------------
// The run.

class Bench {
 public:
  Bench(const Flags& flags, std::string root, const config::StackConfig& cfg,
        std::vector<config::SupervisedDaemon> ordered,
        std::array<std::optional<Ids>, kNumDaemons> ids)
      : flags_(flags),
        root_(std::move(root)),
        cfg_(cfg),
        ordered_(std::move(ordered)),
        ids_(ids),
        prober_(cfg) {}
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;
  ~Bench() {
    (void)StopSupervised();
    (void)StopDirect();
  }

  // Starts rustiq-supervisord (stopping a stack left running first) and
  // waits for every daemon to serve.
  absl::StatusOr<ColdStart> StartSupervised(const std::string& tag) {
    if (absl::Status s = StopAll(); !s.ok()) return s;
    sv_log_ = absl::StrCat(root_, "/supervisord-", tag, ".log");
    Window window(std::vector<pid_t>{});
    ColdStart r;
    const Clock::time_point t0 = Clock::now();
    absl::StatusOr<pid_t> pid =
        SpawnChild(flags_.supervisord,
                   {flags_.supervisord, "--config", cfg_.source_path}, sv_log_);
    if (!pid.ok()) return pid.status();
    sv_ = *pid;
    std::array<bool, kNumDaemons> up{};
    const absl::Time deadline = absl::Now() + kStartTimeout;
    while (!std::all_of(up.begin(), up.end(), [](bool b) { return b; })) {
      if (Interrupted()) return absl::CancelledError("interrupted");
      if (absl::Status s = CheckRunning(&sv_, "rustiq-supervisord", sv_log_);
          !s.ok()) {
        return s;
      }
      for (size_t i = 0; i < kNumDaemons; ++i) {
        if (!up[i] && prober_.Serving(kNames[i])) {
          up[i] = true;
          r.serving_ms[i] = MsSince(t0);
        }
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "the stack did not serve within ",
            absl::FormatDuration(kStartTimeout), "; supervisord's log:\n",
            Tail(ReadWholeFile(sv_log_), 4000)));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    r.all_ms = MsSince(t0);
    for (size_t i = 0; i < kNumDaemons; ++i) {
      std::optional<pid_t> child = DaemonChild(sv_, kNames[i]);
      if (!child.has_value()) {
        return absl::InternalError(absl::StrCat(
            "rustiq-", kNames[i], " serves but is no child of supervisord"));
      }
      pids_[i] = *child;
    }
    r.foreign_cores = window.ForeignCores(StackPids());
    return r;
  }

  // SIGTERM to supervisord; waits for it and its daemons to exit.
  absl::Status StopSupervised() {
    if (sv_ <= 0) return absl::OkStatus();
    kill(sv_, SIGTERM);
    absl::StatusOr<int> status = WaitExit(sv_, kStopTimeout, "supervisord");
    sv_ = -1;
    absl::Status result = status.ok()
                              ? CleanExit(*status, "supervisord", sv_log_)
                              : status.status();
    for (pid_t& p : pids_) {
      const absl::Time deadline = absl::Now() + absl::Seconds(5);
      while (p > 0 && !Ended(p) && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      if (p > 0 && !Ended(p)) {
        kill(p, SIGKILL);
        result.Update(absl::InternalError(
            absl::StrCat("pid ", p, " outlived supervisord (killed)")));
      }
      p = -1;
    }
    result.Update(NoDenial(sv_log_, "the supervised stack"));
    return result;
  }

  // Starts the three daemons from this process, in order, each once the
  // previous one serves.
  absl::StatusOr<ColdStart> StartDirect() {
    if (absl::Status s = StopAll(); !s.ok()) return s;
    // The runtime directory as supervisord prepares it for its daemons'
    // users (root's, the stack group's, 01770): the testserver, root's, may
    // have taken it back. Untimed, as a script would do it once.
    if (ids_[0].has_value()) {
      const std::string& run = cfg_.paths.runtime_dir;
      if (chown(run.c_str(), 0, ids_[0]->gid) != 0 ||
          chmod(run.c_str(), rpc::kSharedSocketDirMode) != 0) {
        return absl::ErrnoToStatus(errno, absl::StrCat("preparing ", run));
      }
    }
    Window window(std::vector<pid_t>{});
    ColdStart r;
    const Clock::time_point t0 = Clock::now();
    for (size_t i = 0; i < kNumDaemons; ++i) {
      const config::SupervisedDaemon& d = ordered_[i];
      std::vector<std::string> args = {d.binary, "--config", cfg_.source_path};
      args.insert(args.end(), d.args.begin(), d.args.end());
      const Clock::time_point t1 = Clock::now();
      absl::StatusOr<pid_t> pid =
          SpawnAs(d.binary, args, DirectLog(i), ids_[i]);
      if (!pid.ok()) return pid.status();
      direct_[i] = *pid;
      const absl::Time deadline = absl::Now() + kStartTimeout;
      while (!prober_.Serving(kNames[i])) {
        if (Interrupted()) return absl::CancelledError("interrupted");
        if (absl::Status s = CheckRunning(&direct_[i], d.binary, DirectLog(i));
            !s.ok()) {
          return s;
        }
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(
              absl::StrCat(d.binary, " did not serve; its log:\n",
                           Tail(ReadWholeFile(DirectLog(i)), 4000)));
        }
        std::this_thread::sleep_for(kPollInterval);
      }
      r.own_ms[i] = MsSince(t1);
      r.serving_ms[i] = MsSince(t0);
    }
    r.all_ms = MsSince(t0);
    r.foreign_cores =
        window.ForeignCores(std::vector<pid_t>(direct_.begin(), direct_.end()));
    return r;
  }

  // SIGTERM to each direct daemon in reverse order, each waited for.
  absl::Status StopDirect() {
    absl::Status result = absl::OkStatus();
    for (size_t k = kNumDaemons; k-- > 0;) {
      if (direct_[k] <= 0) continue;
      kill(direct_[k], SIGTERM);
      absl::StatusOr<int> status =
          WaitExit(direct_[k], kStopTimeout, kNames[k]);
      direct_[k] = -1;
      result.Update(status.ok() ? CleanExit(*status, kNames[k], DirectLog(k))
                                : status.status());
      result.Update(NoDenial(DirectLog(k), kNames[k]));
    }
    return result;
  }

  // The supervised stack's memory, read now.
  absl::StatusOr<StackMemory> Memory() const {
    StackMemory m;
    absl::StatusOr<supervisord::Memory> sv = supervisord::ReadMemory(sv_);
    if (!sv.ok()) return sv.status();
    m.supervisord = *sv;
    for (size_t i = 0; i < kNumDaemons; ++i) {
      absl::StatusOr<supervisord::Memory> d = supervisord::ReadMemory(pids_[i]);
      if (!d.ok()) return d.status();
      m.daemons[i] = *d;
    }
    return m;
  }

  // SIGKILL to daemon `i` of the supervised stack; waits for a new process
  // of it to serve, then for every daemon to serve.
  absl::StatusOr<Restart> Kill(size_t i) {
    const pid_t old = pids_[i];
    Window window(StackPids());
    Restart r;
    const Clock::time_point t0 = Clock::now();
    if (kill(old, SIGKILL) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("kill ", old));
    }
    std::optional<pid_t> fresh;
    const absl::Time deadline = absl::Now() + kStartTimeout;
    for (;;) {
      if (Interrupted()) return absl::CancelledError("interrupted");
      if (absl::Status s = CheckRunning(&sv_, "rustiq-supervisord", sv_log_);
          !s.ok()) {
        return s;
      }
      if (!fresh.has_value()) {
        std::optional<pid_t> p = DaemonChild(sv_, kNames[i]);
        if (p.has_value() && *p != old) {
          fresh = p;
          r.new_pid_ms = MsSince(t0);
        }
      }
      // The old process has ended: a SERVING answer is the new one's.
      if (fresh.has_value() && Ended(old) && prober_.Serving(kNames[i])) {
        r.serving_ms = MsSince(t0);
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "rustiq-", kNames[i], " did not serve again within ",
            absl::FormatDuration(kStartTimeout), "; supervisord's log:\n",
            Tail(ReadWholeFile(sv_log_), 4000)));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    pids_[i] = *fresh;
    r.foreign_cores = window.ForeignCores(StackPids());
    absl::SleepFor(kSettle);
    for (size_t k = 0; k < kNumDaemons; ++k) {
      if (!prober_.Serving(kNames[k])) {
        return absl::InternalError(
            absl::StrCat("rustiq-", kNames[k], " does not serve after ",
                         kNames[i], " was killed and restarted"));
      }
    }
    return r;
  }

  // An idle rustiq-testserver's memory, on its own: started, idle for
  // --seconds, read, stopped.
  absl::StatusOr<supervisord::Memory> BaseMemory() {
    if (absl::Status s = StopAll(); !s.ok()) return s;
    Daemon base{kBaseName, flags_.testserver, "", -1, {"--name", kBaseName}};
    Daemons daemons(cfg_, "rustiq-testserver", kHealthCaller);
    if (absl::Status s = daemons.Spawn(&base, root_); !s.ok()) return s;
    if (absl::Status s = daemons.WaitServing(kStartTimeout); !s.ok()) return s;
    absl::SleepFor(absl::Seconds(flags_.seconds));
    absl::StatusOr<supervisord::Memory> m = supervisord::ReadMemory(base.pid);
    absl::Status stopped = daemons.Stop();
    if (!m.ok()) return m.status();
    if (!stopped.ok()) return stopped;
    return m;
  }

  pid_t supervisord_pid() const { return sv_; }
  pid_t daemon_pid(size_t i) const { return pids_[i]; }

 private:
  absl::Status StopAll() {
    absl::Status s = StopSupervised();
    s.Update(StopDirect());
    return s;
  }
  std::vector<pid_t> StackPids() const {
    std::vector<pid_t> out = {sv_};
    out.insert(out.end(), pids_.begin(), pids_.end());
    return out;
  }
  std::string DirectLog(size_t i) const {
    return absl::StrCat(root_, "/direct-", kNames[i], ".log");
  }

  const Flags& flags_;
  const std::string root_;
  const config::StackConfig& cfg_;
  const std::vector<config::SupervisedDaemon> ordered_;  // keyd, eventd, authd
  const std::array<std::optional<Ids>, kNumDaemons> ids_;
  const Prober prober_;
  pid_t sv_ = -1;
  std::string sv_log_;
  std::array<pid_t, kNumDaemons> pids_ = {-1, -1, -1};    // supervised
  std::array<pid_t, kNumDaemons> direct_ = {-1, -1, -1};  // started here
};

// ---------------------------------------------------------------------------
// The report.

std::string MinMax(const std::vector<double>& v, int decimals) {
  if (v.empty()) return "– | – | –";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return absl::StrFormat("%.*f | %.*f | %.*f", decimals, Median(v), decimals,
                         *lo, decimals, *hi);
}

std::string PerRound(const std::vector<double>& v, int decimals) {
  std::vector<std::string> parts;
  for (double x : v) parts.push_back(absl::StrFormat("%.*f", decimals, x));
  return absl::StrJoin(parts, ", ");
}

std::string ColdStartSection(const Flags& flags, const Cells& c) {
  std::string out = absl::StrFormat(
      "\n### 1. Cold start: exec to every daemon SERVING\n\n"
      "%d starts of each kind. Times from the first exec "
      "(rustiq-supervisord's, "
      "or the direct start's rustiq-keyd's) to a grpc.health.v1 Check made by "
      "this process on the daemon's own socket answering SERVING (a fresh "
      "channel and connection per try, a try every ~2 ms: the figure "
      "includes the answering try's mTLS handshake).\n\n"
      "| start | median ms | min ms | max ms | per round ms |\n"
      "|---|---:|---:|---:|---|\n",
      flags.rounds);
  absl::StrAppend(&out, "| rustiq-supervisord: all three SERVING | ",
                  MinMax(c.sv_all, 1), " | ", PerRound(c.sv_all, 1), " |\n");
  absl::StrAppend(&out,
                  "| (base) direct: each started here once the previous "
                  "serves | ",
                  MinMax(c.direct_all, 1), " | ", PerRound(c.direct_all, 1),
                  " |\n");
  absl::StrAppend(
      &out,
      "\nEach daemon, medians: when it served (since the first exec) under "
      "supervisord and in the direct start, and the direct start's own "
      "start of it (its exec to its SERVING).\n\n"
      "| daemon | supervised: SERVING at ms | direct: SERVING at ms | direct: "
      "its own start ms (min–max) |\n|---|---:|---:|---:|\n");
  for (size_t i = 0; i < kNumDaemons; ++i) {
    const std::vector<double>& own = c.direct_own[i];
    const auto [lo, hi] = std::minmax_element(own.begin(), own.end());
    absl::StrAppend(
        &out,
        absl::StrFormat("| rustiq-%s | %.1f | %.1f | %.1f (%.1f–%.1f) |\n",
                        kNames[i], Median(c.sv_serving[i]),
                        Median(c.direct_serving[i]), Median(own), *lo, *hi));
  }
  return out;
}

std::string MemorySection(const Flags& flags, const Cells& c) {
  std::string out = absl::StrFormat(
      "\n### 2. Idle memory\n\n"
      "After each supervised cold start, %.1f s idle, then /proc/<pid>/"
      "smaps_rollup of each process; the baseline, an idle "
      "rustiq-testserver started on its own (no stack running), idle as "
      "long. MB = 10^6 bytes; medians over %d rounds. PSS shares each "
      "shared page among the processes that map it (this benchmark's own "
      "process among them). Its split (smaps_rollup's Pss_Anon and "
      "Pss_File): anonymous pages (heap, stacks, library data written at "
      "load) and pages of files (code and read-only data of the binary and "
      "of the libraries); summed over the stack, the file part counts each "
      "library page the stack uses about once.\n\n"
      "| process | RSS MB | PSS MB | PSS anonymous MB | PSS file-backed MB | "
      "PSS per round MB |\n"
      "|---|---:|---:|---:|---:|---|\n",
      flags.seconds, flags.rounds);
  auto row = [&out](absl::string_view name, const MemoryCells& m) {
    absl::StrAppend(&out, absl::StrFormat("| %s | %.2f | %.2f | %.2f | %.2f "
                                          "| %s |\n",
                                          name, Median(m.rss), Median(m.pss),
                                          Median(m.anon), Median(m.file),
                                          PerRound(m.pss, 2)));
  };
  row("rustiq-supervisord", c.sv_mem);
  for (size_t i = 0; i < kNumDaemons; ++i) {
    row(absl::StrCat("rustiq-", kNames[i]), c.daemon_mem[i]);
  }
  row("**the stack: supervisord + 3 daemons**", c.stack_mem);
  row("(base) rustiq-testserver, idle", c.base_mem);
  return out;
}

std::string KillSection(const Flags& flags, const config::SupervisordConfig& sv,
                        const Cells& c) {
  std::string out = absl::StrFormat(
      "\n### 3. SIGKILL to SERVING again\n\n"
      "Each daemon killed once in each of the first %d supervised stacks "
      "(its first exit under that supervisord: the shipped first back-off, "
      "restart_delay_ms %u ms plus up to 25%% jitter, is included), timed to "
      "supervisord's new process for it (exec'd) and to that process "
      "answering SERVING. Other processes used at most %.2f cores during a "
      "kill (not repeated: a second exit would double the back-off).\n\n"
      "| daemon | to new process ms | to SERVING ms, median | min | max | "
      "(base) its own cold start ms | SERVING / own cold start |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n",
      flags.kills, sv.restart_delay_ms, c.max_kill_foreign);
  for (size_t i = 0; i < kNumDaemons; ++i) {
    absl::StrAppend(
        &out,
        absl::StrFormat("| rustiq-%s | %.1f | %s | %.1f | %.2f |\n", kNames[i],
                        Median(c.kill_new_pid[i]), MinMax(c.kill_serving[i], 1),
                        Median(c.direct_own[i]),
                        MedianRatio(c.kill_serving[i], c.direct_own[i])));
  }
  return out;
}

RatioTable Ratios(const Cells& c) {
  RatioTable ratios(kTool);
  ratios.AddTarget("all three SERVING after supervisord's exec",
                   "cold-start-ms", 1, c.sv_all, 1, "ms", /*below=*/true, 500);
  ratios.AddRatio("supervisord cold start / (base) direct start", "sv/direct",
                  1, c.sv_all, c.direct_all, /*min_target=*/0);
  ratios.AddTarget("idle stack's summed PSS", "stack-pss-mb", 1,
                   c.stack_mem.pss, 2, "MB", /*below=*/true, 15);
  ratios.AddRatio("idle stack PSS / (base) idle testserver PSS",
                  "stack-pss/testserver-pss", 1, c.stack_mem.pss,
                  c.base_mem.pss, 0);
  ratios.AddRatio("idle supervisord PSS / (base) idle testserver PSS",
                  "supervisord-pss/testserver-pss", 1, c.sv_mem.pss,
                  c.base_mem.pss, 0);
  for (size_t i = 0; i < kNumDaemons; ++i) {
    ratios.AddRatio(
        absl::StrCat("rustiq-", kNames[i],
                     " SIGKILL to SERVING / (base) its own cold start"),
        absl::StrCat(kNames[i], "-kill/own-start"), 1, c.kill_serving[i],
        c.direct_own[i], 0);
  }
  return ratios;
}

std::vector<std::string> MachineLines(const Flags& flags, const Cells& c,
                                      const RatioTable& ratios) {
  std::vector<std::string> lines;
  lines.push_back(absl::StrFormat(
      "%s start=supervisord rounds=%d median_ms=%.1f per_round=%s", kTool,
      flags.rounds, Median(c.sv_all), PerRound(c.sv_all, 1)));
  lines.push_back(absl::StrFormat(
      "%s start=direct rounds=%d median_ms=%.1f per_round=%s", kTool,
      flags.rounds, Median(c.direct_all), PerRound(c.direct_all, 1)));
  for (size_t i = 0; i < kNumDaemons; ++i) {
    lines.push_back(absl::StrFormat(
        "%s daemon=%s sv_serving_ms=%.1f direct_serving_ms=%.1f "
        "direct_own_ms=%.1f idle_rss_mb=%.2f idle_pss_mb=%.2f kills=%zu "
        "kill_new_pid_ms=%.1f kill_serving_ms=%.1f",
        kTool, kNames[i], Median(c.sv_serving[i]), Median(c.direct_serving[i]),
        Median(c.direct_own[i]), Median(c.daemon_mem[i].rss),
        Median(c.daemon_mem[i].pss), c.kill_serving[i].size(),
        Median(c.kill_new_pid[i]), Median(c.kill_serving[i])));
  }
  lines.push_back(
      absl::StrFormat("%s daemon=supervisord idle_rss_mb=%.2f idle_pss_mb=%.2f",
                      kTool, Median(c.sv_mem.rss), Median(c.sv_mem.pss)));
  lines.push_back(
      absl::StrFormat("%s memory=stack idle_rss_mb=%.2f idle_pss_mb=%.2f",
                      kTool, Median(c.stack_mem.rss), Median(c.stack_mem.pss)));
  lines.push_back(
      absl::StrFormat("%s memory=testserver idle_rss_mb=%.2f idle_pss_mb=%.2f",
                      kTool, Median(c.base_mem.rss), Median(c.base_mem.pss)));
  lines.insert(lines.end(), ratios.machine_lines().begin(),
               ratios.machine_lines().end());
  return lines;
}

// ---------------------------------------------------------------------------
// main.

// Whether the stack's users and group exist (as scripts/create-users makes
// them).
bool StackUsersExist() {
  for (const char* name : kNames) {
    if (getpwnam(absl::StrCat(config::kDaemonUserPrefix, name).c_str()) ==
        nullptr) {
      return false;
    }
  }
  return getgrnam(std::string(config::kStackGroup).c_str()) != nullptr;
}

enum class Phase { kSupervised, kDirect, kBase };
const std::vector<Phase> kPhases = {Phase::kSupervised, Phase::kDirect,
                                    Phase::kBase};

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  const std::string command = CommandLine(argc, argv);
  InstallStopSignals();
  auto fail = [](const absl::Status& s) { return RunFailed(kTool, s); };
  for (const std::string* binary : {&flags.supervisord, &flags.testserver}) {
    if (access(binary->c_str(), X_OK) != 0) {
      return fail(absl::NotFoundError(
          absl::StrCat(*binary,
                       " is not an executable: build it (cmake --build <dir> "
                       "--target rustiq-supervisord rustiq-keyd rustiq-eventd "
                       "rustiq-authd rustiq-testserver)")));
    }
  }

  absl::StatusOr<std::unique_ptr<TempDir>> dir =
      TempDir::Create("supervisord-bench");
  if (!dir.ok()) return fail(dir.status());
  const std::string root = (*dir)->path();
  if (flags.keep) {
    (*dir)->Keep();
    fprintf(stderr, "%s: the run's directory %s is kept\n", kTool,
            root.c_str());
  }
  const bool own_users = geteuid() == 0 && StackUsersExist();
  absl::StatusOr<config::StackConfig> cfg = ProvisionDevice(
      root, DeviceSpec{kDeviceId,
                       {"keyd", "eventd", "authd", "supervisord", kBaseName},
                       {std::string(config::kCliClientName)},
                       [&flags, own_users](config::StackConfig* c) {
                         c->supervisord.daemons = config::StackDaemonsConfig(
                             flags.bin_dir, own_users);
                         // The journal copy is eventd's convenience: off.
                         c->eventd.journal = "off";
                       }});
  if (!cfg.ok()) return fail(cfg.status());
  // The daemons' users reach their files under the device directory.
  if (chmod(root.c_str(), 0755) != 0) {
    return fail(absl::ErrnoToStatus(errno, absl::StrCat("chmod ", root)));
  }
  std::array<std::optional<Ids>, kNumDaemons> ids;
  std::vector<std::string> users;
  // [supervisord.daemons] is kept by name; the direct starts take them in
  // start order.
  std::vector<config::SupervisedDaemon> ordered;
  for (size_t i = 0; i < kNumDaemons; ++i) {
    auto it = std::find_if(
        cfg->supervisord.daemons.begin(), cfg->supervisord.daemons.end(),
        [i](const config::SupervisedDaemon& d) { return d.name == kNames[i]; });
    if (it == cfg->supervisord.daemons.end()) {
      return fail(absl::InternalError(
          absl::StrCat("[supervisord.daemons] has no ", kNames[i])));
    }
    ordered.push_back(*it);
    const config::SupervisedDaemon& d = ordered.back();
    if (access(d.binary.c_str(), X_OK) != 0) {
      return fail(absl::NotFoundError(
          absl::StrCat(d.binary, " is not an executable: build rustiq-", d.name,
                       " or pass --bin-dir")));
    }
    users.push_back(d.user.empty() ? "this process's user" : d.user);
    if (own_users) {
      absl::StatusOr<sandbox::UserAndGroup> u =
          sandbox::ResolveUserAndGroup(d.user, d.group);
      if (!u.ok()) return fail(u.status());
      ids[i] = Ids{u->uid, u->gid};
    }
  }

  Bench bench(flags, root, *cfg, ordered, ids);
  // Unrecorded: hands the state directories to the daemons' users (the
  // direct starts run as them too) and warms the page cache.
  {
    absl::StatusOr<ColdStart> warm = bench.StartSupervised("warmup");
    if (!warm.ok()) return fail(warm.status());
    fprintf(stderr, "%s warm-up supervised start: %.1f ms\n", kTool,
            warm->all_ms);
    for (size_t i = 0; i < kNumDaemons; ++i) {
      fprintf(stderr, "rustiq-%s: pid %d (%s), user %s\n", kNames[i],
              bench.daemon_pid(i), ConfinementOf(bench.daemon_pid(i)).c_str(),
              users[i].c_str());
    }
    fprintf(stderr, "rustiq-supervisord: pid %d (%s)\n",
            bench.supervisord_pid(),
            ConfinementOf(bench.supervisord_pid()).c_str());
    if (absl::Status s = bench.StopSupervised(); !s.ok()) return fail(s);
  }
  std::array<std::string, kNumDaemons> confinement;

  Cells c;
  QuietCheck quiet(flags.max_other_load);
  const absl::Time started = absl::Now();
  for (int round = 0; round < flags.rounds; ++round) {
    for (Phase phase : Rotated(kPhases, round)) {
      const char* what = phase == Phase::kSupervised ? "supervisord"
                         : phase == Phase::kDirect   ? "direct"
                                                     : "testserver";
      auto on_redo = [&](double cores) {
        fprintf(stderr,
                "round=%d/%d start=%s other_cores=%.2f: measuring again\n",
                round + 1, flags.rounds, what, cores);
      };
      if (phase == Phase::kBase) {
        absl::StatusOr<supervisord::Memory> m = bench.BaseMemory();
        if (!m.ok()) return fail(m.status());
        c.base_mem.Add(*m);
        fprintf(stderr,
                "%s round=%d/%d testserver idle_rss_mb=%.2f "
                "idle_pss_mb=%.2f\n",
                kTool, round + 1, flags.rounds, Mb(m->rss_bytes),
                Mb(m->pss_bytes));
        continue;
      }
      const bool supervised = phase == Phase::kSupervised;
      const std::string tag = absl::StrCat("r", round + 1);
      absl::StatusOr<ColdStart> r = quiet.Run(
          [&] {
            return supervised ? bench.StartSupervised(tag)
                              : bench.StartDirect();
          },
          on_redo);
      if (!r.ok()) return fail(r.status());
      (supervised ? c.sv_all : c.direct_all).push_back(r->all_ms);
      for (size_t i = 0; i < kNumDaemons; ++i) {
        (supervised ? c.sv_serving : c.direct_serving)[i].push_back(
            r->serving_ms[i]);
        if (!supervised) c.direct_own[i].push_back(r->own_ms[i]);
      }
      fprintf(stderr,
              "%s round=%d/%d start=%s all_ms=%.1f keyd_ms=%.1f "
              "eventd_ms=%.1f authd_ms=%.1f%s other_cores=%.2f\n",
              kTool, round + 1, flags.rounds, what, r->all_ms, r->serving_ms[0],
              r->serving_ms[1], r->serving_ms[2],
              supervised
                  ? ""
                  : absl::StrFormat(" own_ms=%.1f,%.1f,%.1f", r->own_ms[0],
                                    r->own_ms[1], r->own_ms[2])
                        .c_str(),
              r->foreign_cores);
      if (!supervised) {
        if (absl::Status s = bench.StopDirect(); !s.ok()) return fail(s);
        continue;
      }
      if (round == 0) {
        for (size_t i = 0; i < kNumDaemons; ++i) {
          confinement[i] = ConfinementOf(bench.daemon_pid(i));
        }
      }
      absl::SleepFor(absl::Seconds(flags.seconds));
      absl::StatusOr<StackMemory> m = bench.Memory();
      if (!m.ok()) return fail(m.status());
      c.sv_mem.Add(m->supervisord);
      for (size_t i = 0; i < kNumDaemons; ++i)
        c.daemon_mem[i].Add(m->daemons[i]);
      const supervisord::Memory total = m->Total();
      c.stack_mem.Add(total);
      fprintf(stderr,
              "%s round=%d/%d idle pss_mb supervisord=%.2f keyd=%.2f "
              "eventd=%.2f authd=%.2f sum=%.2f (rss sum %.2f)\n",
              kTool, round + 1, flags.rounds, Mb(m->supervisord.pss_bytes),
              Mb(m->daemons[0].pss_bytes), Mb(m->daemons[1].pss_bytes),
              Mb(m->daemons[2].pss_bytes), Mb(total.pss_bytes),
              Mb(total.rss_bytes));
      if (round < flags.kills) {
        for (size_t i : Rotated(std::vector<size_t>{0, 1, 2}, round)) {
          absl::StatusOr<Restart> k = bench.Kill(i);
          if (!k.ok()) return fail(k.status());
          c.kill_new_pid[i].push_back(k->new_pid_ms);
          c.kill_serving[i].push_back(k->serving_ms);
          c.max_kill_foreign = std::max(c.max_kill_foreign, k->foreign_cores);
          fprintf(stderr,
                  "%s round=%d/%d kill=%s new_pid_ms=%.1f serving_ms=%.1f "
                  "other_cores=%.2f\n",
                  kTool, round + 1, flags.rounds, kNames[i], k->new_pid_ms,
                  k->serving_ms, k->foreign_cores);
        }
      }
      if (absl::Status s = bench.StopSupervised(); !s.ok()) return fail(s);
    }
  }
  const double duration = absl::ToDoubleSeconds(absl::Now() - started);

  const config::SupervisordConfig& shipped = cfg->supervisord;
  std::string out = ReportHead(
      "Supervisor: rustiq-supervisord's cold start, idle memory and restarts",
      command);
  absl::StrAppend(
      &out, "- daemons: rustiq-keyd (", confinement[0], "; user ", users[0],
      "), rustiq-eventd (", confinement[1], "; user ", users[1],
      "), rustiq-authd (", confinement[2], "; user ", users[2],
      "), each confined by its own policy, started by rustiq-supervisord ",
      "from [supervisord.daemons] (", flags.bin_dir,
      "/rustiq-<name>) on a device provisioned through keyd; the direct "
      "starts run the same binaries as the same users; eventd's journal copy "
      "off\n");
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- supervisord settings as shipped: start poll 10 ms, health every "
          "%u ms, restart delay %u ms (+ up to 25%% jitter), doubling to %u "
          "ms; crash loop at %u exits in %u s\n",
          shipped.health_interval_ms, shipped.restart_delay_ms,
          shipped.restart_max_delay_ms, shipped.crash_loop_exits,
          shipped.crash_loop_seconds));
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: one unrecorded supervised start, then %d rounds of a "
          "supervised cold start (then %.1f s idle, its memory, and in the "
          "first %d rounds one SIGKILL of each daemon), a direct cold start "
          "and an idle testserver, the order rotating each round; the bench "
          "polls health itself as svc/supervisord; duration %.0f s\n",
          flags.rounds, flags.seconds, flags.kills, duration));
  absl::StrAppend(&out,
                  quiet.Summary("the benchmark's, supervisord's and the "
                                "daemons'"),
                  " of cold starts; ", quiet.Repeats(), "\n");
  absl::StrAppend(&out, ColdStartSection(flags, c), MemorySection(flags, c),
                  KillSection(flags, shipped, c));
  RatioTable ratios = Ratios(c);
  absl::StrAppend(
      &out,
      ratios.Section(
          "Ratios and targets",
          "From the medians above; \"per round\" lists the same figure within "
          "each round, to show the noise (\"threads\": the benchmark's one "
          "polling thread). Targets: every daemon SERVING within 0.5 s of "
          "supervisord's exec; the idle stack's summed PSS below 15 MB."));
  absl::StrAppend(&out, MachineReadable("One line per figure (medians across "
                                        "rounds) and per ratio.",
                                        MachineLines(flags, c, ratios)));
  PrintReport(out);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) return UsageExit(kTool, flags.status(), kUsage);
  return RunBenchmark(*flags, argc, argv);
}
