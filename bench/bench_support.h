// What the benchmarks that drive real daemons share (keyd_bench,
// eventd_bench): a throw-away device provisioned through keyd under a
// temporary directory, the stack's daemons started from this build as child
// processes (confined as they confine themselves), the measurement loop
// (client threads with their own connections, warm-up then a measured
// window, nearest-rank percentiles, CPU time of this process and of the
// daemons, and the quiet check: what the rest of the machine used
// meanwhile, from /proc/stat), and the pieces of the report (command line,
// machine line, ratios table with targets).
#ifndef RUSTIQ_BENCH_BENCH_SUPPORT_H_
#define RUSTIQ_BENCH_BENCH_SUPPORT_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/config/config.h"

namespace rustiq::bench {

using Clock = std::chrono::steady_clock;

inline constexpr auto kCallDeadline = std::chrono::seconds(10);
inline constexpr auto kConnectDeadline = std::chrono::seconds(10);
// A measurement is repeated at most this often when the machine was busy.
inline constexpr int kMaxRedos = 5;

// SIGINT and SIGTERM set a flag the loops check (the run then fails).
void InstallStopSignals();
bool Interrupted();

// ---------------------------------------------------------------------------
// Small helpers.

std::string ReadWholeFile(const std::string& path);
std::string Tail(const std::string& text, size_t max_bytes);
std::string GrpcError(absl::string_view what, const grpc::Status& s);
void SetDeadline(grpc::ClientContext* ctx);

// Nearest-rank percentile of sorted values.
template <typename T>
T Percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return T{};
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double Median(std::vector<double> v);

// CPU time of the calling thread, in µs.
double ThreadCpuMicros();
// The machine's busy time (all CPUs) from /proc/stat, in seconds.
double MachineBusySeconds();
absl::StatusOr<clockid_t> ProcessCpuClock(pid_t pid);
double CpuSeconds(clockid_t clock);

// ---------------------------------------------------------------------------
// The device and the daemons.

// Removes the temporary directory however the run ends.
class TempDir {
 public:
  // $TMPDIR (or /tmp) / <prefix>-XXXXXX
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(
      absl::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Leaves the directory in place (for inspection).
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

struct DeviceSpec {
  std::string device_id;
  std::vector<std::string> services;  // identities to issue: svc/<name>
  std::vector<std::string> clients;   // client/<name>
  // Changes to the shipped defaults, before the configuration is written.
  std::function<void(config::StackConfig*)> customize;
};

// Writes the device's configuration under `root` (etc, state, run) and
// provisions it through keyd (keyd::ProvisionThroughKeyd: the device CA
// inside keyd's store); identities live 24 hours.
absl::StatusOr<config::StackConfig> ProvisionDevice(const std::string& root,
                                                    const DeviceSpec& spec);

struct Daemon {
  std::string name;  // "keyd", "eventd", "testserver": its socket's name
  std::string binary;
  std::string log_path;  // empty: <root>/<name>.log
  pid_t pid = -1;
  std::vector<std::string> extra_args;  // after --config FILE
};

// The daemons of one run. Spawn() forks and execs (the child makes only
// async-signal-safe calls before exec), so it may run before or after gRPC
// is initialised in this process.
class Daemons {
 public:
  // `build_targets`: what the error for a missing binary says to build.
  // `health_caller`: the service identity WaitServing() checks health as.
  Daemons(const config::StackConfig& cfg, std::string build_targets,
          std::string health_caller);
  Daemons(const Daemons&) = delete;
  Daemons& operator=(const Daemons&) = delete;
  ~Daemons();

  // Starts `d` with this device's configuration, its stdout and stderr in
  // its log_path (<root>/<name>.log unless set). `d` must outlive its stop.
  absl::Status Spawn(Daemon* d, const std::string& root);
  // Waits until every running daemon answers a health Check.
  absl::Status WaitServing(absl::Duration timeout);
  // SIGTERM, then SIGKILL after a grace period. Fails when a daemon exited
  // abnormally or recorded a denial. Stop() stops all of them at once,
  // StopOne() only `d`.
  absl::Status Stop();
  absl::Status StopOne(Daemon* d);

  static std::string Log(const Daemon& d);

 private:
  absl::Status WaitStopped(Daemon* d);

  const config::StackConfig& config_;
  const std::string build_targets_;
  const std::string health_caller_;
  std::vector<Daemon*> daemons_;
};

// What /proc says of a daemon's confinement (Landlock leaves no trace there):
// "CapEff 0000000000000000, NoNewPrivs 1, Seccomp 2".
std::string ConfinementOf(pid_t pid);

// A channel of its own (its own connection) to `daemon` as svc/<caller>,
// connected.
absl::StatusOr<std::shared_ptr<grpc::Channel>> PrivateChannel(
    const config::StackConfig& cfg, absl::string_view caller,
    absl::string_view daemon);

// ---------------------------------------------------------------------------
// The load: per client thread a Worker, each with its own connection.

// The part of a call a worker timed itself (self-timed loads).
struct OwnTiming {
  int64_t wall_ns = 0;
  double cpu_us = 0;  // this thread's CPU time
};

class Worker {
 public:
  virtual ~Worker() = default;
  // One operation; checks its result. With `verify`, also checks what the
  // timed calls do not (a signature verified, a proof checked, ...).
  virtual absl::Status Call(bool verify) = 0;
  // For self-timed loads, what the last Call timed.
  virtual OwnTiming LastTiming() const { return {}; }
};

// Echo("x") on rustiq-testserver: the common/rpc layer's plain mTLS unary
// call. Checks the text and that the server saw `expected_caller`.
std::unique_ptr<Worker> NewEchoWorker(std::shared_ptr<grpc::Channel> channel,
                                      std::string expected_caller);

struct LoadOptions {
  absl::Duration warmup;
  absl::Duration measure;
  // Latency and CPU from each Call's LastTiming(), not the whole call.
  bool self_timed = false;
  // The daemons' CPU clocks: their CPU is measured, and is not counted as
  // other load.
  std::vector<clockid_t> daemon_clocks;
};

struct LoadResult {
  std::vector<int64_t> latencies_ns;  // sorted, one per recorded call
  double p50_us = 0;
  double p99_us = 0;
  double calls_per_s = 0;
  uint64_t calls = 0;
  double window_s = 0;  // from the end of warm-up to the last recorded call
  // CPU seconds during the measured window: each daemon (as
  // daemon_clocks), this process (all threads); for self-timed loads
  // `own_cpu_us` is the sum of what the calls timed.
  std::vector<double> daemon_cpu_s;
  double client_cpu_s = 0;
  double own_cpu_us = 0;
  // CPU the rest of the machine used meanwhile, in cores.
  double foreign_cores = 0;
};

// One thread per worker runs Call(false) back to back: `warmup`
// unrecorded, then `measure` recorded. Fails on the first failed call.
absl::StatusOr<LoadResult> RunLoad(
    const std::vector<std::unique_ptr<Worker>>& workers,
    const LoadOptions& options);

// The machine's busy time minus the given processes' over a window: what
// the quiet check counts for work that is not a RunLoad.
class ForeignLoad {
 public:
  explicit ForeignLoad(std::vector<clockid_t> clocks);
  // Starts the window (again).
  void Start();
  // Other processes' load since Start(), in cores.
  double Cores() const;

 private:
  std::vector<clockid_t> clocks_;
  double own0_ = 0;
  double busy0_ = 0;
  Clock::time_point t0_;
};

// ---------------------------------------------------------------------------
// The report.

// `s` quoted for a POSIX shell where needed.
std::string ShellQuote(absl::string_view s);
// The command line, each argument quoted as needed.
std::string CommandLine(int argc, char** argv);
// "2 CPUs (AMD EPYC ...), Debian 12.11, Linux ..., gRPC 1.51.1, OpenSSL ..."
std::string MachineLine();
// "2026-12-01 22:24 UTC", now.
std::string DateLine();

// Rows of a ratios table:
//   | ratio | threads | value | per round | target | result |
// and one machine-readable line per row, "<tool> ratio=<key> ...".
class RatioTable {
 public:
  explicit RatioTable(std::string tool) : tool_(std::move(tool)) {}

  // median(num) / median(den), with the same ratio within each round.
  // `min_target` > 0 makes it a target (≥), PASS or MISS.
  void AddRatio(absl::string_view label, absl::string_view key, int threads,
                const std::vector<double>& num, const std::vector<double>& den,
                double min_target);
  // A figure against an absolute bound: `value`, the median of
  // `per_round`, shown with `decimals` and `unit`; passes when value < bound
  // (`below`) or value >= bound.
  void AddTarget(absl::string_view label, absl::string_view key, int threads,
                 const std::vector<double>& per_round, int decimals,
                 absl::string_view unit, bool below, double bound);

  bool empty() const { return rows_.empty(); }
  const std::string& rows() const { return rows_; }
  const std::vector<std::string>& machine_lines() const { return machine_; }

  // "1.02, 0.98, 1.10": num[i] / den[i].
  static std::string PerRound(const std::vector<double>& num,
                              const std::vector<double>& den);

 private:
  std::string tool_;
  std::string rows_;
  std::vector<std::string> machine_;
};

}  // namespace rustiq::bench

#endif  // RUSTIQ_BENCH_BENCH_SUPPORT_H_
