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
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_flags.h"
#include "bench/bench_support.h"
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

using EchoApi = rustiq::test::v1::Echo;
using rustiq::test::v1::EchoReply;
using rustiq::test::v1::EchoRequest;

constexpr char kTrustDomain[] = "bench-device";
constexpr char kName[] = "bench";  // svc/bench serves, client/bench calls
constexpr char kExpectedCaller[] = "client/bench";

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
    absl::StatusOr<pid_t> pid =
        SpawnChild("/proc/self/exe",
                   {argv0, absl::StrCat("--serve=", ModeName(mode)),
                    absl::StrCat("--root=", layout_.root)},
                   layout_.LogFile(mode));
    if (!pid.ok()) return pid.status();
    pids_[Index(mode)] = *pid;
    spawned_.push_back(mode);
    return absl::OkStatus();
  }

  // Waits for every server's ready file; fails at once if one exits.
  absl::Status WaitReady(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    for (Mode mode : spawned_) {
      while (!std::filesystem::exists(layout_.ReadyFile(mode))) {
        if (Interrupted()) return absl::CancelledError("interrupted");
        if (absl::Status s = CheckRunning(&pids_[Index(mode)], Who(mode),
                                          layout_.LogFile(mode));
            !s.ok()) {
          return s;
        }
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(absl::StrCat(
              Who(mode), " did not start in ", absl::FormatDuration(timeout),
              "; its log:\n", Log(mode)));
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
      result.Update(ReapChild(pid, Who(mode), layout_.LogFile(mode)));
      pid = -1;
      std::string denials = ReadWholeFile(layout_.DenialsFile(mode));
      uint64_t n = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(denials), &n) && n > 0) {
        result.Update(absl::InternalError(
            absl::StrCat(Who(mode), " recorded ", n,
                         " security events (denials); its log:\n", Log(mode))));
      }
    }
    return result;
  }

 private:
  static std::string Who(Mode mode) {
    return absl::StrCat("server ", ModeLabel(mode));
  }

  const Layout& layout_;
  std::array<pid_t, kNumModes> pids_ = {-1, -1, -1, -1, -1};
  std::vector<Mode> spawned_;
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
  EchoReply reply;
  if (absl::Status s = CallUnary(absl::StrCat(ModeLabel(mode), ": Echo"), &stub,
                                 &EchoApi::Stub::Echo, req, &reply);
      !s.ok()) {
    return s;
  }
  absl::string_view want_caller = mode == Mode::kPlain ? "" : kExpectedCaller;
  if (reply.text() != req.text() || reply.caller() != want_caller) {
    return absl::InternalError(absl::StrCat(
        ModeLabel(mode), ": unexpected reply text=\"", reply.text(),
        "\" caller=\"", reply.caller(), "\" (want \"", want_caller, "\")"));
  }
  return absl::OkStatus();
}

// CallEcho back to back on a channel of its own.
class EchoWorker final : public StubWorker<EchoApi> {
 public:
  EchoWorker(std::shared_ptr<grpc::Channel> ch, Mode mode)
      : StubWorker(std::move(ch)), mode_(mode) {
    req_.set_text("x");
  }
  absl::Status Call(bool) override { return CallEcho(mode_, *stub(), req_); }

 private:
  Mode mode_;
  EchoRequest req_;
};

// `threads` threads, each with its own channel (own connection), issue
// blocking Echo calls back to back: `warmup` unrecorded, then `measure`
// recorded. Calls/s is the recorded calls over the recorded window.
absl::StatusOr<CallFigures> MeasureEcho(const Clients& clients, Mode mode,
                                        clockid_t server_clock, int threads,
                                        absl::Duration warmup,
                                        absl::Duration measure) {
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
        clients.NewChannel(mode);
    if (!ch.ok()) return ch.status();
    if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() +
                                 kConnectDeadline)) {
      return absl::UnavailableError(
          absl::StrCat(ModeLabel(mode), ": cannot connect"));
    }
    workers.push_back(std::make_unique<EchoWorker>(*std::move(ch), mode));
  }
  absl::StatusOr<LoadResult> load = RunLoad(
      workers,
      {.warmup = warmup, .measure = measure, .daemon_clocks = {server_clock}});
  if (!load.ok()) return load.status();
  return PerCall(*load, load->daemon_cpu_s[0]);
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
      if (Interrupted()) return absl::CancelledError("interrupted");
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

struct Flags : RunFlags {
  Flags() { seconds = 3; }
  int handshakes = 200;
  bool diagnose = false;
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
  FlagParser parser;
  AddRunFlags(&parser, &f, 256);
  parser.Switch("--diagnose", &f.diagnose);
  parser.Valued("--handshakes", [&f](const std::string& v) {
    return absl::SimpleAtoi(v, &f.handshakes) && f.handshakes > 0;
  });
  parser.Valued("--serve", [&f](const std::string& v) {
    f.serve = ParseMode(v);
    return f.serve.has_value();
  });
  parser.NonEmpty("--root", &f.root);
  if (absl::Status s = parser.Parse(argc, argv); !s.ok()) return s;
  return f;
}

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  const std::string command = CommandLine(argc, argv);
  InstallStopSignals();
  auto fail = [](const absl::Status& s) { return RunFailed("rpc_bench", s); };

  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("rpc-bench");
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
  std::vector<std::array<CallCell, kNumModes>> cells(flags.threads.size());
  QuietCheck quiet(flags.max_other_load);
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
      const int threads = flags.threads[ti];
      // The order rotates each round (abc, bca, cab) so that no mode always
      // runs first or right after another.
      for (Mode mode : Rotated(modes, round)) {
        absl::StatusOr<CallFigures> r = quiet.Run(
            [&] {
              return MeasureEcho(clients, mode, server_clocks[Index(mode)],
                                 threads, warmup, measure);
            },
            [&](double cores) {
              fprintf(stderr,
                      "round %d/%d threads=%d %-28s other processes used %.2f "
                      "cores: measuring again\n",
                      round + 1, flags.rounds, threads, ModeLabel(mode), cores);
            });
        if (!r.ok()) return fail(r.status());
        cells[ti][Index(mode)].Add(*r);
        fprintf(stderr,
                "round %d/%d threads=%d %-28s p50 %7.1f us  p99 %7.1f us  "
                "%8.0f calls/s  cpu/call server %5.1f us client %5.1f us  "
                "(%llu calls; other processes %.2f cores)\n",
                round + 1, flags.rounds, threads, ModeLabel(mode), r->p50_us,
                r->p99_us, r->calls_per_s, r->server_cpu_us, r->client_cpu_us,
                static_cast<unsigned long long>(r->calls), r->foreign_cores);
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

  std::string out = ReportHead("Unary Echo over a Unix socket", command);
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: %d interleaved rounds; per round, mode and thread count "
          "%.1f s warm-up then %.1f s of back-to-back blocking calls "
          "(request text \"x\"); each client thread has its own channel and "
          "connection; figures are the median across rounds\n",
          flags.rounds, flags.warmup, flags.seconds));
  absl::StrAppend(&out, quiet.Summary("the benchmark's own"), "; ",
                  quiet.Repeats(), "\n\n", CallTableHead("mode"));
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Mode mode : modes) {
      absl::StrAppend(&out, CallTableRow(ModeLabel(mode), flags.threads[ti],
                                         cells[ti][Index(mode)]));
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

  RatioTable ratios("rpc_bench");
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const CallCell& a = cells[ti][Index(Mode::kPlain)];
    const CallCell& b = cells[ti][Index(Mode::kMtls)];
    const CallCell& c = cells[ti][Index(Mode::kLayer)];
    int t = flags.threads[ti];
    ratios.AddRatioAtMost("(c)/(b) p50 latency", "layer/mtls-p50", t, c.p50,
                          b.p50, 1.15);
    ratios.AddRatio("(c)/(b) calls/s", "layer/mtls-calls", t, c.cps, b.cps,
                    0.85);
    ratios.AddRatio("(c)/(b) server CPU per call", "layer/mtls-server-cpu", t,
                    c.server_cpu, b.server_cpu, 0);
    ratios.AddRatio("(c)/(b) client CPU per call", "layer/mtls-client-cpu", t,
                    c.client_cpu, b.client_cpu, 0);
    ratios.AddRatio("(b)/(a) p50 latency", "mtls/plain-p50", t, b.p50, a.p50,
                    0);
    ratios.AddRatio("(b)/(a) calls/s", "mtls/plain-calls", t, b.cps, a.cps, 0);
  }
  absl::StrAppend(&out, ratios.Section("Ratios",
                                       "From the medians above; \"per round\" "
                                       "lists the same ratio within each "
                                       "round, to show the noise."));
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
      const CallCell& b = cells[ti][Index(Mode::kMtls)];
      for (Mode mode :
           {Mode::kMtlsHealth, Mode::kLayerNoHealth, Mode::kLayer}) {
        const CallCell& v = cells[ti][Index(mode)];
        absl::StrAppend(
            &out, absl::StrFormat("| %s | %d | %.2f | %.2f | %.2f | %.2f |\n",
                                  ModeLabel(mode), flags.threads[ti],
                                  MedianRatio(v.p50, b.p50),
                                  MedianRatio(v.cps, b.cps),
                                  MedianRatio(v.server_cpu, b.server_cpu),
                                  MedianRatio(v.client_cpu, b.client_cpu)));
      }
    }
  }
  PrintReport(out);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) return UsageExit("rpc_bench", flags.status(), kUsage);
  if (flags->serve.has_value()) {
    if (flags->root.empty()) {
      fprintf(stderr, "rpc_bench: --serve needs --root\n");
      return 2;
    }
    return ServeMain(*flags->serve, Layout(flags->root));
  }
  return RunBenchmark(*flags, argc, argv);
}
