#include "bench/bench_support.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/pki/identity_files.h"
#include "common/pki/provisioner.h"
#include "common/rpc/client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "rustiq/test/v1/echo.grpc.pb.h"
#include "services/keyd/provision.h"

namespace rustiq::bench {
namespace {

using EchoApi = rustiq::test::v1::Echo;
using HealthApi = grpc::health::v1::Health;

std::atomic<bool> g_interrupted{false};
extern "C" void OnStopSignal(int) { g_interrupted.store(true); }

}  // namespace

void InstallStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// Small helpers.

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t max_bytes) {
  return text.size() <= max_bytes ? text : text.substr(text.size() - max_bytes);
}

std::string GrpcError(absl::string_view what, const grpc::Status& s) {
  return absl::StrCat(what, " failed: ", static_cast<int>(s.error_code()), " ",
                      s.error_message());
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double MedianRatio(const std::vector<double>& num,
                   const std::vector<double>& den) {
  double d = Median(den);
  return d > 0 ? Median(num) / d : 0;
}

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 +
         static_cast<double>(ts.tv_nsec) * 1e-3;
}

double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
           softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >>
      steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<clockid_t> ProcessCpuClock(pid_t pid) {
  clockid_t id;
  if (int err = clock_getcpuclockid(pid, &id); err != 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("clock_getcpuclockid ", pid));
  }
  return id;
}

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---------------------------------------------------------------------------
// Child processes.

absl::StatusOr<pid_t> SpawnChild(const std::string& path,
                                 std::vector<std::string> args,
                                 const std::string& log_path) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // a dying parent takes the child
    if (getppid() != parent) _exit(1);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

absl::Status CheckRunning(pid_t* pid, absl::string_view who,
                          const std::string& log_path) {
  int status = 0;
  if (*pid > 0 && waitpid(*pid, &status, WNOHANG) == *pid) {
    *pid = -1;
    return absl::UnavailableError(absl::StrCat(
        who, " exited (status ", status, ") before serving; its log:\n",
        Tail(ReadWholeFile(log_path), 4000)));
  }
  return absl::OkStatus();
}

absl::Status ReapChild(pid_t pid, absl::string_view who,
                       const std::string& log_path) {
  int status = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  pid_t r = 0;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (r == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return absl::InternalError(absl::StrCat(who, " did not stop; killed"));
  }
  if (r == pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    return absl::InternalError(
        absl::StrCat(who, " ended with status ", status, "; its log:\n",
                     Tail(ReadWholeFile(log_path), 4000)));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The device and the daemons.

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Create(
    absl::string_view prefix) {
  const char* base = getenv("TMPDIR");
  std::string templ = absl::StrCat(
      base != nullptr && *base != '\0' ? base : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdtemp ", templ));
  }
  return std::unique_ptr<TempDir>(new TempDir(templ));
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<config::StackConfig> ProvisionDevice(const std::string& root,
                                                    const DeviceSpec& spec) {
  config::StackConfig cfg;
  cfg.device_id = spec.device_id;
  cfg.paths = {root + "/etc", root + "/state", root + "/run"};
  cfg.source_path = root + "/etc/rustiq.toml";
  // Everything else keeps the shipped defaults (log level info, 10 s call
  // deadline, credentials re-read every 60 s, the soft backend) unless the
  // benchmark changes it.
  if (spec.customize) spec.customize(&cfg);
  if (absl::Status s = pki::MakeDirectories(cfg.paths.config_dir, 0755);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = pki::WriteFileAtomically(
          cfg.source_path, config::RenderConfig(cfg), 0644);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<config::StackConfig> loaded =
      config::LoadConfig(cfg.source_path);
  if (!loaded.ok()) return loaded.status();
  pki::ProvisionRequest request;
  request.services = spec.services;
  request.clients = spec.clients;
  request.identity_lifetime = absl::Hours(24);
  absl::StatusOr<pki::ProvisionResult> provisioned =
      keyd::ProvisionThroughKeyd(*loaded, request);
  if (!provisioned.ok()) return provisioned.status();
  return loaded;
}

Daemons::Daemons(const config::StackConfig& cfg, std::string build_targets,
                 std::string health_caller)
    : config_(cfg),
      build_targets_(std::move(build_targets)),
      health_caller_(std::move(health_caller)) {}

Daemons::~Daemons() { (void)Stop(); }

absl::Status Daemons::Spawn(Daemon* d, const std::string& root) {
  if (access(d->binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        d->binary, " is not an executable: build it (cmake --build <dir> ",
        "--target ", build_targets_, ") or pass --", d->name, " PATH"));
  }
  if (d->log_path.empty())
    d->log_path = absl::StrCat(root, "/", d->name, ".log");
  std::vector<std::string> args = {d->binary, "--config", config_.source_path};
  args.insert(args.end(), d->extra_args.begin(), d->extra_args.end());
  absl::StatusOr<pid_t> pid = SpawnChild(d->binary, args, d->log_path);
  if (!pid.ok()) return pid.status();
  d->pid = *pid;
  daemons_.push_back(d);
  return absl::OkStatus();
}

absl::Status Daemons::WaitServing(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  rpc::ChannelFactory factory(
      rpc::ClientOptionsForService(config_, health_caller_));
  for (Daemon* d : daemons_) {
    std::string socket =
        absl::StrCat(config_.paths.runtime_dir, "/", d->name, ".sock");
    for (;;) {
      if (Interrupted()) return absl::CancelledError("interrupted");
      if (absl::Status s = CheckRunning(&d->pid, d->name, d->log_path);
          !s.ok()) {
        return s;
      }
      if (access(socket.c_str(), F_OK) == 0) {
        absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
            factory.ForDaemon(d->name);
        if (!ch.ok()) return ch.status();
        std::unique_ptr<HealthApi::Stub> stub = HealthApi::NewStub(*ch);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(1));
        grpc::health::v1::HealthCheckResponse resp;
        if (stub->Check(&ctx, {}, &resp).ok() &&
            resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
          break;
        }
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            d->name, " did not serve in ", absl::FormatDuration(timeout),
            "; its log:\n", Log(*d)));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  return absl::OkStatus();
}

std::string Daemons::Log(const Daemon& d) {
  return Tail(ReadWholeFile(d.log_path), 4000);
}

absl::Status Daemons::WaitStopped(Daemon* d) {
  absl::Status result = absl::OkStatus();
  if (d->pid > 0) {
    result.Update(ReapChild(d->pid, d->name, d->log_path));
    d->pid = -1;
  }
  std::string log = ReadWholeFile(d->log_path);
  if (absl::StrContains(log, "outcome=denied")) {
    result.Update(absl::InternalError(absl::StrCat(
        d->name, " recorded a denial; its log:\n", Tail(log, 4000))));
  }
  return result;
}

absl::Status Daemons::Stop() {
  absl::Status result = absl::OkStatus();
  for (Daemon* d : daemons_) {
    if (d->pid > 0) kill(d->pid, SIGTERM);
  }
  for (Daemon* d : daemons_) result.Update(WaitStopped(d));
  daemons_.clear();
  return result;
}

absl::Status Daemons::StopOne(Daemon* d) {
  auto it = std::find(daemons_.begin(), daemons_.end(), d);
  if (it == daemons_.end()) {
    return absl::NotFoundError(absl::StrCat(d->name, " is not running"));
  }
  daemons_.erase(it);
  if (d->pid > 0) kill(d->pid, SIGTERM);
  return WaitStopped(d);
}

std::string ConfinementOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::vector<std::string> parts;
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, "Seccomp:") ||
        absl::StartsWith(line, "NoNewPrivs:") ||
        absl::StartsWith(line, "CapEff:")) {
      std::vector<std::string> kv = absl::StrSplit(line, ':');
      if (kv.size() == 2) {
        parts.push_back(
            absl::StrCat(kv[0], " ", absl::StripAsciiWhitespace(kv[1])));
      }
    }
  }
  return parts.empty() ? "unknown" : absl::StrJoin(parts, ", ");
}

std::string AnnounceDaemon(const Daemon& d) {
  std::string confinement = ConfinementOf(d.pid);
  fprintf(stderr, "rustiq-%s: pid %d (%s)\n", d.name.c_str(), d.pid,
          confinement.c_str());
  return confinement;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PrivateChannel(
    const config::StackConfig& cfg, absl::string_view caller,
    absl::string_view daemon) {
  return PrivateChannel(rpc::ClientOptionsForService(cfg, caller), daemon);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PrivateChannel(
    rpc::ClientOptions options, absl::string_view daemon) {
  options.private_connection = true;  // own connection per thread
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      rpc::ChannelFactory(options).ForDaemon(daemon);
  if (!ch.ok()) return ch.status();
  if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() +
                               kConnectDeadline)) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", daemon));
  }
  return ch;
}

// ---------------------------------------------------------------------------
// The load.

namespace {

class EchoWorker final : public StubWorker<EchoApi> {
 public:
  EchoWorker(std::shared_ptr<grpc::Channel> ch, std::string expected_caller)
      : StubWorker(std::move(ch)),
        expected_caller_(std::move(expected_caller)) {
    req_.set_text("x");
  }
  absl::Status Call(bool) override {
    rustiq::test::v1::EchoReply reply;
    if (absl::Status s =
            CallUnary("Echo", stub(), &EchoApi::Stub::Echo, req_, &reply);
        !s.ok()) {
      return s;
    }
    if (reply.text() != "x" || reply.caller() != expected_caller_) {
      return absl::InternalError(absl::StrCat("unexpected Echo reply text=\"",
                                              reply.text(), "\" caller=\"",
                                              reply.caller(), "\""));
    }
    return absl::OkStatus();
  }

 private:
  std::string expected_caller_;
  rustiq::test::v1::EchoRequest req_;
};

}  // namespace

std::unique_ptr<Worker> NewEchoWorker(std::shared_ptr<grpc::Channel> channel,
                                      std::string expected_caller) {
  return std::make_unique<EchoWorker>(std::move(channel),
                                      std::move(expected_caller));
}

absl::StatusOr<std::vector<std::unique_ptr<Worker>>> NewCheckedWorkers(
    int n,
    const std::function<absl::StatusOr<std::unique_ptr<Worker>>(int)>& make) {
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<std::unique_ptr<Worker>> w = make(i);
    if (!w.ok()) return w.status();
    if (absl::Status s = (*w)->Call(/*verify=*/true); !s.ok()) return s;
    workers.push_back(*std::move(w));
  }
  return workers;
}

absl::StatusOr<LoadResult> RunLoad(
    const std::vector<std::unique_ptr<Worker>>& workers,
    const LoadOptions& options) {
  const int threads = static_cast<int>(workers.size());
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
  const Clock::time_point warm_end =
      start + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point end =
      warm_end + absl::ToChronoNanoseconds(options.measure);
  const size_t expected =
      static_cast<size_t>(absl::ToDoubleSeconds(options.measure) * 40000) +
      1024;

  std::atomic<bool> failed{false};
  std::vector<absl::Status> errors(threads);
  std::vector<std::vector<int64_t>> latencies(threads);
  std::vector<double> own_cpu_us(threads, 0.0);  // self-timed loads
  std::vector<Clock::time_point> last_end(threads, warm_end);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      latencies[i].reserve(expected);
      std::this_thread::sleep_until(start);
      while (!failed.load(std::memory_order_relaxed) && !Interrupted()) {
        Clock::time_point t0 = Clock::now();
        if (t0 >= end) break;
        absl::Status s = workers[i]->Call(/*verify=*/false);
        Clock::time_point t1 = Clock::now();
        if (!s.ok()) {
          errors[i] = s;
          failed.store(true);
          break;
        }
        if (t0 >= warm_end) {
          if (options.self_timed) {
            OwnTiming own = workers[i]->LastTiming();
            latencies[i].push_back(own.wall_ns);
            own_cpu_us[i] += own.cpu_us;
          } else {
            latencies[i].push_back(
                std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
                    .count());
          }
          last_end[i] = t1;
        }
      }
    });
  }
  std::this_thread::sleep_until(warm_end);
  std::vector<double> daemon0;
  for (clockid_t c : options.daemon_clocks) daemon0.push_back(CpuSeconds(c));
  const double client0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double busy0 = MachineBusySeconds();
  const Clock::time_point busy_t0 = Clock::now();
  for (std::thread& t : pool) t.join();
  LoadResult r;
  double daemons_cpu = 0;
  for (size_t i = 0; i < options.daemon_clocks.size(); ++i) {
    r.daemon_cpu_s.push_back(CpuSeconds(options.daemon_clocks[i]) - daemon0[i]);
    daemons_cpu += r.daemon_cpu_s.back();
  }
  r.client_cpu_s = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - client0;
  const double busy = MachineBusySeconds() - busy0;
  const double busy_window =
      std::chrono::duration<double>(Clock::now() - busy_t0).count();
  for (const absl::Status& s : errors) {
    if (!s.ok()) return s;
  }
  if (Interrupted()) return absl::CancelledError("interrupted");

  std::vector<int64_t>& all = r.latencies_ns;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (all.empty()) return absl::InternalError("no calls were recorded");
  std::sort(all.begin(), all.end());
  Clock::time_point window_end =
      *std::max_element(last_end.begin(), last_end.end());
  r.window_s = std::chrono::duration<double>(window_end - warm_end).count();
  const double n = static_cast<double>(all.size());
  r.calls = all.size();
  r.p50_us = static_cast<double>(Percentile(all, 0.50)) / 1000.0;
  r.p99_us = static_cast<double>(Percentile(all, 0.99)) / 1000.0;
  r.calls_per_s = r.window_s > 0 ? n / r.window_s : 0;
  for (double c : own_cpu_us) r.own_cpu_us += c;
  r.foreign_cores =
      busy_window > 0
          ? std::max(0.0, busy - daemons_cpu - r.client_cpu_s) / busy_window
          : 0;
  return r;
}

CallFigures PerCall(const LoadResult& load, double server_cpu_s) {
  const double n = static_cast<double>(load.calls);
  CallFigures f;
  f.p50_us = load.p50_us;
  f.p99_us = load.p99_us;
  f.calls_per_s = load.calls_per_s;
  f.calls = load.calls;
  f.server_cpu_us = server_cpu_s * 1e6 / n;
  f.client_cpu_us = load.client_cpu_s * 1e6 / n;
  f.foreign_cores = load.foreign_cores;
  return f;
}

void CallCell::Add(const CallFigures& f) {
  p50.push_back(f.p50_us);
  p99.push_back(f.p99_us);
  cps.push_back(f.calls_per_s);
  server_cpu.push_back(f.server_cpu_us);
  client_cpu.push_back(f.client_cpu_us);
}

std::string CallTableHead(absl::string_view first_column) {
  return absl::StrCat("| ", first_column,
                      " | threads | p50 µs | p99 µs | calls/s | server CPU "
                      "µs/call | client CPU µs/call |\n"
                      "|---|---:|---:|---:|---:|---:|---:|\n");
}

std::string CallTableRow(absl::string_view label, int threads,
                         const CallCell& c, bool with_calls, bool with_server) {
  return absl::StrFormat(
      "| %s | %d | %.1f | %.1f | %s | %s | %.1f |\n", label, threads,
      Median(c.p50), Median(c.p99),
      with_calls ? absl::StrFormat("%.0f", Median(c.cps)) : std::string("–"),
      with_server ? absl::StrFormat("%.1f", Median(c.server_cpu))
                  : std::string("–"),
      Median(c.client_cpu));
}

std::string QuietCheck::Summary(absl::string_view whose) const {
  return absl::StrFormat(
      "- quiet check: other processes used at most %.2f cores during any "
      "kept measurement (/proc/stat busy time minus %s)",
      max_foreign_, whose);
}

std::string QuietCheck::Repeats() const {
  return absl::StrFormat(
      "%d measurement(s) repeated because they used more than %.2f", redos_,
      max_other_load_);
}

ForeignLoad::ForeignLoad(std::vector<clockid_t> clocks)
    : clocks_(std::move(clocks)) {
  Start();
}

void ForeignLoad::Start() {
  own0_ = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  for (clockid_t c : clocks_) own0_ += CpuSeconds(c);
  busy0_ = MachineBusySeconds();
  t0_ = Clock::now();
}

double ForeignLoad::Cores() const {
  double own = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  for (clockid_t c : clocks_) own += CpuSeconds(c);
  const double busy = MachineBusySeconds() - busy0_;
  const double window =
      std::chrono::duration<double>(Clock::now() - t0_).count();
  return window > 0 ? std::max(0.0, busy - (own - own0_)) / window : 0;
}

// ---------------------------------------------------------------------------
// The report.

std::string ShellQuote(absl::string_view s) {
  bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("-_./=,:", c) != nullptr;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string CommandLine(int argc, char** argv) {
  std::vector<std::string> command;
  for (int i = 0; i < argc; ++i) command.push_back(ShellQuote(argv[i]));
  return absl::StrJoin(command, " ");
}

std::string MachineLine() {
  std::string cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (absl::StartsWith(line, "model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        cpu = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
      break;
    }
  }
  std::string debian = std::string(
      absl::StripAsciiWhitespace(ReadWholeFile("/etc/debian_version")));
  struct utsname u {};
  uname(&u);
  return absl::StrCat(sysconf(_SC_NPROCESSORS_ONLN), " CPUs (", cpu,
                      "), Debian ", debian.empty() ? "?" : debian, ", Linux ",
                      u.release, ", gRPC ", grpc::Version(), ", ",
                      OpenSSL_version(OPENSSL_VERSION));
}

std::string DateLine() {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(),
                          absl::UTCTimeZone());
}

std::string ReportHead(absl::string_view title, absl::string_view command) {
  return absl::StrCat("### ", title, "\n\n- command: `", command,
                      "`\n- date: ", DateLine(), "\n- machine: ", MachineLine(),
                      "\n");
}

std::string MachineReadable(absl::string_view intro,
                            const std::vector<std::string>& lines) {
  std::string out =
      absl::StrCat("\n### Machine-readable\n\n", intro, "\n\n```text\n");
  for (const std::string& line : lines) absl::StrAppend(&out, line, "\n");
  return out + "```\n";
}

void PrintReport(const std::string& report) {
  fputs(report.c_str(), stdout);
  fflush(stdout);
}

int RunFailed(absl::string_view tool, const absl::Status& status) {
  fprintf(stderr, "%s: %s\n", std::string(tool).c_str(),
          status.ToString().c_str());
  return 1;
}

std::string RatioTable::PerRound(const std::vector<double>& num,
                                 const std::vector<double>& den) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < num.size() && i < den.size(); ++i) {
    parts.push_back(absl::StrFormat("%.2f", den[i] > 0 ? num[i] / den[i] : 0));
  }
  return absl::StrJoin(parts, ", ");
}

void RatioTable::AddRatio(absl::string_view label, absl::string_view key,
                          int threads, const std::vector<double>& num,
                          const std::vector<double>& den, double min_target) {
  AddRatioRow(label, key, threads, num, den, /*at_most=*/false, min_target);
}

void RatioTable::AddRatioAtMost(absl::string_view label, absl::string_view key,
                                int threads, const std::vector<double>& num,
                                const std::vector<double>& den,
                                double max_target) {
  AddRatioRow(label, key, threads, num, den, /*at_most=*/true, max_target);
}

void RatioTable::AddRatioRow(absl::string_view label, absl::string_view key,
                             int threads, const std::vector<double>& num,
                             const std::vector<double>& den, bool at_most,
                             double target) {
  if (num.empty() || den.empty()) return;  // a side not measured
  double v = MedianRatio(num, den);
  std::optional<bool> pass;
  if (target > 0) pass = at_most ? v <= target : v >= target;
  const std::string per_round = PerRound(num, den);
  absl::StrAppend(
      &rows_,
      absl::StrFormat(
          "| %s | %d | %.3f | %s | %s | %s |\n", label, threads, v, per_round,
          target > 0 ? absl::StrFormat("%s %.2f", at_most ? "≤" : "≥", target)
                     : "",
          !pass.has_value() ? "(context)"
          : *pass           ? "PASS"
                            : "MISS"));
  machine_.push_back(absl::StrFormat(
      "%s ratio=%s threads=%d value=%.3f per_round=%s%s", tool_, key, threads,
      v, absl::StrReplaceAll(per_round, {{" ", ""}}),
      pass.has_value()
          ? absl::StrFormat(" target=%s%.2f result=%s", at_most ? "<=" : "",
                            target, *pass ? "PASS" : "MISS")
          : ""));
}

std::string RatioTable::Section(absl::string_view title,
                                absl::string_view intro) const {
  return absl::StrCat("\n### ", title, "\n\n", intro,
                      "\n\n| ratio | threads | value | per round | target | "
                      "result |\n|---|---:|---:|---|---|---|\n",
                      rows_);
}

void RatioTable::AddTarget(absl::string_view label, absl::string_view key,
                           int threads, const std::vector<double>& per_round,
                           int decimals, absl::string_view unit, bool below,
                           double bound) {
  if (per_round.empty()) return;
  const double v = Median(per_round);
  const bool pass = below ? v < bound : v >= bound;
  auto show = [decimals](double x) {
    return absl::StrFormat("%.*f", decimals, x);
  };
  std::vector<std::string> parts;
  for (double x : per_round) parts.push_back(show(x));
  const std::string space = unit.empty() ? "" : " ";
  absl::StrAppend(
      &rows_,
      absl::StrFormat("| %s | %d | %s%s%s | %s | %s %s%s%s | %s |\n", label,
                      threads, show(v), space, unit, absl::StrJoin(parts, ", "),
                      below ? "<" : "≥", show(bound), space, unit,
                      pass ? "PASS" : "MISS"));
  machine_.push_back(absl::StrFormat(
      "%s target=%s threads=%d value=%s per_round=%s bound=%s%s result=%s",
      tool_, key, threads, show(v), absl::StrJoin(parts, ","),
      below ? "<" : ">=", show(bound), pass ? "PASS" : "MISS"));
}

}  // namespace rustiq::bench
