// rpc_bench: what rustiq's RPC layer (common/rpc) costs over plain gRPC.
//
// Unary Echo calls over a Unix socket, in the same run, for
//   (a) plain gRPC without TLS,
//   (b) plain gRPC with mTLS (the layer's credentials, nothing else),
//   (c) the common/rpc layer: RpcServer (authorization processor, caller
//       limiter, slot-release interceptor, health service) and ChannelFactory.
// For 1 and 4 client threads it reports p50/p99 latency, calls/s and CPU time
// per call, the median across interleaved rounds; then the cost of a new
// connection's handshake; then the (c)/(b) ratios against the targets of
// issue 2. --diagnose adds two variants that split (c)/(b) in two.
//
//   rpc_bench [--seconds 3] [--rounds 3] [--handshakes 200] [--warmup 0.5]
//             [--threads 1,4] [--diagnose]
//
// The servers are child processes of this binary (re-executed with
// --serve=MODE --root=DIR), started before this process initialises gRPC:
// gRPC and fork do not mix. Everything lives in a temporary directory (a
// throw-away device provisioned with pki::ProvisionDevice) that is removed at
// the end. The table goes to stdout, per-round figures to stderr, the
// servers' logs to files in the temporary directory. Exit status: 0 when the
// run completed (whether or not a target was met), 1 on any error (a failed
// call, a server that did not start, a denial), 2 on bad flags.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/identity_files.h"
#include "common/pki/provisioner.h"
#include "common/rpc/call_authorizer.h"
#include "common/rpc/caller_limiter.h"
#include "common/rpc/client.h"
#include "common/rpc/credentials.h"
#include "common/rpc/method_access.h"
#include "common/rpc/server.h"
#include "common/rpc/slot_release_interceptor.h"
#include "rustiq/test/v1/echo.grpc.pb.h"
#include "tests/testserver/echo_service.h"

namespace rustiq::bench {
namespace {

using Clock = std::chrono::steady_clock;
using EchoApi = rustiq::test::v1::Echo;
using rustiq::test::v1::EchoReply;
using rustiq::test::v1::EchoRequest;

constexpr char kTrustDomain[] = "bench-device";
constexpr char kName[] = "bench";  // svc/bench serves, client/bench calls
constexpr char kExpectedCaller[] = "client/bench";
constexpr auto kCallDeadline = std::chrono::seconds(10);
constexpr auto kConnectDeadline = std::chrono::seconds(10);
constexpr int kMaxRedos = 5;

// Set by SIGINT/SIGTERM in the parent: every loop stops, the run fails and
// the normal cleanup (children, temporary directory) still happens.
std::atomic<bool> g_interrupted{false};
extern "C" void OnStopSignal(int) { g_interrupted.store(true); }

// ---------------------------------------------------------------------------
// Modes and the temporary directory's layout.

// (a), (b), (c), and two diagnostic variants (--diagnose) that split the
// difference between (b) and (c): (b) plus gRPC's default health service
// (which RpcServer::Start used until it got a synchronous one: see
// bench/RESULTS.md), and (c) without any health service.
enum class Mode {
  kPlain = 0,
  kMtls = 1,
  kLayer = 2,
  kMtlsHealth = 3,
  kLayerNoHealth = 4
};
constexpr int kNumModes = 5;
constexpr std::array<Mode, 3> kMainModes = {Mode::kPlain, Mode::kMtls,
                                            Mode::kLayer};
constexpr std::array<Mode, 2> kDiagnosticModes = {Mode::kMtlsHealth,
                                                  Mode::kLayerNoHealth};
constexpr std::array<Mode, kNumModes> kAllModes = {
    Mode::kPlain, Mode::kMtls, Mode::kLayer, Mode::kMtlsHealth,
    Mode::kLayerNoHealth};
int Index(Mode m) { return static_cast<int>(m); }

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kPlain:
      return "plain";
    case Mode::kMtls:
      return "mtls";
    case Mode::kLayer:
      return "layer";
    case Mode::kMtlsHealth:
      return "mtls-health";
    case Mode::kLayerNoHealth:
      return "layer-nohealth";
  }
  return "?";
}

const char* ModeLabel(Mode m) {
  switch (m) {
    case Mode::kPlain:
      return "(a) gRPC, no TLS";
    case Mode::kMtls:
      return "(b) gRPC + mTLS";
    case Mode::kLayer:
      return "(c) common/rpc layer";
    case Mode::kMtlsHealth:
      return "(b+h) (b) + health service";
    case Mode::kLayerNoHealth:
      return "(c-h) (c) - health service";
  }
  return "?";
}

std::optional<Mode> ParseMode(absl::string_view s) {
  for (Mode m : kAllModes) {
    if (s == ModeName(m)) return m;
  }
  return std::nullopt;
}

struct Layout {
  explicit Layout(std::string r) : root(std::move(r)) {}
  std::string root;
  std::string StateDir() const { return root + "/state"; }
  std::string RuntimeDir() const { return root + "/run"; }  // (c)
  std::string Socket(Mode m) const {
    if (m == Mode::kLayer) {
      return absl::StrCat(RuntimeDir(), "/", kName, ".sock");
    }
    return absl::StrCat(root, "/", ModeName(m), ".sock");
  }
  std::string ReadyFile(Mode m) const {
    return absl::StrCat(root, "/ready-", ModeName(m));
  }
  std::string LogFile(Mode m) const {
    return absl::StrCat(root, "/server-", ModeName(m), ".log");
  }
  std::string DenialsFile(Mode m) const {
    return absl::StrCat(root, "/denials-", ModeName(m));
  }
  rpc::TlsFiles ServerTls() const {
    pki::IdentityPaths id = pki::ForService(StateDir(), kName);
    return rpc::TlsFiles{id.key_path, id.cert_path,
                         pki::TrustBundlePath(StateDir())};
  }
  rpc::TlsFiles ClientTls() const {
    pki::IdentityPaths id = pki::ForClient(StateDir(), kName);
    return rpc::TlsFiles{id.key_path, id.cert_path,
                         pki::TrustBundlePath(StateDir())};
  }
};

absl::Status WriteSmallFile(const std::string& path, absl::string_view data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", tmp));
  }
  return absl::OkStatus();
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t max_bytes) {
  return text.size() <= max_bytes ? text : text.substr(text.size() - max_bytes);
}

// ---------------------------------------------------------------------------
// Server side (a child process: rpc_bench --serve=MODE --root=DIR).

// Denials should never happen in this benchmark: they are counted, reported
// to the parent, and fail the run.
class CountingSink final : public audit::SecurityEventSink {
 public:
  void Record(const audit::SecurityEvent& event) override {
    if (count_.fetch_add(1) < 10) {
      fprintf(stderr, "rpc_bench server: security event %s by %s\n",
              event.action.c_str(), event.actor.c_str());
    }
  }
  uint64_t count() const { return count_.load(); }

 private:
  std::atomic<uint64_t> count_{0};
};

int ServeMain(Mode mode, const Layout& layout) {
  // Stop signals are taken by sigwait below, in this thread; blocked before
  // gRPC starts its threads so that they inherit the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  testing::EchoService echo;
  CountingSink sink;
  std::unique_ptr<grpc::Server> plain_server;
  std::unique_ptr<rpc::RpcServer> layer_server;
  // (c-h) only: the enforcement point, as RpcServer::Start builds it.
  rpc::MethodAccessTable table;
  rpc::CallerLimiter limiter(
      rpc::ServerOptions{}.max_concurrent_calls_per_caller);
  rpc::CallAuthorizer authorizer(kName, kTrustDomain, &table, &limiter, &sink,
                                 nullptr);
  if (mode != Mode::kLayer) {
    std::shared_ptr<grpc::ServerCredentials> creds =
        mode == Mode::kPlain ? grpc::InsecureServerCredentials()
                             : rpc::MakeServerCredentials(layout.ServerTls());
    grpc::ServerBuilder builder;
    if (mode == Mode::kMtlsHealth) {
      // gRPC's default health service on its own: a callback service in
      // 1.51, whose completion queue brings polling threads of its own.
      grpc::EnableDefaultHealthCheckService(true);
    }
    if (mode == Mode::kLayerNoHealth) {
      // Everything RpcServer::Start sets up except the health service.
      if (absl::Status s = table.AddService(EchoApi::service_full_name());
          !s.ok()) {
        fprintf(stderr, "rpc_bench server: %s\n", s.ToString().c_str());
        return 1;
      }
      creds->SetAuthMetadataProcessor(
          std::make_shared<rpc::AuthorizingProcessor>(&authorizer));
      rpc::ServerOptions defaults;
      builder.SetMaxReceiveMessageSize(
          static_cast<int>(defaults.max_message_bytes));
      builder.SetMaxSendMessageSize(
          static_cast<int>(defaults.max_message_bytes));
      grpc::ResourceQuota quota("rpc-bench");
      quota.SetMaxThreads(defaults.max_threads);
      builder.SetResourceQuota(quota);
      std::vector<std::unique_ptr<
          grpc::experimental::ServerInterceptorFactoryInterface>>
          interceptors;
      interceptors.push_back(
          std::make_unique<rpc::SlotReleaseInterceptorFactory>(&limiter));
      builder.experimental().SetInterceptorCreators(std::move(interceptors));
    }
    builder.AddListeningPort("unix:" + layout.Socket(mode), creds);
    builder.RegisterService(&echo);
    plain_server = builder.BuildAndStart();
    if (plain_server == nullptr) {
      fprintf(stderr, "rpc_bench server %s: cannot listen on %s\n",
              ModeName(mode), layout.Socket(mode).c_str());
      return 1;
    }
  } else {
    rpc::ServerOptions options;
    options.daemon = kName;
    options.trust_domain = kTrustDomain;
    options.runtime_dir = layout.RuntimeDir();
    options.tls = layout.ServerTls();
    absl::StatusOr<std::unique_ptr<rpc::RpcServer>> server =
        rpc::RpcServer::Start(options, {rpc::Serve<EchoApi>(&echo)}, &sink);
    if (!server.ok()) {
      fprintf(stderr, "rpc_bench server %s: %s\n", ModeName(mode),
              server.status().ToString().c_str());
      return 1;
    }
    layer_server = std::move(*server);
  }
  if (absl::Status s = WriteSmallFile(layout.ReadyFile(mode), "ready\n");
      !s.ok()) {
    fprintf(stderr, "rpc_bench server: %s\n", s.ToString().c_str());
    return 1;
  }

  int sig = 0;
  sigwait(&stop, &sig);
  if (plain_server != nullptr) {
    plain_server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::seconds(1));
  }
  if (layer_server != nullptr) layer_server->Shutdown(absl::Seconds(1));
  (void)WriteSmallFile(layout.DenialsFile(mode),
                       absl::StrCat(sink.count(), "\n"));
  return 0;
}

// ---------------------------------------------------------------------------
// Child processes, seen from the parent.

class Servers {
 public:
  explicit Servers(const Layout& layout) : layout_(layout) {}
  Servers(const Servers&) = delete;
  Servers& operator=(const Servers&) = delete;
  ~Servers() { (void)Stop(); }

  // fork + exec of /proc/self/exe; must run before gRPC is initialised here.
  absl::Status Spawn(Mode mode, const char* argv0) {
    std::string serve = absl::StrCat("--serve=", ModeName(mode));
    std::string root = absl::StrCat("--root=", layout_.root);
    std::string log = layout_.LogFile(mode);
    std::array<char*, 4> argv = {const_cast<char*>(argv0), serve.data(),
                                 root.data(), nullptr};
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
    if (pid == 0) {
      // Only async-signal-safe calls from here to exec.
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // a dying parent takes the server
      if (getppid() != parent) _exit(1);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    pids_[Index(mode)] = pid;
    spawned_.push_back(mode);
    return absl::OkStatus();
  }

  // Waits for every server's ready file; fails at once if one exits.
  absl::Status WaitReady(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    for (Mode mode : spawned_) {
      while (!std::filesystem::exists(layout_.ReadyFile(mode))) {
        if (g_interrupted.load()) return absl::CancelledError("interrupted");
        pid_t pid = pids_[Index(mode)];
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
          pids_[Index(mode)] = -1;
          return absl::UnavailableError(
              absl::StrCat("server ", ModeLabel(mode), " exited (status ",
                           status, ") before serving; its log:\n", Log(mode)));
        }
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(absl::StrCat(
              "server ", ModeLabel(mode), " did not start in ",
              absl::FormatDuration(timeout), "; its log:\n", Log(mode)));
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    return absl::OkStatus();
  }

  pid_t pid(Mode mode) const { return pids_[Index(mode)]; }

  std::string Log(Mode mode) const {
    return Tail(ReadWholeFile(layout_.LogFile(mode)), 4000);
  }

  // SIGTERM, then SIGKILL after a grace period. Fails when a server exited
  // abnormally or its sink recorded a denial.
  absl::Status Stop() {
    absl::Status result = absl::OkStatus();
    for (pid_t pid : pids_) {
      if (pid > 0) kill(pid, SIGTERM);
    }
    for (Mode mode : spawned_) {
      pid_t& pid = pids_[Index(mode)];
      if (pid <= 0) continue;
      int status = 0;
      absl::Time deadline = absl::Now() + absl::Seconds(5);
      pid_t r = 0;
      while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
             absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        result.Update(absl::InternalError(
            absl::StrCat("server ", ModeLabel(mode), " did not stop; killed")));
      } else if (r == pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        result.Update(absl::InternalError(
            absl::StrCat("server ", ModeLabel(mode), " ended with status ",
                         status, "; its log:\n", Log(mode))));
      }
      pid = -1;
      std::string denials = ReadWholeFile(layout_.DenialsFile(mode));
      uint64_t n = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(denials), &n) && n > 0) {
        result.Update(absl::InternalError(
            absl::StrCat("server ", ModeLabel(mode), " recorded ", n,
                         " security events (denials); its log:\n", Log(mode))));
      }
    }
    return result;
  }

 private:
  const Layout& layout_;
  std::array<pid_t, kNumModes> pids_ = {-1, -1, -1, -1, -1};
  std::vector<Mode> spawned_;
};

// Removes the temporary directory however the run ends.
class TempDir {
 public:
  static absl::StatusOr<std::unique_ptr<TempDir>> Create() {
    const char* base = getenv("TMPDIR");
    std::string templ = absl::StrCat(
        base != nullptr && *base != '\0' ? base : "/tmp", "/rpc-bench-XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) {
      return absl::ErrnoToStatus(errno, absl::StrCat("mkdtemp ", templ));
    }
    return std::unique_ptr<TempDir>(new TempDir(templ));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// ---------------------------------------------------------------------------
// Client side.

class Clients {
 public:
  Clients(const Layout& layout, identity::SpiffeId server_id)
      : layout_(layout), tls_(layout.ClientTls()), server_id_(server_id) {}

  // A new channel with its own connection (private subchannel pool), built
  // the way each mode's real users would build it.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(Mode mode) const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    rpc::ClientOptions options;
    options.trust_domain = kTrustDomain;
    options.runtime_dir = layout_.RuntimeDir();
    options.tls = tls_;
    options.private_connection = true;
    switch (mode) {
      case Mode::kPlain:
        return grpc::CreateCustomChannel("unix:" + layout_.Socket(mode),
                                         grpc::InsecureChannelCredentials(),
                                         args);
      case Mode::kMtls:
      case Mode::kMtlsHealth:
        return grpc::CreateCustomChannel(
            "unix:" + layout_.Socket(mode),
            rpc::MakeChannelCredentials(tls_, server_id_), args);
      case Mode::kLayer:
        return rpc::ChannelFactory(options).ForDaemon(kName);
      case Mode::kLayerNoHealth:
        return rpc::ChannelFactory(options).Connect(layout_.Socket(mode),
                                                    server_id_);
    }
    return absl::InvalidArgumentError("unknown mode");
  }

 private:
  const Layout& layout_;
  rpc::TlsFiles tls_;
  identity::SpiffeId server_id_;
};

// One blocking Echo call; checks the answer (text, and the caller the server
// saw: client/bench under mTLS, nobody without TLS).
absl::Status CallEcho(Mode mode, EchoApi::Stub& stub, const EchoRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  EchoReply reply;
  grpc::Status s = stub.Echo(&ctx, req, &reply);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(
        ModeLabel(mode), ": Echo failed: ", static_cast<int>(s.error_code()),
        " ", s.error_message()));
  }
  absl::string_view want_caller = mode == Mode::kPlain ? "" : kExpectedCaller;
  if (reply.text() != req.text() || reply.caller() != want_caller) {
    return absl::InternalError(absl::StrCat(
        ModeLabel(mode), ": unexpected reply text=\"", reply.text(),
        "\" caller=\"", reply.caller(), "\" (want \"", want_caller, "\")"));
  }
  return absl::OkStatus();
}

// Nearest-rank percentile of sorted values.
template <typename T>
T Percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return T{};
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct LoadResult {
  double p50_us = 0;
  double p99_us = 0;
  double calls_per_s = 0;
  uint64_t calls = 0;
  // CPU time per recorded call: the server process (all its threads) and
  // this process (the client threads and gRPC's own).
  double server_cpu_us = 0;
  double client_cpu_us = 0;
  // CPU the rest of the machine used meanwhile, in cores (0.5: half of one
  // core): a check that nothing else was running.
  double foreign_cores = 0;
};

// Busy CPU time of the whole machine (all cores), from /proc/stat.
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
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// `threads` threads, each with its own channel (own connection), issue
// blocking Echo calls back to back: `warmup` unrecorded, then `measure`
// recorded. Calls/s is the recorded calls over the recorded window.
absl::StatusOr<LoadResult> RunLoad(const Clients& clients, Mode mode,
                                   clockid_t server_clock, int threads,
                                   absl::Duration warmup,
                                   absl::Duration measure) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<EchoApi::Stub>> stubs;
  for (int i = 0; i < threads; ++i) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
        clients.NewChannel(mode);
    if (!ch.ok()) return ch.status();
    if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() +
                                 kConnectDeadline)) {
      return absl::UnavailableError(
          absl::StrCat(ModeLabel(mode), ": cannot connect"));
    }
    stubs.push_back(EchoApi::NewStub(*ch));
    channels.push_back(*std::move(ch));
  }

  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
  const Clock::time_point warm_end = start + absl::ToChronoNanoseconds(warmup);
  const Clock::time_point end = warm_end + absl::ToChronoNanoseconds(measure);
  const size_t expected =
      static_cast<size_t>(absl::ToDoubleSeconds(measure) * 40000) + 1024;

  std::atomic<bool> failed{false};
  std::vector<absl::Status> errors(threads);
  std::vector<std::vector<int64_t>> latencies(threads);
  std::vector<Clock::time_point> last_end(threads, warm_end);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      latencies[i].reserve(expected);
      EchoRequest req;
      req.set_text("x");
      std::this_thread::sleep_until(start);
      while (!failed.load(std::memory_order_relaxed) &&
             !g_interrupted.load(std::memory_order_relaxed)) {
        Clock::time_point t0 = Clock::now();
        if (t0 >= end) break;
        absl::Status s = CallEcho(mode, *stubs[i], req);
        Clock::time_point t1 = Clock::now();
        if (!s.ok()) {
          errors[i] = s;
          failed.store(true);
          break;
        }
        if (t0 >= warm_end) {
          latencies[i].push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
                  .count());
          last_end[i] = t1;
        }
      }
    });
  }
  std::this_thread::sleep_until(warm_end);
  const double server_cpu0 = CpuSeconds(server_clock);
  const double client_cpu0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double busy0 = MachineBusySeconds();
  const Clock::time_point busy_t0 = Clock::now();
  for (std::thread& t : workers) t.join();
  const double server_cpu = CpuSeconds(server_clock) - server_cpu0;
  const double client_cpu = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - client_cpu0;
  const double busy = MachineBusySeconds() - busy0;
  const double busy_window =
      std::chrono::duration<double>(Clock::now() - busy_t0).count();
  for (const absl::Status& s : errors) {
    if (!s.ok()) return s;
  }
  if (g_interrupted.load()) return absl::CancelledError("interrupted");

  std::vector<int64_t> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (all.empty()) return absl::InternalError("no calls were recorded");
  std::sort(all.begin(), all.end());
  Clock::time_point window_end =
      *std::max_element(last_end.begin(), last_end.end());
  double window_s =
      std::chrono::duration<double>(window_end - warm_end).count();
  LoadResult r;
  r.calls = all.size();
  r.p50_us = Percentile(all, 0.50) / 1000.0;
  r.p99_us = Percentile(all, 0.99) / 1000.0;
  r.calls_per_s = window_s > 0 ? all.size() / window_s : 0;
  r.server_cpu_us = server_cpu * 1e6 / all.size();
  r.client_cpu_us = client_cpu * 1e6 / all.size();
  r.foreign_cores =
      busy_window > 0
          ? std::max(0.0, busy - server_cpu - client_cpu) / busy_window
          : 0;
  return r;
}

struct HandshakeResult {
  double create_p50_us = 0;  // building credentials and channel
  double ready_p50_us = 0;   // connect + handshake, until READY
  double ready_p90_us = 0;
  double first_call_p50_us = 0;  // the first Echo on the new connection
  // CPU time of all three steps: this process, and the server.
  double client_cpu_p50_us = 0;
  double server_cpu_p50_us = 0;
};

// `n` fresh connections per mode, interleaved (abc, bca, cab, ...), each on
// a channel of its own: time to build the channel, time until it is READY
// (Unix-socket connect, HTTP/2 setup and, under mTLS, the TLS handshake), and
// the first call on it.
absl::StatusOr<std::array<HandshakeResult, 3>> RunHandshakes(
    const Clients& clients, const std::array<clockid_t, kNumModes>& servers,
    int n) {
  std::array<std::vector<double>, 3> create, ready, first, client_cpu,
      server_cpu;
  EchoRequest req;
  req.set_text("x");
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) {
      if (g_interrupted.load()) return absl::CancelledError("interrupted");
      Mode mode = kMainModes[(i + k) % 3];
      const double client0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
      const double server0 = CpuSeconds(servers[Index(mode)]);
      Clock::time_point t0 = Clock::now();
      absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
          clients.NewChannel(mode);
      if (!ch.ok()) return ch.status();
      Clock::time_point t1 = Clock::now();
      if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() +
                                   kConnectDeadline)) {
        return absl::UnavailableError(
            absl::StrCat(ModeLabel(mode), ": handshake ", i, " failed"));
      }
      Clock::time_point t2 = Clock::now();
      std::unique_ptr<EchoApi::Stub> stub = EchoApi::NewStub(*ch);
      if (absl::Status s = CallEcho(mode, *stub, req); !s.ok()) return s;
      Clock::time_point t3 = Clock::now();
      const double client1 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
      const double server1 = CpuSeconds(servers[Index(mode)]);
      auto us = [](Clock::duration d) {
        return std::chrono::duration<double, std::micro>(d).count();
      };
      int m = static_cast<int>(mode);
      create[m].push_back(us(t1 - t0));
      ready[m].push_back(us(t2 - t1));
      first[m].push_back(us(t3 - t2));
      client_cpu[m].push_back((client1 - client0) * 1e6);
      server_cpu[m].push_back((server1 - server0) * 1e6);
    }
  }
  std::array<HandshakeResult, 3> out;
  for (int m = 0; m < 3; ++m) {
    std::sort(ready[m].begin(), ready[m].end());
    out[m].create_p50_us = Median(create[m]);
    out[m].ready_p50_us = Median(ready[m]);
    out[m].ready_p90_us = Percentile(ready[m], 0.90);
    out[m].first_call_p50_us = Median(first[m]);
    out[m].client_cpu_p50_us = Median(client_cpu[m]);
    out[m].server_cpu_p50_us = Median(server_cpu[m]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Flags and report.

struct Flags {
  double seconds = 3;
  int rounds = 3;
  int handshakes = 200;
  double warmup = 0.5;
  std::vector<int> threads = {1, 4};
  bool diagnose = false;
  // A measurement during which other processes used more than this many
  // cores is repeated (up to kMaxRedos times); <= 0 never repeats.
  double max_other_load = 0.1;
  std::optional<Mode> serve;
  std::string root;
};

constexpr char kUsage[] =
    "usage: rpc_bench [--seconds S] [--rounds N] [--handshakes N] "
    "[--warmup S] [--threads 1,4] [--diagnose] [--max-other-load C]\n"
    "  --seconds     measured seconds per mode, thread count and round "
    "(default 3)\n"
    "  --rounds      interleaved rounds; the table shows their median "
    "(default 3)\n"
    "  --handshakes  fresh connections per mode (default 200)\n"
    "  --warmup      unrecorded seconds before each measurement (default "
    "0.5)\n"
    "  --threads     client thread counts (default 1,4)\n"
    "  --diagnose    also run (b+h) = (b) + gRPC's default health service and\n"
    "                (c-h) = (c) without it, to split the (c)/(b) difference\n"
    "  --max-other-load  repeat a measurement (up to 5 times) when other\n"
    "                processes used more than C cores meanwhile (default 0.1;\n"
    "                0: never)\n";

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      return absl::CancelledError("help");
    }
    if (name == "--diagnose" && !has_value) {
      f.diagnose = true;
      continue;
    }
    static constexpr std::array<absl::string_view, 8> kValued = {
        "--seconds", "--rounds", "--handshakes",     "--warmup",
        "--threads", "--serve",  "--max-other-load", "--root"};
    if (std::find(kValued.begin(), kValued.end(), name) == kValued.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      value = argv[++i];
    }
    bool ok = true;
    if (name == "--seconds") {
      ok = absl::SimpleAtod(value, &f.seconds) && f.seconds > 0;
    } else if (name == "--rounds") {
      ok = absl::SimpleAtoi(value, &f.rounds) && f.rounds > 0;
    } else if (name == "--handshakes") {
      ok = absl::SimpleAtoi(value, &f.handshakes) && f.handshakes > 0;
    } else if (name == "--warmup") {
      ok = absl::SimpleAtod(value, &f.warmup) && f.warmup >= 0;
    } else if (name == "--threads") {
      f.threads.clear();
      for (absl::string_view t : absl::StrSplit(value, ',')) {
        int n = 0;
        ok = ok && absl::SimpleAtoi(t, &n) && n > 0 && n <= 256;
        f.threads.push_back(n);
      }
    } else if (name == "--max-other-load") {
      ok = absl::SimpleAtod(value, &f.max_other_load);
    } else if (name == "--serve") {
      f.serve = ParseMode(value);
      ok = f.serve.has_value();
    } else if (name == "--root") {
      f.root = value;
      ok = !value.empty();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for ", name, ": \"", value, "\""));
    }
  }
  return f;
}

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

struct Cell {
  std::vector<double> p50, p99, cps, server_cpu, client_cpu;  // per round
};

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  std::vector<std::string> command;
  for (int i = 0; i < argc; ++i) command.push_back(ShellQuote(argv[i]));

  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto fail = [](const absl::Status& s) {
    fprintf(stderr, "rpc_bench: %s\n", s.ToString().c_str());
    return 1;
  };

  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create();
  if (!dir.ok()) return fail(dir.status());
  Layout layout((*dir)->path());

  pki::ProvisionRequest request;
  request.state_dir = layout.StateDir();
  request.trust_domain = kTrustDomain;
  request.services = {kName};
  request.clients = {kName};
  absl::StatusOr<pki::ProvisionResult> provisioned =
      pki::ProvisionDevice(request);
  if (!provisioned.ok()) return fail(provisioned.status());
  absl::StatusOr<identity::SpiffeId> server_id =
      identity::SpiffeId::ForService(kTrustDomain, kName);
  if (!server_id.ok()) return fail(server_id.status());

  // Declared after `dir`, so the servers stop before the directory goes.
  std::vector<Mode> modes(kMainModes.begin(), kMainModes.end());
  if (flags.diagnose) {
    modes.insert(modes.end(), kDiagnosticModes.begin(), kDiagnosticModes.end());
  }
  Servers servers(layout);
  for (Mode mode : modes) {
    if (absl::Status s = servers.Spawn(mode, argv[0]); !s.ok()) return fail(s);
  }
  if (absl::Status s = servers.WaitReady(absl::Seconds(30)); !s.ok()) {
    return fail(s);
  }
  std::array<clockid_t, kNumModes> server_clocks{};
  for (Mode mode : modes) {
    absl::StatusOr<clockid_t> clock = ProcessCpuClock(servers.pid(mode));
    if (!clock.ok()) return fail(clock.status());
    server_clocks[Index(mode)] = *clock;
    fprintf(stderr, "server %s: pid %d\n", ModeLabel(mode), servers.pid(mode));
  }
  fprintf(stderr, "client: pid %d\n", getpid());

  // gRPC starts here, in the parent, after the last fork.
  const absl::Duration warmup = absl::Seconds(flags.warmup);
  const absl::Duration measure = absl::Seconds(flags.seconds);
  Clients clients(layout, *server_id);
  {
    EchoRequest req;
    req.set_text("x");
    for (Mode mode : modes) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
          clients.NewChannel(mode);
      if (!ch.ok()) return fail(ch.status());
      std::unique_ptr<EchoApi::Stub> stub = EchoApi::NewStub(*ch);
      if (absl::Status s = CallEcho(mode, *stub, req); !s.ok()) return fail(s);
    }
  }

  // cells[threads index][mode]
  std::vector<std::array<Cell, kNumModes>> cells(flags.threads.size());
  double max_foreign = 0;
  int redos = 0;
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
      // The order rotates each round (abc, bca, cab) so that no mode always
      // runs first or right after another.
      for (size_t k = 0; k < modes.size(); ++k) {
        Mode mode = modes[(round + k) % modes.size()];
        absl::StatusOr<LoadResult> r =
            RunLoad(clients, mode, server_clocks[Index(mode)],
                    flags.threads[ti], warmup, measure);
        for (int redo = 0;
             r.ok() && flags.max_other_load > 0 &&
             r->foreign_cores > flags.max_other_load && redo < kMaxRedos;
             ++redo) {
          fprintf(stderr,
                  "round %d/%d threads=%d %-28s other processes used %.2f "
                  "cores: measuring again\n",
                  round + 1, flags.rounds, flags.threads[ti], ModeLabel(mode),
                  r->foreign_cores);
          ++redos;
          absl::SleepFor(absl::Seconds(2));
          r = RunLoad(clients, mode, server_clocks[Index(mode)],
                      flags.threads[ti], warmup, measure);
        }
        if (!r.ok()) return fail(r.status());
        Cell& c = cells[ti][Index(mode)];
        c.p50.push_back(r->p50_us);
        c.p99.push_back(r->p99_us);
        c.cps.push_back(r->calls_per_s);
        c.server_cpu.push_back(r->server_cpu_us);
        c.client_cpu.push_back(r->client_cpu_us);
        fprintf(stderr,
                "round %d/%d threads=%d %-28s p50 %7.1f us  p99 %7.1f us  "
                "%8.0f calls/s  cpu/call server %5.1f us client %5.1f us  "
                "(%llu calls; other processes %.2f cores)\n",
                round + 1, flags.rounds, flags.threads[ti], ModeLabel(mode),
                r->p50_us, r->p99_us, r->calls_per_s, r->server_cpu_us,
                r->client_cpu_us, static_cast<unsigned long long>(r->calls),
                r->foreign_cores);
        max_foreign = std::max(max_foreign, r->foreign_cores);
      }
    }
  }

  absl::StatusOr<std::array<HandshakeResult, 3>> hs =
      RunHandshakes(clients, server_clocks, flags.handshakes);
  if (!hs.ok()) return fail(hs.status());
  for (Mode mode : kMainModes) {
    const HandshakeResult& h = (*hs)[Index(mode)];
    fprintf(stderr,
            "handshakes %-22s create p50 %7.1f us  READY p50 %7.1f us  p90 "
            "%7.1f us  first call p50 %7.1f us  cpu client %7.1f us server "
            "%7.1f us\n",
            ModeLabel(mode), h.create_p50_us, h.ready_p50_us, h.ready_p90_us,
            h.first_call_p50_us, h.client_cpu_p50_us, h.server_cpu_p50_us);
  }

  // The servers must have stopped cleanly, without a single denial, for the
  // table to count.
  if (absl::Status s = servers.Stop(); !s.ok()) return fail(s);

  std::string out;
  absl::StrAppend(&out, "### Unary Echo over a Unix socket\n\n");
  absl::StrAppend(&out, "- command: `", absl::StrJoin(command, " "), "`\n");
  absl::StrAppend(
      &out, "- date: ",
      absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()),
      "\n");
  absl::StrAppend(&out, "- machine: ", MachineLine(), "\n");
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: %d interleaved rounds; per round, mode and thread count "
          "%.1f s warm-up then %.1f s of back-to-back blocking calls "
          "(request text \"x\"); each client thread has its own channel and "
          "connection; figures are the median across rounds\n",
          flags.rounds, flags.warmup, flags.seconds));
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- quiet check: other processes used at most %.2f cores during any "
          "kept measurement (/proc/stat busy time minus the benchmark's "
          "own); %d measurement(s) repeated because they used more than "
          "%.2f\n\n",
          max_foreign, redos, flags.max_other_load));
  absl::StrAppend(&out,
                  "| mode | threads | p50 µs | p99 µs | calls/s | server CPU "
                  "µs/call | client CPU µs/call |\n"
                  "|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Mode mode : modes) {
      const Cell& c = cells[ti][Index(mode)];
      absl::StrAppend(
          &out,
          absl::StrFormat("| %s | %d | %.1f | %.1f | %.0f | %.1f | %.1f |\n",
                          ModeLabel(mode), flags.threads[ti], Median(c.p50),
                          Median(c.p99), Median(c.cps), Median(c.server_cpu),
                          Median(c.client_cpu)));
    }
  }

  absl::StrAppend(
      &out,
      absl::StrFormat(
          "\n### New connection (%d per mode, interleaved)\n\n"
          "READY: from the first connection attempt until the channel is "
          "READY (Unix-socket connect, HTTP/2 setup and, in (b) and (c), the "
          "TLS 1.3 mutual handshake). Channel creation: building the "
          "credentials and the channel, before any I/O. First call: the first "
          "Echo on the new connection. CPU: what the three steps cost the "
          "client process and the server process.\n\n",
          flags.handshakes));
  absl::StrAppend(&out,
                  "| mode | READY p50 µs | READY p90 µs | channel creation "
                  "p50 µs | first call p50 µs | client CPU p50 µs | server "
                  "CPU p50 µs |\n"
                  "|---|---:|---:|---:|---:|---:|---:|\n");
  for (Mode mode : kMainModes) {
    const HandshakeResult& h = (*hs)[Index(mode)];
    absl::StrAppend(
        &out,
        absl::StrFormat("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
                        ModeLabel(mode), h.ready_p50_us, h.ready_p90_us,
                        h.create_p50_us, h.first_call_p50_us,
                        h.client_cpu_p50_us, h.server_cpu_p50_us));
  }

  absl::StrAppend(&out,
                  "\n### Ratios\n\n"
                  "From the medians above; \"per round\" lists the same ratio "
                  "within each round, to show the noise.\n\n"
                  "| ratio | threads | value | per round | target | result |\n"
                  "|---|---:|---:|---|---|---|\n");
  auto per_round = [](const std::vector<double>& num,
                      const std::vector<double>& den) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < num.size() && i < den.size(); ++i) {
      parts.push_back(
          absl::StrFormat("%.2f", den[i] > 0 ? num[i] / den[i] : 0));
    }
    return absl::StrJoin(parts, ", ");
  };
  auto ratio_row = [&](absl::string_view name, int threads,
                       const std::vector<double>& num,
                       const std::vector<double>& den, absl::string_view target,
                       std::optional<bool> pass) {
    double d = Median(den);
    double v = d > 0 ? Median(num) / d : 0;
    absl::StrAppend(&out,
                    absl::StrFormat("| %s | %d | %.3f | %s | %s | %s |\n", name,
                                    threads, v, per_round(num, den), target,
                                    !pass.has_value() ? "(context)"
                                    : *pass           ? "PASS"
                                                      : "MISS"));
  };
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const Cell& a = cells[ti][Index(Mode::kPlain)];
    const Cell& b = cells[ti][Index(Mode::kMtls)];
    const Cell& c = cells[ti][Index(Mode::kLayer)];
    int t = flags.threads[ti];
    double p50_ratio = Median(c.p50) / Median(b.p50);
    double cps_ratio = Median(c.cps) / Median(b.cps);
    ratio_row("(c)/(b) p50 latency", t, c.p50, b.p50, "≤ 1.15",
              p50_ratio <= 1.15);
    ratio_row("(c)/(b) calls/s", t, c.cps, b.cps, "≥ 0.85", cps_ratio >= 0.85);
    ratio_row("(c)/(b) server CPU per call", t, c.server_cpu, b.server_cpu, "",
              std::nullopt);
    ratio_row("(c)/(b) client CPU per call", t, c.client_cpu, b.client_cpu, "",
              std::nullopt);
    ratio_row("(b)/(a) p50 latency", t, b.p50, a.p50, "", std::nullopt);
    ratio_row("(b)/(a) calls/s", t, b.cps, a.cps, "", std::nullopt);
  }
  if (flags.diagnose) {
    absl::StrAppend(
        &out,
        "\n### Diagnosis: what (c) adds to (b)\n\n"
        "(b+h) is (b) plus gRPC's default health service (a callback "
        "service: its completion queue brings polling threads of its own); "
        "(c-h) is everything RpcServer::Start sets up (authorization "
        "processor, slot-release interceptor, resource quota, message "
        "limits) except the health service, with the layer's client. Each "
        "cell is variant/(b), median across rounds.\n\n"
        "| variant / (b) | threads | p50 latency | calls/s | server CPU per "
        "call | client CPU per call |\n"
        "|---|---:|---:|---:|---:|---:|\n");
    for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
      const Cell& b = cells[ti][Index(Mode::kMtls)];
      for (Mode mode :
           {Mode::kMtlsHealth, Mode::kLayerNoHealth, Mode::kLayer}) {
        const Cell& v = cells[ti][Index(mode)];
        auto r = [](const std::vector<double>& num,
                    const std::vector<double>& den) {
          double d = Median(den);
          return d > 0 ? Median(num) / d : 0;
        };
        absl::StrAppend(
            &out,
            absl::StrFormat("| %s | %d | %.2f | %.2f | %.2f | %.2f |\n",
                            ModeLabel(mode), flags.threads[ti], r(v.p50, b.p50),
                            r(v.cps, b.cps), r(v.server_cpu, b.server_cpu),
                            r(v.client_cpu, b.client_cpu)));
      }
    }
  }
  fputs(out.c_str(), stdout);
  fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    if (absl::IsCancelled(flags.status())) {
      fputs(kUsage, stdout);
      return 0;
    }
    fprintf(stderr, "rpc_bench: %s\n%s",
            std::string(flags.status().message()).c_str(), kUsage);
    return 2;
  }
  if (flags->serve.has_value()) {
    if (flags->root.empty()) {
      fprintf(stderr, "rpc_bench: --serve needs --root\n");
      return 2;
    }
    return ServeMain(*flags->serve, Layout(flags->root));
  }
  return RunBenchmark(*flags, argc, argv);
}
