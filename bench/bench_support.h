// What the benchmarks share (rpc_bench, keyd_bench, eventd_bench): child
// processes (forked and exec'd, reaped), for those that drive real daemons a
// throw-away device provisioned through keyd under a temporary directory and
// the stack's daemons started from this build (confined as they confine
// themselves), the measurement loop (client threads with their own
// connections, warm-up then a measured window, nearest-rank percentiles, CPU
// time of this process and of the daemons, and the quiet check: what the rest
// of the machine used meanwhile, from /proc/stat, a measurement repeated while
// it was busy), and the pieces of the report (command line, machine line,
// ratios table with targets, machine-readable lines). The flags they share
// are in bench/bench_flags.h.
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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/rpc/client.h"

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

// One unary call, `stub`->`method`(request, response), with kCallDeadline; a
// failed call is Unavailable, "<what> failed: <code> <message>".
template <typename Stub, typename Request, typename Response>
absl::Status CallUnary(absl::string_view what, Stub* stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                    const Request&, Response*),
                       const Request& request, Response* response) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  grpc::Status s = (stub->*method)(&ctx, request, response);
  if (!s.ok()) return absl::UnavailableError(GrpcError(what, s));
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

double Median(std::vector<double> v);
// median(num) / median(den); 0 when median(den) is not positive.
double MedianRatio(const std::vector<double>& num,
                   const std::vector<double>& den);

// `items` rotated by `round`, so that over the rounds no item always runs
// first or right after the same other one.
template <typename T>
std::vector<T> Rotated(const std::vector<T>& items, int round) {
  std::vector<T> out;
  for (size_t k = 0; k < items.size(); ++k) {
    out.push_back(items[(static_cast<size_t>(round) + k) % items.size()]);
  }
  return out;
}

// CPU time of the calling thread, in µs.
double ThreadCpuMicros();
// The machine's busy time (all CPUs) from /proc/stat, in seconds.
double MachineBusySeconds();
absl::StatusOr<clockid_t> ProcessCpuClock(pid_t pid);
double CpuSeconds(clockid_t clock);

// ---------------------------------------------------------------------------
// Child processes.

// Forks and execs `path` with `args` (args[0] included), its stdout and
// stderr in `log_path`. The child makes only async-signal-safe calls before
// exec and is sent SIGTERM when this process dies.
absl::StatusOr<pid_t> SpawnChild(const std::string& path,
                                 std::vector<std::string> args,
                                 const std::string& log_path);
// Fails, and sets *pid to -1, when child *pid has exited (before serving):
// "<who> exited (status N) before serving; its log:\n<its log's tail>".
absl::Status CheckRunning(pid_t* pid, absl::string_view who,
                          const std::string& log_path);
// Waits up to 5 s for child `pid` (sent SIGTERM) to exit, then kills it.
// Fails when it had to be killed or ended with a status other than 0.
absl::Status ReapChild(pid_t pid, absl::string_view who,
                       const std::string& log_path);

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
// Prints "rustiq-<name>: pid N (<confinement>)" to stderr and returns the
// confinement.
std::string AnnounceDaemon(const Daemon& d);

// A channel of its own (its own connection) to `daemon` as svc/<caller>,
// connected.
absl::StatusOr<std::shared_ptr<grpc::Channel>> PrivateChannel(
    const config::StackConfig& cfg, absl::string_view caller,
    absl::string_view daemon);
// The same with any identity's client options (client/rustiqctl, say).
absl::StatusOr<std::shared_ptr<grpc::Channel>> PrivateChannel(
    rpc::ClientOptions options, absl::string_view daemon);

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

// A worker with a stub of `Api` on a channel (a connection) of its own.
template <typename Api>
class StubWorker : public Worker {
 protected:
  explicit StubWorker(std::shared_ptr<grpc::Channel> channel)
      : channel_(std::move(channel)), stub_(Api::NewStub(channel_)) {}
  typename Api::Stub* stub() { return stub_.get(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<typename Api::Stub> stub_;
};

// `n` workers, make(0) to make(n - 1), each one's first call checked in full
// (Call(true)), untimed.
absl::StatusOr<std::vector<std::unique_ptr<Worker>>> NewCheckedWorkers(
    int n,
    const std::function<absl::StatusOr<std::unique_ptr<Worker>>(int)>& make);

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

// A load of calls to one server, per call.
struct CallFigures {
  double p50_us = 0;
  double p99_us = 0;
  double calls_per_s = 0;
  uint64_t calls = 0;
  // CPU time per recorded call of the server called (all its threads) and of
  // this process (all threads).
  double server_cpu_us = 0;
  double client_cpu_us = 0;
  // CPU the rest of the machine used meanwhile, in cores.
  double foreign_cores = 0;
};

// `load`'s figures per call; the server used `server_cpu_s` meanwhile.
CallFigures PerCall(const LoadResult& load, double server_cpu_s);

// The figures of one table cell, one per round.
struct CallCell {
  std::vector<double> p50, p99, cps, server_cpu, client_cpu;
  void Add(const CallFigures& f);
};

// The head of a table of CallCells, "| <first_column> | threads | p50 µs |
// p99 µs | calls/s | server CPU µs/call | client CPU µs/call |", and a row:
// the medians of `c`, "–" for calls/s or server CPU where they mean nothing.
std::string CallTableHead(absl::string_view first_column);
std::string CallTableRow(absl::string_view label, int threads,
                         const CallCell& c, bool with_calls = true,
                         bool with_server = true);

// The quiet check: a measurement during which other processes used more
// than `max_other_load` cores is repeated, up to kMaxRedos times, 2 s apart
// (<= 0 never repeats). Records what the report says of it.
class QuietCheck {
 public:
  explicit QuietCheck(double max_other_load)
      : max_other_load_(max_other_load) {}

  // measure() returns an absl::StatusOr of a result with `foreign_cores`;
  // on_redo(foreign_cores) is called before each repeat.
  template <typename Measure, typename OnRedo>
  auto Run(Measure measure, OnRedo on_redo) -> decltype(measure()) {
    auto r = measure();
    for (int redo = 0; r.ok() && max_other_load_ > 0 &&
                       r->foreign_cores > max_other_load_ && redo < kMaxRedos;
         ++redo) {
      on_redo(r->foreign_cores);
      ++redos_;
      absl::SleepFor(absl::Seconds(2));
      r = measure();
    }
    if (r.ok()) max_foreign_ = std::max(max_foreign_, r->foreign_cores);
    return r;
  }

  // The most other processes used during a kept measurement, in cores.
  double max_foreign() const { return max_foreign_; }
  // How many measurements were repeated.
  int redos() const { return redos_; }
  // For the report: "- quiet check: other processes used at most X cores
  // during any kept measurement (/proc/stat busy time minus <whose>)", and
  // "N measurement(s) repeated because they used more than C".
  std::string Summary(absl::string_view whose) const;
  std::string Repeats() const;

 private:
  double max_other_load_;
  double max_foreign_ = 0;
  int redos_ = 0;
};

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
// The report's start: "### <title>", then a "- " line each for the
// command, the date and the machine.
std::string ReportHead(absl::string_view title, absl::string_view command);
// After a blank line, "### Machine-readable" with `intro`, then `lines` in a
// text block.
std::string MachineReadable(absl::string_view intro,
                            const std::vector<std::string>& lines);
// The report to stdout, flushed.
void PrintReport(const std::string& report);
// Prints "<tool>: <status>" to stderr; returns 1, a failed run's exit status.
int RunFailed(absl::string_view tool, const absl::Status& status);

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
  // The same with a target it must not exceed (≤ `max_target`).
  void AddRatioAtMost(absl::string_view label, absl::string_view key,
                      int threads, const std::vector<double>& num,
                      const std::vector<double>& den, double max_target);
  // A figure against an absolute bound: `value`, the median of
  // `per_round`, shown with `decimals` and `unit`; passes when value < bound
  // (`below`) or value >= bound.
  void AddTarget(absl::string_view label, absl::string_view key, int threads,
                 const std::vector<double>& per_round, int decimals,
                 absl::string_view unit, bool below, double bound);

  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& machine_lines() const { return machine_; }
  // After a blank line, "### <title>" with `intro`, then the table.
  std::string Section(absl::string_view title, absl::string_view intro) const;

  // "1.02, 0.98, 1.10": num[i] / den[i].
  static std::string PerRound(const std::vector<double>& num,
                              const std::vector<double>& den);

 private:
  // `target` > 0 makes it a target: at most (`at_most`) or at least.
  void AddRatioRow(absl::string_view label, absl::string_view key, int threads,
                   const std::vector<double>& num,
                   const std::vector<double>& den, bool at_most, double target);

  std::string tool_;
  std::string rows_;
  std::vector<std::string> machine_;
};

}  // namespace rustiq::bench

#endif  // RUSTIQ_BENCH_BENCH_SUPPORT_H_
