// eventd_bench: what the tamper-evident event log costs: durable appends
// through a real, confined rustiq-eventd against the same rows written
// straight into SQLite and against the RPC layer's plain unary call, and
// query and proof latency on a log of a million events.
//
// One run measures, over real mTLS, with every client thread on its own
// channel and connection (as rpc_bench and keyd_bench do):
//   1. durable unary Append (one event, answered once its transaction has
//      committed with synchronous=FULL) as svc/keyd, at 1 and 4 clients:
//      p50/p99 latency, calls/s, CPU per call of eventd, keyd (which signs
//      the tree heads) and this process; target: p99 < 2 ms at 1 client;
//   2. durable appends through AppendBatch client streams as svc/keyd (1 and
//      4 streams, each of --messages messages of 1000 events): events/s and
//      the time per stream; target: >= 50,000 durable events/s;
//   3. the limit: as many equivalent rows as the 1-stream measurement of the
//      same round appended (the events table with its indexes and the
//      Merkle node rows a real append writes, with the same entry bytes),
//      inserted in this process straight into a fresh SQLite file through
//      common/storage (WAL, synchronous=FULL), 1000 events per transaction;
//   4. the baseline: Echo("x") on rustiq-testserver as svc/supervisord, the
//      common/rpc layer's plain mTLS unary call (keyd_bench's baseline);
//   5. query latency on a log of --log-events (1,000,000) events: the log is
//      built in this process through services/eventd's EventLog and
//      EventStore (the daemon's own write path, tree heads signed by keyd as
//      svc/eventd) into eventd's database file, then a second rustiq-eventd
//      is started on it and queried over mTLS as svc/supervisord: the newest
//      page of 100, a page filtered by category, by source, by actor, by a
//      one-hour time window, and a page half-way into the log reached by
//      following page tokens;
//   6. on the same log: inclusion and consistency proofs from the daemon
//      (GetInclusionProof, GetConsistencyProof), the same proofs computed in
//      this process with common/merkle on the file opened read-only, and
//      their verification (merkle::VerifyInclusion, VerifyConsistency).
// Measurements are interleaved in rounds (the order rotates each round);
// the tables show the median across rounds, the ratios table the ratio
// within each round too, and the targets PASS or MISS.
//
//   eventd_bench [--quick] [--seconds 2] [--rounds 3] [--warmup 0.5]
//                [--threads 1,4] [--streams 1,4] [--messages 10]
//                [--query-threads 1] [--log-events 1000000]
//                [--sections appends,queries] [--ops A,B] [--max-other-load
//                0.1]
//                [--keyd PATH] [--eventd PATH] [--testserver PATH] [--keep]
//
// Everything runs on a throw-away device under a temporary directory,
// provisioned through keyd; rustiq-keyd, rustiq-eventd and rustiq-testserver
// are started from this build with that device's configuration (defaults,
// but the journal copy off), confined as they confine themselves. Events are
// a realistic mix (what keyd, authd, cloudd, updated and supervisord
// record: an action, a category, an actor, three or four attributes; entries
// of about 150-250 bytes). Every reply is checked: each acknowledged seq is
// new, each stream's counts add up, every proof verifies against a tree head
// whose signature by keyd's event-checkpoint key is verified, every page
// holds what its filter asks for; each connection's first call is checked
// in full (its event's inclusion proven). At the end the append phase's log
// file must pass eventd's own start checks and be signed up to its last
// event. A failed call, a denial in a daemon's log or a daemon that does
// not stop cleanly fails the run. The tables go to stdout, per-measurement
// figures to stderr. Exit status: 0 when the run completed (whether or not
// the targets were met), 1 on any error, 2 on bad flags.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
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
#include "common/merkle/checkpoint.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/proofs.h"
#include "common/merkle/verify.h"
#include "common/pki/openssl_util.h"
#include "common/storage/sqlite.h"
#include "rustiq/v1/events.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_record.h"
#include "services/eventd/event_store.h"

#ifndef RUSTIQ_BINARY_DIR
#define RUSTIQ_BINARY_DIR "."
#endif

namespace rustiq::bench {
namespace {

using EventLogApi = rustiq::v1::EventLog;
using KeysApi = rustiq::v1::Keys;

constexpr char kDeviceId[] = "bench-device";
constexpr char kAppendCaller[] = "keyd";       // svc/keyd appends
constexpr char kReadCaller[] = "supervisord";  // svc/supervisord reads, Echo
constexpr char kBuildCaller[] = "eventd";      // the 1M log's heads: svc/eventd
constexpr char kQueryActor[] = "user/alice";
constexpr size_t kEventsPerMessage = 1000;  // the most a message may carry
constexpr uint32_t kPageSize = 100;
constexpr uint32_t kWalkPageSize = 1000;
constexpr size_t kDeepTokens = 64;
constexpr size_t kWindows = 64;
constexpr size_t kCollectedInclusion = 1024;
constexpr size_t kCollectedConsistency = 256;
constexpr size_t kUnaryPool = 1024;
constexpr size_t kBatchPool = 8;
// The 1M log: 32 producers append 500 events at a time; the writer takes up
// to 16,000 pending events into one transaction.
constexpr int kBuildProducers = 32;
constexpr size_t kBuildAppend = 500;
constexpr uint32_t kBuildMaxBatch = 16000;
constexpr int64_t kLogSpanNanos = int64_t{30} * 86400 * 1000000000;
constexpr int64_t kHourNanos = int64_t{3600} * 1000000000;

// ---------------------------------------------------------------------------
// What is measured.

enum class Op {
  kEcho = 0,
  kAppend,
  kBatch,
  kNewest,
  kCategory,
  kSource,
  kActor,
  kWindow,
  kDeep,
  kInclusion,
  kConsistency,
  kLocalInclusion,
  kLocalConsistency,
  kVerifyInclusion,
  kVerifyConsistency,
};
constexpr std::array<Op, 6> kQueryOps = {Op::kNewest, Op::kCategory,
                                         Op::kSource, Op::kActor,
                                         Op::kWindow, Op::kDeep};
constexpr std::array<Op, 6> kProofOps = {
    Op::kInclusion,        Op::kConsistency,     Op::kLocalInclusion,
    Op::kLocalConsistency, Op::kVerifyInclusion, Op::kVerifyConsistency};

const char* OpName(Op op) {
  switch (op) {
    case Op::kEcho:
      return "base-echo";
    case Op::kAppend:
      return "append";
    case Op::kBatch:
      return "append-batch";
    case Op::kNewest:
      return "query-newest";
    case Op::kCategory:
      return "query-category";
    case Op::kSource:
      return "query-source";
    case Op::kActor:
      return "query-actor";
    case Op::kWindow:
      return "query-window";
    case Op::kDeep:
      return "query-deep";
    case Op::kInclusion:
      return "inclusion-proof";
    case Op::kConsistency:
      return "consistency-proof";
    case Op::kLocalInclusion:
      return "local-inclusion-proof";
    case Op::kLocalConsistency:
      return "local-consistency-proof";
    case Op::kVerifyInclusion:
      return "verify-inclusion";
    case Op::kVerifyConsistency:
      return "verify-consistency";
  }
  return "?";
}

std::optional<Op> ParseOp(absl::string_view name) {
  for (int i = 0; i <= static_cast<int>(Op::kVerifyConsistency); ++i) {
    if (name == OpName(static_cast<Op>(i))) return static_cast<Op>(i);
  }
  return std::nullopt;
}

bool InProcess(Op op) {
  return op == Op::kLocalInclusion || op == Op::kLocalConsistency ||
         op == Op::kVerifyInclusion || op == Op::kVerifyConsistency;
}

// ---------------------------------------------------------------------------
// Realistic events: what the stack's daemons record.

struct Kind {
  const char* source;  // the daemon that records it
  v1::EventCategory category;
  const char* action;
  v1::EventOutcome outcome;
  v1::EventSeverity severity;
  double weight;  // relative share of the log
};

constexpr Kind kKinds[] = {
    {"svc/keyd", v1::EVENT_CATEGORY_KEY, "key.used", v1::EVENT_OUTCOME_SUCCESS,
     v1::EVENT_SEVERITY_INFO, 30},
    {"svc/keyd", v1::EVENT_CATEGORY_KEY, "key.use.denied",
     v1::EVENT_OUTCOME_DENIED, v1::EVENT_SEVERITY_WARNING, 1},
    {"svc/keyd", v1::EVENT_CATEGORY_KEY, "cert.issued",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_NOTICE, 0.5},
    {"svc/keyd", v1::EVENT_CATEGORY_RPC, "call.denied",
     v1::EVENT_OUTCOME_DENIED, v1::EVENT_SEVERITY_WARNING, 2},
    {"svc/authd", v1::EVENT_CATEGORY_AUTH, "login.succeeded",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_NOTICE, 1},
    {"svc/authd", v1::EVENT_CATEGORY_AUTH, "login.failed",
     v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_WARNING, 0.5},
    {"svc/authd", v1::EVENT_CATEGORY_AUTH, "token.issued",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, 2},
    {"svc/authd", v1::EVENT_CATEGORY_POLICY, "permission.checked",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, 4},
    {"svc/cloudd", v1::EVENT_CATEGORY_NETWORK, "mqtt.connected",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, 3},
    {"svc/cloudd", v1::EVENT_CATEGORY_NETWORK, "mqtt.disconnected",
     v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_WARNING, 1},
    {"svc/cloudd", v1::EVENT_CATEGORY_NETWORK, "message.published",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_DEBUG, 20},
    {"svc/updated", v1::EVENT_CATEGORY_UPDATE, "update.step",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_NOTICE, 2},
    {"svc/supervisord", v1::EVENT_CATEGORY_SUPERVISOR, "process.started",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, 3},
    {"svc/supervisord", v1::EVENT_CATEGORY_SUPERVISOR, "process.exited",
     v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_WARNING, 1.5},
    {"svc/supervisord", v1::EVENT_CATEGORY_SUPERVISOR, "health.changed",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, 2},
    {"svc/supervisord", v1::EVENT_CATEGORY_SANDBOX, "sandbox.violation",
     v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_CRITICAL, 0.2},
    {"svc/supervisord", v1::EVENT_CATEGORY_ADMIN, "config.changed",
     v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_NOTICE, 0.5},
};

class EventMix {
 public:
  explicit EventMix(uint64_t seed) : rng_(seed) {
    std::vector<double> source_weights;
    for (size_t k = 0; k < std::size(kKinds); ++k) {
      auto it = std::find(sources_.begin(), sources_.end(), kKinds[k].source);
      size_t s = static_cast<size_t>(it - sources_.begin());
      if (it == sources_.end()) {
        sources_.push_back(kKinds[k].source);
        source_weights.push_back(0);
        kinds_of_.emplace_back();
      }
      source_weights[s] += kKinds[k].weight;
      kinds_of_[s].push_back(k);
    }
    source_dist_ = std::discrete_distribution<size_t>(source_weights.begin(),
                                                      source_weights.end());
    for (const std::vector<size_t>& kinds : kinds_of_) {
      std::vector<double> w;
      for (size_t k : kinds) w.push_back(kKinds[k].weight);
      kind_dist_.emplace_back(w.begin(), w.end());
    }
  }

  const std::vector<std::string>& sources() const { return sources_; }
  // A source by its share of the log.
  const std::string& NextSource() { return sources_[source_dist_(rng_)]; }

  // An event `source` records, by the shares of its kinds.
  v1::EventInput Next(absl::string_view source) {
    size_t s = static_cast<size_t>(
        std::find(sources_.begin(), sources_.end(), source) - sources_.begin());
    if (s >= sources_.size()) s = 0;
    const Kind& kind = kKinds[kinds_of_[s][kind_dist_[s](rng_)]];
    v1::EventInput in;
    in.set_category(kind.category);
    in.set_action(kind.action);
    in.set_outcome(kind.outcome);
    in.set_severity(kind.severity);
    Fill(kind, &in);
    return in;
  }

 private:
  uint64_t Uniform(uint64_t lo, uint64_t hi) {  // [lo, hi]
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <size_t N>
  const char* Pick(const std::array<const char*, N>& from) {
    return from[Uniform(0, N - 1)];
  }
  std::string Hex(int digits) {
    std::string out;
    while (static_cast<int>(out.size()) < digits) {
      absl::StrAppend(&out, absl::Hex(rng_(), absl::kZeroPad16));
    }
    return out.substr(0, static_cast<size_t>(digits));
  }
  std::string User() {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    return r < 0.4   ? "user/alice"
           : r < 0.7 ? "user/bob"
           : r < 0.9 ? "user/carol"
                     : "user/operator";
  }
  static void Attr(v1::EventInput* in, absl::string_view key,
                   absl::string_view value) {
    v1::EventAttribute* a = in->add_attributes();
    a->set_key(std::string(key));
    a->set_value(std::string(value));
  }

  void Fill(const Kind& kind, v1::EventInput* in) {
    static constexpr std::array<const char*, 6> kDaemons = {
        "keyd", "eventd", "authd", "updated", "cloudd", "supervisord"};
    static constexpr std::array<const char*, 3> kApps = {
        "client/app-telemetry", "client/app-ui", "client/app-modbus"};
    static constexpr std::array<const char*, 5> kMethods = {
        "/rustiq.v1.Keys/Sign", "/rustiq.v1.Keys/Unseal",
        "/rustiq.v1.Updates/Install", "/rustiq.v1.EventLog/Query",
        "/rustiq.v1.Auth/Login"};
    const absl::string_view action = kind.action;
    if (action == "key.used") {
      static constexpr std::array<const char*, 4> kUsers = {
          "svc/cloudd", "svc/authd", "svc/updated", "svc/eventd"};
      static constexpr std::array<const char*, 4> kKeys = {
          "cloud-tls", "token-signing", "update-verify", "event-checkpoint"};
      size_t who = Uniform(0, 3);
      in->set_actor(kUsers[who]);
      Attr(in, "count", absl::StrCat(Uniform(1, 600)));
      Attr(in, "key", kKeys[who]);
      Attr(in, "key_version", absl::StrCat(Uniform(1, 3)));
      Attr(in, "operation", who == 2 ? "verify" : "sign");
      Attr(in, "period", "60s");
    } else if (action == "key.use.denied") {
      in->set_actor(Pick(kApps));
      Attr(in, "key", Chance(0.5) ? "device-identity" : "config-seal");
      Attr(in, "operation", Chance(0.5) ? "sign" : "unseal");
      Attr(in, "reason", "the caller is not in the key's policy");
    } else if (action == "cert.issued") {
      const char* d = Pick(kDaemons);
      in->set_actor(absl::StrCat("svc/", d));
      Attr(in, "identity", absl::StrCat("spiffe://", kDeviceId, "/svc/", d));
      Attr(in, "not_after", "2026-12-03T23:00:00Z");
      Attr(in, "serial", Hex(32));
    } else if (action == "call.denied") {
      bool anonymous = Chance(0.2);
      in->set_actor(anonymous ? "unauthenticated" : Pick(kApps));
      Attr(in, "method", Pick(kMethods));
      if (!anonymous) {
        Attr(in, "peer",
             absl::StrCat("spiffe://", kDeviceId, "/", in->actor()));
      }
      Attr(in, "reason",
           anonymous ? "no client certificate"
                     : "caller not declared for the method");
    } else if (action == "login.succeeded") {
      in->set_actor(User());
      Attr(in, "method", "password");
      Attr(in, "session", Hex(16));
      Attr(in, "tty", Chance(0.7) ? "console" : "ssh:192.168.1.20");
    } else if (action == "login.failed") {
      in->set_actor(User());
      Attr(in, "attempt", absl::StrCat(Uniform(1, 5)));
      Attr(in, "reason", Chance(0.9) ? "bad password" : "account locked");
      Attr(in, "tty", Chance(0.7) ? "console" : "ssh:192.168.1.20");
    } else if (action == "token.issued") {
      in->set_actor(Chance(0.7) ? User() : "client/rustiqctl");
      Attr(in, "permissions", "events.read,keys.read,updates.read");
      Attr(in, "token_id", Hex(16));
      Attr(in, "ttl_s", Chance(0.8) ? "900" : "3600");
    } else if (action == "permission.checked") {
      bool person = Chance(0.5);
      in->set_actor(person ? User()
                           : (Chance(0.5) ? "svc/cloudd" : "svc/updated"));
      bool denied = Chance(0.1);
      if (denied) {
        in->set_outcome(v1::EVENT_OUTCOME_DENIED);
        in->set_severity(v1::EVENT_SEVERITY_WARNING);
      }
      Attr(in, "decision", denied ? "deny" : "allow");
      Attr(in, "permission", Chance(0.6) ? "events.read" : "updates.install");
      Attr(in, "role",
           person ? (Chance(0.5) ? "operator" : "viewer") : "service");
    } else if (action == "mqtt.connected") {
      Attr(in, "broker", "mqtts://broker.example.net:8883");
      Attr(in, "client_id", kDeviceId);
      Attr(in, "session", Hex(16));
      Attr(in, "tls", "TLSv1.3");
    } else if (action == "mqtt.disconnected") {
      Attr(in, "broker", "mqtts://broker.example.net:8883");
      Attr(in, "reason", Chance(0.5) ? "keepalive timeout" : "broker closed");
      Attr(in, "retry_in_ms", absl::StrCat(Uniform(1000, 30000)));
    } else if (action == "message.published") {
      static constexpr std::array<const char*, 3> kTopics = {
          "devices/bench-device/telemetry", "devices/bench-device/state",
          "devices/bench-device/events"};
      Attr(in, "bytes", absl::StrCat(Uniform(120, 4096)));
      Attr(in, "msg_id", absl::StrCat(Uniform(1, 65535)));
      Attr(in, "qos", Chance(0.8) ? "1" : "0");
      Attr(in, "topic", Pick(kTopics));
    } else if (action == "update.step") {
      static constexpr std::array<const char*, 5> kSteps = {
          "download", "verify", "install", "reboot", "commit"};
      in->set_actor("svc/cloudd");
      Attr(in, "from_version", "1.4.2");
      Attr(in, "image_sha256", Hex(32));
      Attr(in, "slot", "b");
      Attr(in, "step", Pick(kSteps));
      Attr(in, "to_version", "1.5.0");
    } else if (action == "process.started") {
      Attr(in, "daemon", Pick(kDaemons));
      Attr(in, "pid", absl::StrCat(Uniform(1000, 60000)));
      Attr(in, "restarts", absl::StrCat(Uniform(0, 3)));
    } else if (action == "process.exited") {
      Attr(in, "daemon", Pick(kDaemons));
      Attr(in, "exit_status", Chance(0.7) ? "1" : "signal 11");
      Attr(in, "pid", absl::StrCat(Uniform(1000, 60000)));
      Attr(in, "uptime_s", absl::StrCat(Uniform(1, 864000)));
    } else if (action == "health.changed") {
      bool up = Chance(0.5);
      Attr(in, "daemon", Pick(kDaemons));
      Attr(in, "from", up ? "not_serving" : "serving");
      Attr(in, "to", up ? "serving" : "not_serving");
    } else if (action == "sandbox.violation") {
      static constexpr std::array<const char*, 4> kSyscalls = {
          "ptrace", "mount", "socket", "execve"};
      Attr(in, "daemon", Pick(kDaemons));
      Attr(in, "pid", absl::StrCat(Uniform(1000, 60000)));
      Attr(in, "signal", "SIGSYS");
      Attr(in, "syscall", Pick(kSyscalls));
    } else if (action == "config.changed") {
      in->set_actor(User());
      Attr(in, "key", "eventd.retention_days");
      Attr(in, "new", "120");
      Attr(in, "old", "90");
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> sources_;
  std::discrete_distribution<size_t> source_dist_;
  std::vector<std::vector<size_t>> kinds_of_;  // per source: indices of kKinds
  std::vector<std::discrete_distribution<size_t>> kind_dist_;
};

const char* CategoryName(int c) {
  switch (c) {
    case v1::EVENT_CATEGORY_AUTH:
      return "auth";
    case v1::EVENT_CATEGORY_KEY:
      return "key";
    case v1::EVENT_CATEGORY_UPDATE:
      return "update";
    case v1::EVENT_CATEGORY_SANDBOX:
      return "sandbox";
    case v1::EVENT_CATEGORY_NETWORK:
      return "network";
    case v1::EVENT_CATEGORY_ADMIN:
      return "admin";
    case v1::EVENT_CATEGORY_SUPERVISOR:
      return "supervisor";
    case v1::EVENT_CATEGORY_POLICY:
      return "policy";
    case v1::EVENT_CATEGORY_RPC:
      return "rpc";
    case v1::EVENT_CATEGORY_EVENTLOG:
      return "eventlog";
    default:
      return "?";
  }
}

std::string BootId() {
  return std::string(absl::StripAsciiWhitespace(
      ReadWholeFile("/proc/sys/kernel/random/boot_id")));
}

int64_t WallNanos() { return absl::ToUnixNanos(absl::Now()); }

int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct SizeStats {
  size_t min = 0, max = 0;
  double mean = 0;
  std::string ToString() const {
    return absl::StrFormat("%u/%.0f/%u", min, mean, max);
  }
};

absl::StatusOr<merkle::Hash> ToHash(absl::string_view bytes,
                                    absl::string_view what) {
  absl::StatusOr<merkle::Hash> h = merkle::HashFromBytes(bytes);
  if (!h.ok()) {
    return absl::InternalError(absl::StrCat(what, ": not a 32-byte hash"));
  }
  return h;
}

absl::StatusOr<std::vector<merkle::Hash>> ToHashes(
    const google::protobuf::RepeatedPtrField<std::string>& in,
    absl::string_view what) {
  std::vector<merkle::Hash> out;
  out.reserve(in.size());
  for (const std::string& b : in) {
    absl::StatusOr<merkle::Hash> h = ToHash(b, what);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  }
  return out;
}

// That `proof` proves its leaf at its seq in the tree of its size with
// `root`.
absl::Status CheckInclusion(const v1::InclusionProof& proof,
                            const merkle::Hash& root) {
  absl::StatusOr<merkle::Hash> leaf = ToHash(proof.leaf_hash(), "leaf hash");
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<std::vector<merkle::Hash>> path =
      ToHashes(proof.hashes(), "inclusion proof");
  if (!path.ok()) return path.status();
  absl::Status s = merkle::VerifyInclusion(*leaf, proof.seq(),
                                           proof.tree_size(), *path, root);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("inclusion proof of event ", proof.seq(), " in size ",
                     proof.tree_size(), " does not verify: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckConsistency(const v1::ConsistencyProof& proof,
                              const merkle::Hash& old_root,
                              const merkle::Hash& new_root) {
  absl::StatusOr<std::vector<merkle::Hash>> hashes =
      ToHashes(proof.hashes(), "consistency proof");
  if (!hashes.ok()) return hashes.status();
  absl::Status s = merkle::VerifyConsistency(proof.old_size(), proof.new_size(),
                                             old_root, new_root, *hashes);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("consistency proof from size ", proof.old_size(), " to ",
                     proof.new_size(), " does not verify: ", s.message()));
  }
  return absl::OkStatus();
}

// Acknowledged events: [first, first + count).
struct SeqRange {
  uint64_t first = 0;
  uint64_t count = 0;
};

// Merges `more` into `all` and fails when an event was acknowledged twice.
absl::Status MergeAcked(std::vector<SeqRange>* all,
                        const std::vector<SeqRange>& more) {
  all->insert(all->end(), more.begin(), more.end());
  std::sort(all->begin(), all->end(), [](const SeqRange& a, const SeqRange& b) {
    return a.first < b.first;
  });
  for (size_t i = 1; i < all->size(); ++i) {
    const SeqRange& prev = (*all)[i - 1];
    if ((*all)[i].first < prev.first + prev.count) {
      return absl::InternalError(absl::StrCat(
          "event ", (*all)[i].first, " was acknowledged to two appends"));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// What the workers share.

struct AppendSetup {
  config::StackConfig config;
  std::vector<v1::AppendRequest> unary;         // one of svc/keyd's events
  std::vector<v1::AppendBatchRequest> batches;  // kEventsPerMessage each
  int messages = 10;                            // per stream
  SizeStats entry;                              // as eventd stores them
};

struct Window {
  int64_t since = 0;
  int64_t until = 0;
};

struct DeepPage {
  std::string token;
  uint64_t first_seq = 0;  // the page the token leads to starts here
};

struct QuerySetup {
  const config::StackConfig* config = nullptr;
  uint64_t size0 = 0;  // the log's size when the phase began
  // The latest signed head when the phase began, its signature verified.
  uint64_t signed_size = 0;
  merkle::Hash signed_root{};
  std::vector<v1::TreeHead> older_heads;  // signed, smaller
  std::vector<merkle::Hash> older_roots;
  std::vector<v1::EventCategory> categories;
  std::vector<std::string> sources;
  std::string actor = kQueryActor;
  std::vector<Window> windows;
  std::vector<DeepPage> deep;
  std::vector<v1::InclusionProof> inclusion;
  std::vector<v1::ConsistencyProof> consistency;
  std::vector<size_t> consistency_head;       // index into older_heads
  std::unique_ptr<eventd::EventStore> store;  // the same file, read-only
};

// The current size and root, as GetTreeHead says.
absl::StatusOr<std::pair<uint64_t, merkle::Hash>> CurrentHead(
    EventLogApi::Stub* stub) {
  v1::GetTreeHeadResponse head;
  if (absl::Status s = CallUnary("GetTreeHead", stub,
                                 &EventLogApi::Stub::GetTreeHead, {}, &head);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<merkle::Hash> root =
      ToHash(head.current().root_hash(), "current root");
  if (!root.ok()) return root.status();
  return std::make_pair(head.current().size(), *root);
}

// That event `seq`, whose leaf hash is `leaf` (or any leaf, when null), is
// in the log now: an inclusion proof in the current tree, verified.
absl::Status ProveIncluded(EventLogApi::Stub* stub, uint64_t seq,
                           const merkle::Hash* leaf) {
  absl::StatusOr<std::pair<uint64_t, merkle::Hash>> head = CurrentHead(stub);
  if (!head.ok()) return head.status();
  v1::InclusionProofRequest req;
  req.set_seq(seq);
  req.set_tree_size(head->first);
  v1::InclusionProof proof;
  if (absl::Status s =
          CallUnary("GetInclusionProof", stub,
                    &EventLogApi::Stub::GetInclusionProof, req, &proof);
      !s.ok()) {
    return s;
  }
  if (leaf != nullptr && proof.leaf_hash() != merkle::AsBytes(*leaf)) {
    return absl::InternalError(absl::StrCat(
        "event ", seq, ": its entry does not hash to the leaf in the tree"));
  }
  return CheckInclusion(proof, head->second);
}

// ---------------------------------------------------------------------------
// Workers: appends.

// Appends svc/keyd's events on a connection of its own and records each
// event acknowledged in *acked. One Call is one unary Append or, with
// `batch`, an AppendBatch stream of setup.messages messages of 1000 events,
// answered once all are durable.
class AppendWorker final : public StubWorker<EventLogApi> {
 public:
  AppendWorker(std::shared_ptr<grpc::Channel> ch, const AppendSetup& setup,
               bool batch, size_t offset, std::vector<SeqRange>* acked)
      : StubWorker(std::move(ch)),
        setup_(setup),
        batch_(batch),
        next_(offset),
        acked_(acked) {}
  absl::Status Call(bool verify) override {
    absl::Status s = batch_ ? AppendStream() : AppendOne();
    if (!s.ok() || !verify) return s;
    const SeqRange& last = acked_->back();
    return ProveIncluded(stub(), last.first + last.count - 1, nullptr);
  }

 private:
  absl::Status AppendOne() {
    const v1::AppendRequest& req = setup_.unary[next_++ % setup_.unary.size()];
    v1::AppendResponse resp;
    if (absl::Status s =
            CallUnary("Append", stub(), &EventLogApi::Stub::Append, req, &resp);
        !s.ok()) {
      return s;
    }
    if (!acked_->empty() && resp.seq() <= acked_->back().first) {
      return absl::InternalError(
          absl::StrCat("Append answered seq ", resp.seq(), " after ",
                       acked_->back().first, " on the same connection"));
    }
    acked_->push_back({resp.seq(), 1});
    return absl::OkStatus();
  }

  absl::Status AppendStream() {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::AppendBatchResponse resp;
    std::unique_ptr<grpc::ClientWriter<v1::AppendBatchRequest>> writer =
        stub()->AppendBatch(&ctx, &resp);
    for (int m = 0; m < setup_.messages; ++m) {
      // A broken stream stops here; Finish() says why.
      if (!writer->Write(setup_.batches[next_++ % setup_.batches.size()])) {
        break;
      }
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (!s.ok()) return absl::UnavailableError(GrpcError("AppendBatch", s));
    const uint64_t expected =
        static_cast<uint64_t>(setup_.messages) * kEventsPerMessage;
    if (resp.count() != expected || resp.first_seqs_size() != setup_.messages) {
      return absl::InternalError(
          absl::StrCat("AppendBatch answered count ", resp.count(), " with ",
                       resp.first_seqs_size(), " first seqs; expected ",
                       expected, " and ", setup_.messages));
    }
    for (int m = 0; m < resp.first_seqs_size(); ++m) {
      uint64_t first = resp.first_seqs(m);
      if (!acked_->empty() &&
          first < acked_->back().first + acked_->back().count) {
        return absl::InternalError(
            absl::StrCat("AppendBatch: message ", m, " starts at seq ", first,
                         ", inside what this connection had appended before"));
      }
      acked_->push_back({first, kEventsPerMessage});
    }
    return absl::OkStatus();
  }

  const AppendSetup& setup_;
  const bool batch_;
  size_t next_;
  std::vector<SeqRange>* acked_;
};

// ---------------------------------------------------------------------------
// Workers: queries and proofs on the large log.

class QueryWorker final : public StubWorker<EventLogApi> {
 public:
  QueryWorker(std::shared_ptr<grpc::Channel> ch, const QuerySetup& setup, Op op,
              size_t offset)
      : StubWorker(std::move(ch)), setup_(setup), op_(op), next_(offset) {}

  absl::Status Call(bool verify) override {
    v1::QueryRequest req;
    req.set_newest_first(true);
    req.set_page_size(kPageSize);
    v1::EventFilter* f = req.mutable_filter();
    const size_t i = next_++;
    std::optional<uint64_t> first_seq;
    Window window;
    switch (op_) {
      case Op::kCategory:
        f->add_categories(setup_.categories[i % setup_.categories.size()]);
        break;
      case Op::kSource:
        f->add_sources(setup_.sources[i % setup_.sources.size()]);
        break;
      case Op::kActor:
        f->set_actor(setup_.actor);
        break;
      case Op::kWindow:
        window = setup_.windows[i % setup_.windows.size()];
        f->set_since_unix_nanos(window.since);
        f->set_until_unix_nanos(window.until);
        break;
      case Op::kDeep: {
        const DeepPage& page = setup_.deep[i % setup_.deep.size()];
        req.set_page_token(page.token);
        first_seq = page.first_seq;
        break;
      }
      default:
        break;
    }
    v1::QueryResponse resp;
    if (absl::Status s =
            CallUnary("Query", stub(), &EventLogApi::Stub::Query, req, &resp);
        !s.ok()) {
      return s;
    }
    const int n = resp.events_size();
    auto bad = [&](absl::string_view what) {
      return absl::InternalError(absl::StrCat(OpName(op_), ": ", what, " (",
                                              req.ShortDebugString(), ")"));
    };
    // Every filter here matches far more than a page.
    if (n != static_cast<int>(kPageSize) || resp.next_page_token().empty()) {
      return bad(absl::StrCat(n, " events and next_page_token \"",
                              resp.next_page_token(),
                              "\"; expected a full "
                              "page and more"));
    }
    const bool contiguous = op_ == Op::kNewest || op_ == Op::kDeep;
    for (int k = 0; k < n; ++k) {
      const v1::Event& e = resp.events(k);
      if (k > 0 && e.seq() >= resp.events(k - 1).seq()) {
        return bad("events not newest first");
      }
      if (contiguous && k > 0 && e.seq() + 1 != resp.events(k - 1).seq()) {
        return bad(absl::StrCat("event ", e.seq() + 1, " missing"));
      }
      bool match = true;
      switch (op_) {
        case Op::kCategory:
          match = e.category() == f->categories(0);
          break;
        case Op::kSource:
          match = e.source() == f->sources(0);
          break;
        case Op::kActor:
          match = e.actor() == setup_.actor;
          break;
        case Op::kWindow:
          match = e.time_unix_nanos() >= window.since &&
                  e.time_unix_nanos() < window.until;
          break;
        default:
          break;
      }
      if (!match) {
        return bad(absl::StrCat("event ", e.seq(), " does not match"));
      }
    }
    if (op_ == Op::kNewest && resp.events(0).seq() + 1 < setup_.size0) {
      return bad(absl::StrCat("the newest event is ", resp.events(0).seq(),
                              " but the log holds ", setup_.size0));
    }
    if (first_seq.has_value() && resp.events(0).seq() != *first_seq) {
      return bad(absl::StrCat("the page starts at ", resp.events(0).seq(),
                              ", expected ", *first_seq));
    }
    if (verify) {
      // The event as returned is the one the tree holds: its entry bytes
      // hash to the leaf, which is in the current tree.
      const v1::Event& e = resp.events(n - 1);
      merkle::Hash leaf = merkle::LeafHash(eventd::EntryBytes(e));
      return ProveIncluded(stub(), e.seq(), &leaf);
    }
    return absl::OkStatus();
  }

 private:
  const QuerySetup& setup_;
  Op op_;
  size_t next_;
};

// GetInclusionProof / GetConsistencyProof to the signed head, each reply
// verified against its signed root.
class ProofWorker final : public StubWorker<EventLogApi> {
 public:
  ProofWorker(std::shared_ptr<grpc::Channel> ch, const QuerySetup& setup, Op op,
              uint64_t seed)
      : StubWorker(std::move(ch)), setup_(setup), op_(op), rng_(seed) {}
  absl::Status Call(bool) override {
    if (op_ == Op::kInclusion) {
      v1::InclusionProofRequest req;
      req.set_seq(std::uniform_int_distribution<uint64_t>(
          0, setup_.signed_size - 1)(rng_));
      req.set_tree_size(setup_.signed_size);
      v1::InclusionProof proof;
      if (absl::Status s =
              CallUnary("GetInclusionProof", stub(),
                        &EventLogApi::Stub::GetInclusionProof, req, &proof);
          !s.ok()) {
        return s;
      }
      if (proof.seq() != req.seq() || proof.tree_size() != req.tree_size()) {
        return absl::InternalError("GetInclusionProof: another proof");
      }
      return CheckInclusion(proof, setup_.signed_root);
    }
    size_t h = std::uniform_int_distribution<size_t>(
        0, setup_.older_heads.size() - 1)(rng_);
    v1::ConsistencyProofRequest req;
    req.set_old_size(setup_.older_heads[h].size());
    req.set_new_size(setup_.signed_size);
    v1::ConsistencyProof proof;
    if (absl::Status s =
            CallUnary("GetConsistencyProof", stub(),
                      &EventLogApi::Stub::GetConsistencyProof, req, &proof);
        !s.ok()) {
      return s;
    }
    if (proof.old_size() != req.old_size() ||
        proof.new_size() != req.new_size()) {
      return absl::InternalError("GetConsistencyProof: another proof");
    }
    return CheckConsistency(proof, setup_.older_roots[h], setup_.signed_root);
  }

 private:
  const QuerySetup& setup_;
  Op op_;
  std::mt19937_64 rng_;
};

// merkle::InclusionProof / ConsistencyProof on the store in this process.
class LocalProofWorker final : public Worker {
 public:
  LocalProofWorker(const QuerySetup& setup, Op op, uint64_t seed)
      : setup_(setup), op_(op), rng_(seed) {}
  absl::Status Call(bool verify) override {
    const uint64_t size = setup_.signed_size;
    if (op_ == Op::kLocalInclusion) {
      uint64_t seq = std::uniform_int_distribution<uint64_t>(0, size - 1)(rng_);
      absl::StatusOr<std::vector<merkle::Hash>> path =
          merkle::InclusionProof(*setup_.store, seq, size);
      if (!path.ok()) return path.status();
      if (path->size() != merkle::InclusionProofLength(seq, size)) {
        return absl::InternalError("InclusionProof: wrong length");
      }
      if (verify) {
        absl::StatusOr<merkle::Hash> leaf = setup_.store->Node(0, seq);
        if (!leaf.ok()) return leaf.status();
        return merkle::VerifyInclusion(*leaf, seq, size, *path,
                                       setup_.signed_root);
      }
      return absl::OkStatus();
    }
    size_t h = std::uniform_int_distribution<size_t>(
        0, setup_.older_heads.size() - 1)(rng_);
    const uint64_t old_size = setup_.older_heads[h].size();
    absl::StatusOr<std::vector<merkle::Hash>> proof =
        merkle::ConsistencyProof(*setup_.store, old_size, size);
    if (!proof.ok()) return proof.status();
    if (proof->size() != merkle::ConsistencyProofLength(old_size, size)) {
      return absl::InternalError("ConsistencyProof: wrong length");
    }
    if (verify) {
      return merkle::VerifyConsistency(old_size, size, setup_.older_roots[h],
                                       setup_.signed_root, *proof);
    }
    return absl::OkStatus();
  }

 private:
  const QuerySetup& setup_;
  Op op_;
  std::mt19937_64 rng_;
};

// Verifies proofs the daemon gave, in this process.
class VerifyWorker final : public Worker {
 public:
  VerifyWorker(const QuerySetup& setup, Op op, size_t offset)
      : setup_(setup), op_(op), next_(offset) {
    // Decoded once: what a verifier holding the proofs does per proof is
    // the hashing.
    if (op == Op::kVerifyInclusion) {
      for (const v1::InclusionProof& p : setup.inclusion) {
        Decoded d;
        d.seq = p.seq();
        d.size = p.tree_size();
        d.leaf = *merkle::HashFromBytes(p.leaf_hash());
        d.hashes = *ToHashes(p.hashes(), "proof");
        decoded_.push_back(std::move(d));
      }
    } else {
      for (size_t i = 0; i < setup.consistency.size(); ++i) {
        const v1::ConsistencyProof& p = setup.consistency[i];
        Decoded d;
        d.seq = p.old_size();
        d.size = p.new_size();
        d.leaf = setup.older_roots[setup.consistency_head[i]];
        d.hashes = *ToHashes(p.hashes(), "proof");
        decoded_.push_back(std::move(d));
      }
    }
  }
  absl::Status Call(bool) override {
    const Decoded& d = decoded_[next_++ % decoded_.size()];
    absl::Status s =
        op_ == Op::kVerifyInclusion
            ? merkle::VerifyInclusion(d.leaf, d.seq, d.size, d.hashes,
                                      setup_.signed_root)
            : merkle::VerifyConsistency(d.seq, d.size, d.leaf,
                                        setup_.signed_root, d.hashes);
    if (!s.ok()) return absl::InternalError(s.message());
    return absl::OkStatus();
  }

 private:
  struct Decoded {
    uint64_t seq = 0;     // or the old size
    uint64_t size = 0;    // or the new size
    merkle::Hash leaf{};  // or the old root
    std::vector<merkle::Hash> hashes;
  };
  const QuerySetup& setup_;
  Op op_;
  size_t next_;
  std::vector<Decoded> decoded_;
};

// ---------------------------------------------------------------------------
// Measurements.

struct Pids {
  clockid_t eventd = 0;
  clockid_t keyd = 0;
  clockid_t testserver = 0;
  std::vector<clockid_t> all() const { return {eventd, keyd, testserver}; }
};

struct Measured {
  double p50_us = 0;
  double p99_us = 0;
  double calls_per_s = 0;
  double events_per_s = 0;
  uint64_t calls = 0;
  uint64_t events = 0;
  // CPU per call of eventd, keyd, testserver and this process, in µs.
  double eventd_cpu_us = 0;
  double keyd_cpu_us = 0;
  double testserver_cpu_us = 0;
  double client_cpu_us = 0;
  double foreign_cores = 0;
};

struct Phase {
  const AppendSetup* appends = nullptr;
  const QuerySetup* queries = nullptr;
  Pids clocks;
  std::vector<SeqRange>* acked = nullptr;  // every event acknowledged
};

absl::StatusOr<std::unique_ptr<Worker>> NewWorker(
    const Phase& phase, Op op, int i, std::vector<SeqRange>* acked) {
  const config::StackConfig& cfg =
      phase.appends != nullptr ? phase.appends->config : *phase.queries->config;
  const uint64_t seed =
      0x5eed0000 + static_cast<uint64_t>(i) * 7919 + static_cast<uint64_t>(op);
  if (op == Op::kLocalInclusion || op == Op::kLocalConsistency) {
    return std::make_unique<LocalProofWorker>(*phase.queries, op, seed);
  }
  if (op == Op::kVerifyInclusion || op == Op::kVerifyConsistency) {
    return std::make_unique<VerifyWorker>(*phase.queries, op,
                                          static_cast<size_t>(i) * 131);
  }
  if (op == Op::kEcho) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
        PrivateChannel(cfg, kReadCaller, "testserver");
    if (!ch.ok()) return ch.status();
    return NewEchoWorker(*std::move(ch), absl::StrCat("svc/", kReadCaller));
  }
  const bool append = op == Op::kAppend || op == Op::kBatch;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      PrivateChannel(cfg, append ? kAppendCaller : kReadCaller, "eventd");
  if (!ch.ok()) return ch.status();
  const size_t offset = static_cast<size_t>(i) * 257;
  switch (op) {
    case Op::kAppend:
      return std::make_unique<AppendWorker>(*std::move(ch), *phase.appends,
                                            /*batch=*/false, offset, acked);
    case Op::kBatch:
      return std::make_unique<AppendWorker>(*std::move(ch), *phase.appends,
                                            /*batch=*/true,
                                            static_cast<size_t>(i), acked);
    case Op::kInclusion:
    case Op::kConsistency:
      return std::make_unique<ProofWorker>(*std::move(ch), *phase.queries, op,
                                           seed);
    default:
      return std::make_unique<QueryWorker>(*std::move(ch), *phase.queries, op,
                                           offset);
  }
}

// `n` client threads (streams for kBatch), each with its own worker.
absl::StatusOr<Measured> Measure(const Phase& phase, Op op, int n,
                                 absl::Duration warmup,
                                 absl::Duration measure) {
  std::vector<std::vector<SeqRange>> acked(static_cast<size_t>(n));
  // The first call on each connection is checked in full, untimed.
  absl::StatusOr<std::vector<std::unique_ptr<Worker>>> workers =
      NewCheckedWorkers(n, [&](int i) {
        return NewWorker(phase, op, i, &acked[static_cast<size_t>(i)]);
      });
  if (!workers.ok()) return workers.status();
  absl::StatusOr<LoadResult> load =
      RunLoad(*workers, {.warmup = warmup,
                         .measure = measure,
                         .daemon_clocks = phase.clocks.all()});
  if (!load.ok()) return load.status();
  if (phase.acked != nullptr) {
    for (const std::vector<SeqRange>& a : acked) {
      if (absl::Status s = MergeAcked(phase.acked, a); !s.ok()) return s;
    }
  }
  const double calls = static_cast<double>(load->calls);
  const double per_call = op == Op::kBatch
                              ? static_cast<double>(phase.appends->messages) *
                                    static_cast<double>(kEventsPerMessage)
                              : 1.0;
  Measured m;
  m.p50_us = load->p50_us;
  m.p99_us = load->p99_us;
  m.calls_per_s = load->calls_per_s;
  m.calls = load->calls;
  m.events = static_cast<uint64_t>(calls * per_call);
  m.events_per_s = load->calls_per_s * per_call;
  m.eventd_cpu_us = load->daemon_cpu_s[0] * 1e6 / calls;
  m.keyd_cpu_us = load->daemon_cpu_s[1] * 1e6 / calls;
  m.testserver_cpu_us = load->daemon_cpu_s[2] * 1e6 / calls;
  m.client_cpu_us = load->client_cpu_s * 1e6 / calls;
  m.foreign_cores = load->foreign_cores;
  return m;
}

// ---------------------------------------------------------------------------
// The limit: the same rows straight into SQLite.

// Removes the SQLite file at `path` with its -wal and -shm files.
void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::remove(absl::StrCat(path, suffix), ec);
  }
}

// The SQL of the events and nodes tables and their indexes, as
// EventStore::Open creates them (read back from a file it created).
absl::StatusOr<std::string> EventStoreSchema(const std::string& root) {
  const std::string path = absl::StrCat(root, "/schema-template.db");
  {
    absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
        eventd::EventStore::Open(path, kDeviceId);
    if (!store.ok()) return store.status();
  }
  storage::Database::Options options;
  options.read_only = true;
  options.create = false;
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path, options);
  if (!db.ok()) return db.status();
  absl::StatusOr<std::unique_ptr<storage::Statement>> st = (*db)->Prepare(
      "SELECT sql FROM sqlite_master WHERE tbl_name IN ('events', 'nodes') "
      "AND sql IS NOT NULL ORDER BY type = 'index', name");
  if (!st.ok()) return st.status();
  std::vector<std::string> statements;
  while (true) {
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    statements.push_back(std::string((*st)->ColumnText(0)));
  }
  if (statements.size() != 5) {  // 2 tables, 3 indexes
    return absl::InternalError(absl::StrCat("unexpected event store schema: ",
                                            absl::StrJoin(statements, ";\n")));
  }
  return absl::StrCat(absl::StrJoin(statements, ";\n"), ";");
}

struct LimitRows {
  std::vector<eventd::StoredEvent> events;
  std::vector<std::vector<merkle::CompleteNode>> nodes;  // per transaction
};

// `count` events of the batched streams, stamped and hashed as eventd's
// writer does (MakeEvent, EntryBytes, CompactRange), before any timing.
LimitRows MakeLimitRows(const AppendSetup& setup, uint64_t count) {
  LimitRows rows;
  rows.events.reserve(count);
  merkle::CompactRange range;
  const std::string boot_id = BootId();
  const int64_t t0 = WallNanos();
  const int64_t m0 = MonotonicNanos();
  std::vector<merkle::CompleteNode> txn;
  for (uint64_t i = 0; i < count; ++i) {
    const v1::AppendBatchRequest& msg =
        setup.batches[(i / kEventsPerMessage) % setup.batches.size()];
    eventd::Stamp stamp;
    stamp.seq = i;
    stamp.time_unix_nanos = t0 + static_cast<int64_t>(i) * 1000;
    stamp.monotonic_nanos = m0 + static_cast<int64_t>(i) * 1000;
    stamp.boot_id = boot_id;
    stamp.source = absl::StrCat("svc/", kAppendCaller);
    eventd::StoredEvent e;
    e.event = eventd::MakeEvent(
        msg.events(static_cast<int>(i % kEventsPerMessage)), stamp);
    e.entry = eventd::EntryBytes(e.event);
    std::vector<merkle::CompleteNode> made =
        range.Append(merkle::LeafHash(e.entry));
    txn.insert(txn.end(), made.begin(), made.end());
    rows.events.push_back(std::move(e));
    if ((i + 1) % kEventsPerMessage == 0 || i + 1 == count) {
      rows.nodes.push_back(std::move(txn));
      txn.clear();
    }
  }
  return rows;
}

struct LimitResult {
  uint64_t events = 0;
  uint64_t transactions = 0;
  double events_per_s = 0;
  double transactions_per_s = 0;
  double cpu_us_per_event = 0;  // this thread
  double foreign_cores = 0;
};

// Inserts `rows` into a fresh file at `path` with the event store's schema,
// kEventsPerMessage events (and their nodes) per durable transaction.
absl::StatusOr<LimitResult> RunLimit(const LimitRows& rows,
                                     const std::string& schema,
                                     const std::string& path,
                                     const std::vector<clockid_t>& clocks) {
  RemoveDatabase(path);
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path, {});
  if (!db.ok()) return db.status();
  if (absl::Status s = (*db)->Exec(schema); !s.ok()) return s;
  // The durability eventd has: WAL, synced at every commit.
  for (auto [pragma, want] :
       {std::pair<const char*, const char*>{"PRAGMA journal_mode", "wal"},
        {"PRAGMA synchronous", "2"}}) {
    absl::StatusOr<std::unique_ptr<storage::Statement>> st =
        (*db)->Prepare(pragma);
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row || (*st)->ColumnText(0) != want) {
      return absl::InternalError(absl::StrCat(pragma, " is not ", want));
    }
  }
  absl::StatusOr<std::unique_ptr<storage::Statement>> ins = (*db)->Prepare(
      "INSERT INTO events(seq, time_ns, source, actor, category, outcome, "
      "severity, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!ins.ok()) return ins.status();
  absl::StatusOr<std::unique_ptr<storage::Statement>> node =
      (*db)->Prepare("INSERT INTO nodes(level, idx, hash) VALUES (?1, ?2, ?3)");
  if (!node.ok()) return node.status();

  ForeignLoad foreign(clocks);
  const double cpu0 = ThreadCpuMicros();
  const Clock::time_point t0 = Clock::now();
  size_t next = 0;
  for (const std::vector<merkle::CompleteNode>& nodes : rows.nodes) {
    if (Interrupted()) return absl::CancelledError("interrupted");
    storage::Transaction tx(db->get());
    if (!tx.begun().ok()) return tx.begun();
    const size_t end = std::min(next + kEventsPerMessage, rows.events.size());
    for (; next < end; ++next) {
      const v1::Event& ev = rows.events[next].event;
      storage::Statement& st = **ins;
      absl::Status s = st.BindInt(1, static_cast<int64_t>(ev.seq()));
      if (s.ok()) s = st.BindInt(2, ev.time_unix_nanos());
      if (s.ok()) s = st.BindText(3, ev.source());
      if (s.ok()) s = st.BindText(4, ev.actor());
      if (s.ok()) s = st.BindInt(5, ev.category());
      if (s.ok()) s = st.BindInt(6, ev.outcome());
      if (s.ok()) s = st.BindInt(7, ev.severity());
      if (s.ok()) s = st.BindBlob(8, rows.events[next].entry);
      if (s.ok()) s = st.Run();
      if (!s.ok()) return s;
    }
    for (const merkle::CompleteNode& n : nodes) {
      storage::Statement& st = **node;
      absl::Status s = st.BindInt(1, n.level);
      if (s.ok()) s = st.BindInt(2, static_cast<int64_t>(n.index));
      if (s.ok()) s = st.BindBlob(3, merkle::AsBytes(n.hash));
      if (s.ok()) s = st.Run();
      if (!s.ok()) return s;
    }
    if (absl::Status s = tx.Commit(); !s.ok()) return s;
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - t0).count();
  LimitResult r;
  r.events = rows.events.size();
  r.transactions = rows.nodes.size();
  r.events_per_s = static_cast<double>(r.events) / seconds;
  r.transactions_per_s = static_cast<double>(r.transactions) / seconds;
  r.cpu_us_per_event =
      (ThreadCpuMicros() - cpu0) / static_cast<double>(r.events);
  r.foreign_cores = foreign.Cores();
  return r;
}

// ---------------------------------------------------------------------------
// The large log.

struct BuiltLog {
  uint64_t events = 0;
  double seconds = 0;
  double events_per_s = 0;
  uint64_t tree_heads = 0;
  int64_t first_time = 0;
  int64_t last_time = 0;
  SizeStats entry;
  uint64_t file_bytes = 0;
  std::map<std::string, uint64_t> by_source;
  std::map<int, uint64_t> by_category;
  uint64_t by_actor = 0;  // kQueryActor
};

// Builds a log of `n` events spread over the last 30 days at `path`,
// through EventLog and EventStore as rustiq-eventd writes (validation,
// stamping, the compact range, group commit), with tree heads signed by
// keyd every 1000 events as svc/eventd, and the final head signed at the
// end. The clocks are the test hooks of EventLogOptions.
absl::StatusOr<BuiltLog> BuildLog(const config::StackConfig& cfg,
                                  const std::string& path, uint64_t n) {
  absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
      eventd::EventStore::Open(path, cfg.device_id);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> keyd =
      PrivateChannel(cfg, kBuildCaller, "keyd");
  if (!keyd.ok()) return keyd.status();
  eventd::KeydCheckpointSigner signer(*keyd);

  BuiltLog built;
  const int64_t step = std::max<int64_t>(
      1, kLogSpanNanos / std::max<int64_t>(1, static_cast<int64_t>(n)));
  // Ends a few minutes before now (the tree heads' times tick too).
  const int64_t start = WallNanos() - kLogSpanNanos - int64_t{300} * 1000000000;
  const int64_t mono_start = MonotonicNanos() - kLogSpanNanos;
  std::atomic<uint64_t> tick{0};
  eventd::EventLogOptions options;
  options.device_id = cfg.device_id;
  options.boot_id = BootId();
  options.max_batch_events = kBuildMaxBatch;
  options.sign_every_events = cfg.eventd.sign_every_events;
  options.sign_every = absl::Seconds(cfg.eventd.sign_every_seconds);
  options.wall_nanos = [&] {
    uint64_t k = tick.fetch_add(1, std::memory_order_relaxed);
    // Spread within the step, so that times are not evenly spaced.
    int64_t jitter = static_cast<int64_t>((k * 2654435761u) %
                                          static_cast<uint64_t>(step / 2 + 1));
    return start + static_cast<int64_t>(k) * step + jitter;
  };
  options.monotonic_nanos = [&] {
    return mono_start +
           static_cast<int64_t>(tick.load(std::memory_order_relaxed)) * step;
  };
  absl::StatusOr<std::unique_ptr<eventd::EventLog>> log =
      eventd::EventLog::Open(*std::move(store), options, &signer, nullptr);
  if (!log.ok()) return log.status();

  const Clock::time_point t0 = Clock::now();
  (*log)->Start();
  std::atomic<uint64_t> claimed{0};
  std::mutex mu;
  absl::Status error = absl::OkStatus();
  std::vector<std::thread> producers;
  for (int p = 0; p < kBuildProducers; ++p) {
    producers.emplace_back([&, p] {
      EventMix mix(0xb1d0 + static_cast<uint64_t>(p));
      std::map<std::string, uint64_t> by_source;
      std::map<int, uint64_t> by_category;
      uint64_t by_actor = 0;
      std::vector<v1::EventInput> inputs;
      while (!Interrupted()) {
        uint64_t first = claimed.fetch_add(kBuildAppend);
        if (first >= n) break;
        uint64_t count = std::min<uint64_t>(kBuildAppend, n - first);
        const std::string source = mix.NextSource();
        inputs.clear();
        for (uint64_t i = 0; i < count; ++i) {
          inputs.push_back(mix.Next(source));
          ++by_category[inputs.back().category()];
          if (inputs.back().actor() == kQueryActor) ++by_actor;
        }
        by_source[source] += count;
        absl::StatusOr<uint64_t> seq = (*log)->Append(source, inputs);
        if (!seq.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          error.Update(seq.status());
          break;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [k, v] : by_source) built.by_source[k] += v;
      for (const auto& [k, v] : by_category) built.by_category[k] += v;
      built.by_actor += by_actor;
    });
  }
  for (std::thread& t : producers) t.join();
  (*log)->Stop();  // writes what is pending and signs the final head
  built.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!error.ok()) return error;
  if (Interrupted()) return absl::CancelledError("interrupted");
  const eventd::EventStore& st = (*log)->store();
  built.events = (*log)->Current().size;
  built.events_per_s = static_cast<double>(built.events) / built.seconds;
  if (built.events != n) {
    return absl::InternalError(
        absl::StrCat("the log holds ", built.events, " events, not ", n));
  }
  std::optional<v1::TreeHead> head = (*log)->LatestSigned();
  if (!head.has_value() || head->size() != n) {
    return absl::InternalError(
        "the final tree head of the large log was not signed");
  }
  absl::StatusOr<std::vector<v1::TreeHead>> heads = st.TreeHeads(0, 1000000);
  if (!heads.ok()) return heads.status();
  built.tree_heads = heads->size();
  built.first_time = start;
  built.last_time = start + static_cast<int64_t>(n) * step;
  // Entry sizes, from the file.
  {
    storage::Database::Options ro;
    ro.read_only = true;
    ro.create = false;
    absl::StatusOr<std::unique_ptr<storage::Database>> db =
        storage::Database::Open(path, ro);
    if (!db.ok()) return db.status();
    absl::StatusOr<std::unique_ptr<storage::Statement>> q = (*db)->Prepare(
        "SELECT MIN(length(entry)), SUM(length(entry)), MAX(length(entry)), "
        "COUNT(*), MIN(time_ns), MAX(time_ns) FROM events");
    if (!q.ok()) return q.status();
    absl::StatusOr<bool> row = (*q)->Step();
    if (!row.ok()) return row.status();
    built.entry.min = static_cast<size_t>((*q)->ColumnInt(0));
    built.entry.max = static_cast<size_t>((*q)->ColumnInt(2));
    built.entry.mean =
        static_cast<double>((*q)->ColumnInt(1)) /
        static_cast<double>(std::max<int64_t>(1, (*q)->ColumnInt(3)));
    built.first_time = (*q)->ColumnInt(4);
    built.last_time = (*q)->ColumnInt(5);
  }
  log->reset();
  std::error_code ec;
  built.file_bytes = std::filesystem::file_size(path, ec);
  return built;
}

// keyd's event-checkpoint public key, as anyone may fetch it.
absl::StatusOr<pki::EvpPkeyPtr> CheckpointKey(const config::StackConfig& cfg) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      PrivateChannel(cfg, kReadCaller, "keyd");
  if (!ch.ok()) return ch.status();
  std::unique_ptr<KeysApi::Stub> keys = KeysApi::NewStub(*ch);
  v1::GetPublicKeyRequest req;
  req.set_name(eventd::kCheckpointKeyName);
  v1::PublicKey pub;
  if (absl::Status s = CallUnary("GetPublicKey", keys.get(),
                                 &KeysApi::Stub::GetPublicKey, req, &pub);
      !s.ok()) {
    return s;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(pub.der().data());
  pki::EvpPkeyPtr key(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(pub.der().size())));
  if (key == nullptr) {
    return absl::InternalError("keyd's event-checkpoint key does not parse");
  }
  return key;
}

// That `head` is signed by keyd's checkpoint key for this device and says
// what its fields say.
absl::Status CheckSignedHead(const v1::TreeHead& head, EVP_PKEY* key) {
  absl::StatusOr<merkle::Checkpoint> cp = merkle::OpenSignedCheckpoint(
      head.checkpoint(), eventd::CheckpointKeyName(kDeviceId), key);
  if (!cp.ok()) {
    return absl::InternalError(absl::StrCat("tree head of size ", head.size(),
                                            ": ", cp.status().message()));
  }
  if (cp->origin != eventd::CheckpointOrigin(kDeviceId) ||
      cp->size != head.size() ||
      merkle::AsBytes(cp->root) != head.root_hash()) {
    return absl::InternalError(absl::StrCat("tree head of size ", head.size(),
                                            ": its checkpoint says otherwise"));
  }
  return absl::OkStatus();
}

// Everything the query and proof workers need, from the daemon.
absl::Status PrepareQueries(QuerySetup* q, const BuiltLog& built,
                            EVP_PKEY* checkpoint_key,
                            const std::string& db_path) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      PrivateChannel(*q->config, kReadCaller, "eventd");
  if (!ch.ok()) return ch.status();
  std::unique_ptr<EventLogApi::Stub> stub = EventLogApi::NewStub(*ch);
  {
    v1::GetTreeHeadResponse head;
    if (absl::Status s = CallUnary("GetTreeHead", stub.get(),
                                   &EventLogApi::Stub::GetTreeHead, {}, &head);
        !s.ok()) {
      return s;
    }
    if (!head.has_latest_signed() ||
        head.latest_signed().size() < built.events) {
      return absl::InternalError("eventd reports no signed head of the log");
    }
    if (absl::Status c = CheckSignedHead(head.latest_signed(), checkpoint_key);
        !c.ok()) {
      return c;
    }
    q->size0 = head.current().size();
    q->signed_size = head.latest_signed().size();
    absl::StatusOr<merkle::Hash> root =
        ToHash(head.latest_signed().root_hash(), "signed root");
    if (!root.ok()) return root.status();
    q->signed_root = *root;
  }
  // Every signed head, each signature verified; the smaller ones are the
  // old sizes of the consistency proofs.
  for (uint64_t from = 0;;) {
    v1::ListTreeHeadsRequest req;
    req.set_from_size(from);
    req.set_page_size(1000);
    v1::ListTreeHeadsResponse resp;
    if (absl::Status s =
            CallUnary("ListTreeHeads", stub.get(),
                      &EventLogApi::Stub::ListTreeHeads, req, &resp);
        !s.ok()) {
      return s;
    }
    for (const v1::TreeHead& h : resp.heads()) {
      if (absl::Status c = CheckSignedHead(h, checkpoint_key); !c.ok()) {
        return c;
      }
      if (h.size() < q->signed_size) {
        absl::StatusOr<merkle::Hash> root = ToHash(h.root_hash(), "root");
        if (!root.ok()) return root.status();
        q->older_heads.push_back(h);
        q->older_roots.push_back(*root);
      }
    }
    if (!resp.more() || resp.heads().empty()) break;
    from = resp.heads(resp.heads_size() - 1).size() + 1;
  }
  if (q->older_heads.empty()) {
    return absl::InternalError("the log has a single signed head");
  }
  // Filters: every category and source of the mix (each holds far more
  // than a page), one person, one-hour windows inside the log's span.
  for (const auto& [c, count] : built.by_category) {
    if (count >= 10 * kPageSize) {
      q->categories.push_back(static_cast<v1::EventCategory>(c));
    }
  }
  for (const auto& [src, count] : built.by_source) {
    if (count >= 10 * kPageSize) q->sources.push_back(src);
  }
  std::mt19937_64 rng(0x71de);
  for (size_t i = 0; i < kWindows; ++i) {
    int64_t since =
        built.first_time +
        static_cast<int64_t>(std::uniform_int_distribution<uint64_t>(
            0, static_cast<uint64_t>(built.last_time - built.first_time -
                                     kHourNanos))(rng));
    q->windows.push_back({since, since + kHourNanos});
  }
  // A page half-way into the log: follow the page tokens there, newest
  // first, pages of 1000.
  std::string token;
  const uint64_t half = q->size0 / 2;
  while (q->deep.size() < kDeepTokens) {
    v1::QueryRequest req;
    req.set_newest_first(true);
    req.set_page_size(kWalkPageSize);
    req.set_page_token(token);
    v1::QueryResponse resp;
    if (absl::Status s = CallUnary("Query", stub.get(),
                                   &EventLogApi::Stub::Query, req, &resp);
        !s.ok()) {
      return s;
    }
    if (resp.events_size() != static_cast<int>(kWalkPageSize) ||
        resp.next_page_token().empty()) {
      return absl::InternalError("the walk through the log ended early");
    }
    for (int k = 1; k < resp.events_size(); ++k) {
      if (resp.events(k).seq() + 1 != resp.events(k - 1).seq()) {
        return absl::InternalError("the walk through the log skipped events");
      }
    }
    token = resp.next_page_token();
    uint64_t next_first = resp.events(resp.events_size() - 1).seq() - 1;
    if (next_first <= half) q->deep.push_back({token, next_first});
    if (next_first < 2 * kWalkPageSize) break;  // a small log: fewer pages
  }
  if (q->deep.empty()) return absl::InternalError("no page half-way in");
  // Proofs the verification rates verify, from the daemon, each checked.
  std::uniform_int_distribution<uint64_t> seqs(0, q->signed_size - 1);
  for (size_t i = 0; i < kCollectedInclusion; ++i) {
    v1::InclusionProofRequest req;
    req.set_seq(seqs(rng));
    req.set_tree_size(q->signed_size);
    v1::InclusionProof proof;
    if (absl::Status s =
            CallUnary("GetInclusionProof", stub.get(),
                      &EventLogApi::Stub::GetInclusionProof, req, &proof);
        !s.ok()) {
      return s;
    }
    if (absl::Status c = CheckInclusion(proof, q->signed_root); !c.ok()) {
      return c;
    }
    q->inclusion.push_back(std::move(proof));
  }
  std::uniform_int_distribution<size_t> heads(0, q->older_heads.size() - 1);
  for (size_t i = 0; i < kCollectedConsistency; ++i) {
    size_t h = heads(rng);
    v1::ConsistencyProofRequest req;
    req.set_old_size(q->older_heads[h].size());
    req.set_new_size(q->signed_size);
    v1::ConsistencyProof proof;
    if (absl::Status s =
            CallUnary("GetConsistencyProof", stub.get(),
                      &EventLogApi::Stub::GetConsistencyProof, req, &proof);
        !s.ok()) {
      return s;
    }
    if (absl::Status c =
            CheckConsistency(proof, q->older_roots[h], q->signed_root);
        !c.ok()) {
      return c;
    }
    q->consistency.push_back(std::move(proof));
    q->consistency_head.push_back(h);
  }
  // The same file in this process, read-only, as `rustiqctl events verify
  // --db` opens it beside the running daemon.
  absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
      eventd::EventStore::OpenReadOnly(db_path);
  if (!store.ok()) return store.status();
  q->store = *std::move(store);
  absl::StatusOr<merkle::Hash> root = merkle::RootAt(*q->store, q->signed_size);
  if (!root.ok()) return root.status();
  if (*root != q->signed_root) {
    return absl::InternalError(
        "the file opened in-process gives another root than eventd signed");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Flags.

// `threads`: of unary Append, Echo and the proofs.
struct Flags : RunFlags {
  std::vector<int> streams = {1, 4};
  int messages = 10;
  std::vector<int> query_threads = {1};
  uint64_t log_events = 1000000;
  bool quick = false;
  bool keep = false;    // --keep: leave the run's directory in place
  std::vector<Op> ops;  // --ops: only these (empty: all)
  bool appends = true;
  bool queries = true;
  std::string keyd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/keyd/rustiq-keyd");
  std::string eventd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/eventd/rustiq-eventd");
  std::string testserver =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/tests/testserver/rustiq-testserver");
};

constexpr char kUsage[] =
    "usage: eventd_bench [--quick] [--keep] [--seconds S] [--rounds N]\n"
    "       [--warmup S]\n"
    "       [--threads 1,4] [--streams 1,4] [--messages M]\n"
    "       [--query-threads 1] [--log-events N] [--sections A,B] [--ops A,B]\n"
    "       [--max-other-load C] [--keyd PATH] [--eventd PATH]\n"
    "       [--testserver PATH]\n"
    "  --quick       a short smoke run: --rounds 1 --seconds 0.5 --warmup 0.2\n"
    "                --log-events 100000 --messages 5 --max-other-load 0\n"
    "                (flags given override these)\n"
    "  --seconds     measured seconds per measurement and round (default 2)\n"
    "  --rounds      interleaved rounds; the tables show their median "
    "(default 3)\n"
    "  --warmup      unrecorded seconds before each measurement (default "
    "0.5)\n"
    "  --threads     client threads of unary Append, Echo and the proofs\n"
    "                (default 1,4)\n"
    "  --streams     concurrent AppendBatch streams (default 1,4)\n"
    "  --messages    messages of 1000 events per stream (default 10)\n"
    "  --query-threads  client threads of the queries (default 1)\n"
    "  --log-events  events in the log queried (default 1000000)\n"
    "  --sections    appends (sections 1-4), queries (5-6); default both\n"
    "  --ops         only these measurements, for profiling: base-echo,\n"
    "                append, append-batch (and with it the SQLite limit),\n"
    "                query-newest, query-category, query-source, query-actor,\n"
    "                query-window, query-deep, inclusion-proof,\n"
    "                consistency-proof, local-inclusion-proof,\n"
    "                local-consistency-proof, verify-inclusion,\n"
    "                verify-consistency; ratios need both of their sides\n"
    "  --max-other-load  repeat a measurement (up to 5 times) when other\n"
    "                processes used more than C cores meanwhile (default 0.1;\n"
    "                0: never)\n"
    "  --keyd, --eventd, --testserver  the daemons' binaries (default: this\n"
    "                build's)\n"
    "  --keep        leave the run's directory (device, logs, databases) in\n"
    "                place\n";

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  FlagParser parser;
  AddRunFlags(&parser, &f, 16);
  parser.Switch("--quick", &f.quick);
  parser.Switch("--keep", &f.keep);
  parser.Valued("--streams", [&f](const std::string& v) {
    return ParseCounts(v, 16, &f.streams);
  });
  parser.Valued("--query-threads", [&f](const std::string& v) {
    return ParseCounts(v, 16, &f.query_threads);
  });
  parser.Valued("--messages", [&f](const std::string& v) {
    return absl::SimpleAtoi(v, &f.messages) && f.messages > 0 &&
           f.messages <= 1000;
  });
  parser.Valued("--log-events", [&f](const std::string& v) {
    return absl::SimpleAtoi(v, &f.log_events) && f.log_events >= 20000 &&
           f.log_events <= 100000000;
  });
  parser.Valued("--sections", [&f](const std::string& v) {
    f.appends = f.queries = false;
    bool ok = true;
    for (absl::string_view s : absl::StrSplit(v, ',')) {
      if (s == "appends") {
        f.appends = true;
      } else if (s == "queries") {
        f.queries = true;
      } else {
        ok = false;
      }
    }
    return ok;
  });
  parser.Valued("--ops", [&f](const std::string& v) {
    bool ok = true;
    for (absl::string_view o : absl::StrSplit(v, ',')) {
      std::optional<Op> op = ParseOp(o);
      ok = ok && op.has_value();
      if (op.has_value()) f.ops.push_back(*op);
    }
    return ok;
  });
  parser.NonEmpty("--keyd", &f.keyd);
  parser.NonEmpty("--eventd", &f.eventd);
  parser.NonEmpty("--testserver", &f.testserver);
  if (absl::Status s = parser.Parse(argc, argv); !s.ok()) return s;
  if (f.quick) {
    ApplyQuickRun(parser, &f, /*seconds=*/0.5, /*warmup=*/0.2);
    if (!parser.Given("--log-events")) f.log_events = 100000;
    if (!parser.Given("--messages")) f.messages = 5;
  }
  return f;
}

// ---------------------------------------------------------------------------
// The run.

struct Cell {
  // Per round.
  std::vector<double> p50, p99, cps, eps, eventd_cpu, keyd_cpu, ts_cpu,
      client_cpu;
  void Add(const Measured& m) {
    p50.push_back(m.p50_us);
    p99.push_back(m.p99_us);
    cps.push_back(m.calls_per_s);
    eps.push_back(m.events_per_s);
    eventd_cpu.push_back(m.eventd_cpu_us);
    keyd_cpu.push_back(m.keyd_cpu_us);
    ts_cpu.push_back(m.testserver_cpu_us);
    client_cpu.push_back(m.client_cpu_us);
  }
};

struct LimitCell {
  std::vector<double> eps, tps, cpu, events;
};

struct Item {
  Op op;
  int n;  // threads, or streams
};

// `items` restricted to `ops` (all when empty).
std::vector<Item> Selected(const std::vector<Item>& items,
                           const std::vector<Op>& ops) {
  if (ops.empty()) return items;
  std::vector<Item> out;
  for (const Item& i : items) {
    if (std::find(ops.begin(), ops.end(), i.op) != ops.end()) out.push_back(i);
  }
  return out;
}

std::vector<double> Scaled(const std::vector<double>& v, double factor) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * factor);
  return out;
}

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  const std::string command = CommandLine(argc, argv);
  InstallStopSignals();
  auto fail = [](const absl::Status& s) {
    return RunFailed("eventd_bench", s);
  };

  absl::StatusOr<std::unique_ptr<TempDir>> dir =
      TempDir::Create("eventd-bench");
  if (!dir.ok()) return fail(dir.status());
  const std::string root = (*dir)->path();
  if (flags.keep) {
    (*dir)->Keep();
    fprintf(stderr, "eventd_bench: the run's directory %s is kept\n",
            root.c_str());
  }

  AppendSetup setup;
  setup.messages = flags.messages;
  absl::StatusOr<config::StackConfig> cfg = ProvisionDevice(
      root, DeviceSpec{kDeviceId,
                       {"keyd", "eventd", "testserver", kReadCaller},
                       {"rustiqctl"},
                       [](config::StackConfig* c) {
                         // The journal copy is eventd's convenience, not the
                         // log: off, whoever started the benchmark.
                         c->eventd.journal = "off";
                       }});
  if (!cfg.ok()) return fail(cfg.status());
  setup.config = *std::move(cfg);
  const config::EventdConfig& ec = setup.config.eventd;
  const std::string db_path =
      absl::StrCat(setup.config.paths.state_dir, "/eventd/events.db");

  // The events svc/keyd sends, stamped once to know their entries' size.
  {
    EventMix mix(0xa99e);
    const std::string source = absl::StrCat("svc/", kAppendCaller);
    eventd::Stamp stamp;
    stamp.seq = 1000000;
    stamp.time_unix_nanos = WallNanos();
    stamp.monotonic_nanos = MonotonicNanos();
    stamp.boot_id = BootId();
    stamp.source = source;
    size_t total = 0, count = 0;
    setup.entry.min = SIZE_MAX;
    auto account = [&](const v1::EventInput& in) {
      size_t n = eventd::EntryBytes(eventd::MakeEvent(in, stamp)).size();
      setup.entry.min = std::min(setup.entry.min, n);
      setup.entry.max = std::max(setup.entry.max, n);
      total += n;
      ++count;
    };
    for (size_t i = 0; i < kUnaryPool; ++i) {
      v1::AppendRequest req;
      *req.mutable_event() = mix.Next(source);
      account(req.event());
      setup.unary.push_back(std::move(req));
    }
    for (size_t b = 0; b < kBatchPool; ++b) {
      v1::AppendBatchRequest msg;
      for (size_t i = 0; i < kEventsPerMessage; ++i) {
        *msg.add_events() = mix.Next(source);
        account(msg.events(static_cast<int>(i)));
      }
      setup.batches.push_back(std::move(msg));
    }
    setup.entry.mean = static_cast<double>(total) / static_cast<double>(count);
  }
  absl::StatusOr<std::string> schema = EventStoreSchema(root);
  if (!schema.ok()) return fail(schema.status());

  // Declared after `dir`, so the daemons stop before the directory goes.
  Daemon keyd{"keyd", flags.keyd, "", -1, {}};
  Daemon testserver{
      "testserver", flags.testserver, "", -1, {"--name", "testserver"}};
  Daemon eventd1{"eventd", flags.eventd, "", -1, {}};
  // The second eventd, on the large log, under the same name (its socket)
  // but with a log file of its own.
  Daemon eventd2{"eventd",
                 flags.eventd,
                 absl::StrCat(root, "/eventd-large-log.log"),
                 -1,
                 {}};
  Daemons daemons(setup.config, "rustiq-keyd rustiq-eventd rustiq-testserver",
                  kReadCaller);
  for (Daemon* d : {&keyd, &testserver, &eventd1}) {
    if (absl::Status s = daemons.Spawn(d, root); !s.ok()) return fail(s);
  }
  // gRPC starts here, in the parent.
  if (absl::Status s = daemons.WaitServing(absl::Seconds(30)); !s.ok()) {
    return fail(s);
  }
  Pids clocks;
  for (auto [d, out] : {std::pair<Daemon*, clockid_t*>{&keyd, &clocks.keyd},
                        {&testserver, &clocks.testserver},
                        {&eventd1, &clocks.eventd}}) {
    absl::StatusOr<clockid_t> clock = ProcessCpuClock(d->pid);
    if (!clock.ok()) return fail(clock.status());
    *out = *clock;
  }
  const std::string keyd_confinement = AnnounceDaemon(keyd);
  const std::string eventd_confinement = AnnounceDaemon(eventd1);
  const std::string testserver_confinement = AnnounceDaemon(testserver);
  fprintf(stderr, "client: pid %d\n", getpid());
  absl::StatusOr<pki::EvpPkeyPtr> checkpoint_key = CheckpointKey(setup.config);
  if (!checkpoint_key.ok()) return fail(checkpoint_key.status());

  const absl::Duration warmup = absl::Seconds(flags.warmup);
  const absl::Duration measure = absl::Seconds(flags.seconds);
  std::map<std::pair<Op, int>, Cell> cells;
  LimitCell limit;
  QuietCheck quiet(flags.max_other_load);
  const Clock::time_point run_start = Clock::now();

  // One measurement, repeated while the machine was busy.
  auto measure_item = [&](const Phase& phase, int round,
                          const Item& item) -> absl::StatusOr<Measured> {
    absl::StatusOr<Measured> r = quiet.Run(
        [&] { return Measure(phase, item.op, item.n, warmup, measure); },
        [&](double cores) {
          fprintf(stderr,
                  "round=%d/%d n=%d op=%s other_cores=%.2f: measuring again\n",
                  round + 1, flags.rounds, item.n, OpName(item.op), cores);
        });
    if (!r.ok()) return r.status();
    cells[{item.op, item.n}].Add(*r);
    fprintf(stderr,
            "eventd_bench round=%d/%d op=%s n=%d p50_us=%.1f p99_us=%.1f "
            "calls_per_s=%.0f events_per_s=%.0f eventd_cpu_us=%.1f "
            "keyd_cpu_us=%.1f client_cpu_us=%.1f calls=%llu other_cores=%.2f\n",
            round + 1, flags.rounds, OpName(item.op), item.n, r->p50_us,
            r->p99_us, r->calls_per_s, r->events_per_s, r->eventd_cpu_us,
            r->keyd_cpu_us, r->client_cpu_us,
            static_cast<unsigned long long>(r->calls), r->foreign_cores);
    return r;
  };

  // Sections 1-4: appends to a fresh log, the limit, the baseline.
  std::vector<SeqRange> acked;
  uint64_t log1_size = 0, log1_heads = 0;
  double appends_seconds = 0;
  if (flags.appends) {
    Phase phase;
    phase.appends = &setup;
    phase.clocks = clocks;
    phase.acked = &acked;
    std::vector<Item> items;
    for (int t : flags.threads) items.push_back({Op::kEcho, t});
    for (int t : flags.threads) items.push_back({Op::kAppend, t});
    for (int s : flags.streams) items.push_back({Op::kBatch, s});
    items = Selected(items, flags.ops);
    const bool with_limit =
        std::any_of(items.begin(), items.end(),
                    [](const Item& i) { return i.op == Op::kBatch; });
    const int limit_streams = flags.streams.front();
    for (int round = 0; round < flags.rounds; ++round) {
      uint64_t batch_events = 0;
      for (const Item& item : Rotated(items, round)) {
        absl::StatusOr<Measured> r = measure_item(phase, round, item);
        if (!r.ok()) return fail(r.status());
        if (item.op == Op::kBatch && item.n == limit_streams) {
          batch_events = r->events;
        }
      }
      if (!with_limit) continue;
      // The limit: as many rows as that stream measurement appended, whole
      // transactions of 1000.
      uint64_t rows_n = std::max<uint64_t>(
          kEventsPerMessage,
          batch_events / kEventsPerMessage * kEventsPerMessage);
      LimitRows rows = MakeLimitRows(setup, rows_n);
      const std::string path = absl::StrCat(root, "/limit.db");
      absl::StatusOr<LimitResult> lr = quiet.Run(
          [&] { return RunLimit(rows, *schema, path, clocks.all()); },
          [&](double cores) {
            fprintf(stderr,
                    "round=%d/%d op=sqlite-limit other_cores=%.2f: measuring "
                    "again\n",
                    round + 1, flags.rounds, cores);
          });
      if (!lr.ok()) return fail(lr.status());
      limit.eps.push_back(lr->events_per_s);
      limit.tps.push_back(lr->transactions_per_s);
      limit.cpu.push_back(lr->cpu_us_per_event);
      limit.events.push_back(static_cast<double>(lr->events));
      fprintf(stderr,
              "eventd_bench round=%d/%d op=sqlite-limit events=%llu "
              "events_per_s=%.0f transactions_per_s=%.0f cpu_us=%.2f "
              "other_cores=%.2f\n",
              round + 1, flags.rounds,
              static_cast<unsigned long long>(lr->events), lr->events_per_s,
              lr->transactions_per_s, lr->cpu_us_per_event, lr->foreign_cores);
      RemoveDatabase(path);
    }
    appends_seconds =
        std::chrono::duration<double>(Clock::now() - run_start).count();
  }

  // The append phase's log must pass eventd's own start checks after a
  // clean stop, signed up to its last event, and hold every acknowledged
  // event.
  if (absl::Status s = daemons.StopOne(&eventd1); !s.ok()) return fail(s);
  {
    absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
        eventd::EventStore::Open(db_path, kDeviceId);
    if (!store.ok()) return fail(store.status());
    const eventd::StoreState& state = (*store)->opened_state();
    log1_size = state.size;
    if (!state.latest_signed.has_value() ||
        state.latest_signed->size() != state.size) {
      return fail(absl::InternalError(
          "after a clean stop, the append phase's log is not signed up to "
          "its last event"));
    }
    if (absl::Status c =
            CheckSignedHead(*state.latest_signed, checkpoint_key->get());
        !c.ok()) {
      return fail(c);
    }
    if (!acked.empty() &&
        acked.back().first + acked.back().count > state.size) {
      return fail(absl::InternalError(
          absl::StrCat("event ", acked.back().first,
                       " was acknowledged but the log ends at ", state.size)));
    }
    absl::StatusOr<std::vector<v1::TreeHead>> heads =
        (*store)->TreeHeads(0, 100000000);
    if (!heads.ok()) return fail(heads.status());
    log1_heads = heads->size();
  }
  uint64_t acked_events = 0;
  for (const SeqRange& r : acked) acked_events += r.count;

  // Sections 5-6: the large log.
  BuiltLog built;
  double eventd2_start_s = 0;
  QuerySetup qsetup;
  qsetup.config = &setup.config;
  std::string eventd2_confinement;
  if (flags.queries) {
    RemoveDatabase(db_path);
    fprintf(stderr, "building a log of %llu events in %s\n",
            static_cast<unsigned long long>(flags.log_events), db_path.c_str());
    absl::StatusOr<BuiltLog> b =
        BuildLog(setup.config, db_path, flags.log_events);
    if (!b.ok()) return fail(b.status());
    built = *std::move(b);
    fprintf(stderr,
            "built: %llu events in %.1f s (%.0f events/s), %llu tree heads, "
            "%llu bytes\n",
            static_cast<unsigned long long>(built.events), built.seconds,
            built.events_per_s,
            static_cast<unsigned long long>(built.tree_heads),
            static_cast<unsigned long long>(built.file_bytes));
    const Clock::time_point t0 = Clock::now();
    if (absl::Status s = daemons.Spawn(&eventd2, root); !s.ok()) {
      return fail(s);
    }
    if (absl::Status s = daemons.WaitServing(absl::Seconds(120)); !s.ok()) {
      return fail(s);
    }
    eventd2_start_s = std::chrono::duration<double>(Clock::now() - t0).count();
    absl::StatusOr<clockid_t> clock = ProcessCpuClock(eventd2.pid);
    if (!clock.ok()) return fail(clock.status());
    clocks.eventd = *clock;
    eventd2_confinement = ConfinementOf(eventd2.pid);
    fprintf(stderr,
            "rustiq-eventd on the large log: pid %d (%s), serving "
            "after %.2f s\n",
            eventd2.pid, eventd2_confinement.c_str(), eventd2_start_s);
    if (absl::Status s =
            PrepareQueries(&qsetup, built, checkpoint_key->get(), db_path);
        !s.ok()) {
      return fail(s);
    }
    Phase phase;
    phase.queries = &qsetup;
    phase.clocks = clocks;
    std::vector<Item> items;
    for (int t : flags.query_threads) {
      for (Op op : kQueryOps) items.push_back({op, t});
    }
    for (int t : flags.threads) {
      for (Op op : kProofOps) items.push_back({op, t});
    }
    items = Selected(items, flags.ops);
    for (int round = 0; round < flags.rounds; ++round) {
      for (const Item& item : Rotated(items, round)) {
        absl::StatusOr<Measured> r = measure_item(phase, round, item);
        if (!r.ok()) return fail(r.status());
      }
    }
  }
  const std::string keyd_log = ReadWholeFile(keyd.log_path);
  const size_t keyd_log_bytes = keyd_log.size();
  const size_t eventd_log_bytes = ReadWholeFile(eventd1.log_path).size();
  const size_t eventd2_log_bytes =
      flags.queries ? ReadWholeFile(eventd2.log_path).size() : 0;
  qsetup.store.reset();
  // The daemons must stop cleanly, without a single denial, for the tables
  // to count: eventd first (it signs its final head through keyd).
  if (flags.queries) {
    if (absl::Status s = daemons.StopOne(&eventd2); !s.ok()) return fail(s);
  }
  if (absl::Status s = daemons.Stop(); !s.ok()) return fail(s);
  const double total_seconds =
      std::chrono::duration<double>(Clock::now() - run_start).count();

  // -------------------------------------------------------------------------
  // The report.
  auto cell = [&](Op op, int n) -> const Cell* {
    auto it = cells.find({op, n});
    return it == cells.end() ? nullptr : &it->second;
  };
  // Ratios and targets leave out what was not measured.
  const Cell empty;
  auto get = [&](Op op, int n) -> const Cell& {
    const Cell* c = cell(op, n);
    return c == nullptr ? empty : *c;
  };
  std::string out = ReportHead(
      "Event log: durable appends, queries and proofs through rustiq-eventd",
      command);
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- daemons: rustiq-eventd (%s), rustiq-keyd (soft backend; %s) "
          "and rustiq-testserver (%s), each confined by its own policy, on "
          "a device provisioned through keyd; eventd with the shipped "
          "settings (group commit of up to %u events, a tree head signed by "
          "keyd every %u events or %u s, retention %u days / %u events) but "
          "the journal copy off; daemons' logs during the run: eventd %u "
          "bytes (on the large log: %u), keyd %u bytes\n",
          eventd_confinement, keyd_confinement, testserver_confinement,
          ec.max_batch_events, ec.sign_every_events, ec.sign_every_seconds,
          ec.retention_days, ec.retention_max_events, eventd_log_bytes,
          eventd2_log_bytes, keyd_log_bytes));
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- events: a realistic mix of what keyd, authd, cloudd, updated "
          "and supervisord record (key.used, message.published, "
          "permission.checked, call.denied, login.failed, update.step, "
          "sandbox.violation, ...: a category, an action, an actor, three "
          "to five attributes); appended as svc/keyd, whose events they are "
          "(key.used, key.use.denied, cert.issued, call.denied): entries of "
          "%s bytes (min/mean/max, as eventd stores them)\n",
          setup.entry.ToString()));
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: %d interleaved rounds (the order rotates each round); "
          "per round and measurement %.1f s warm-up then %.1f s of "
          "back-to-back blocking calls; each client thread (or stream) has "
          "its own channel and connection (common/rpc ChannelFactory, "
          "private_connection); appends as svc/keyd, queries, proofs and "
          "the baseline as svc/supervisord; AppendBatch: each stream sends "
          "%d messages of %u events, then waits for the answer (all "
          "durable); the limit: as many rows as the %d-stream measurement "
          "of the same round appended, prepared beforehand (entries, leaf "
          "and node hashes as eventd makes them), inserted with statements "
          "prepared once, %u events and their Merkle nodes per "
          "transaction, into a fresh file with the schema read back from "
          "one EventStore::Open created, through common/storage (WAL, "
          "synchronous=FULL, checked); figures are the median across "
          "rounds; CPU per call: each process's CPU time over the window "
          "(eventd and keyd: all their threads, including tree-head "
          "signing; client: this process) divided by the calls\n",
          flags.rounds, flags.warmup, flags.seconds, flags.messages,
          kEventsPerMessage, flags.streams.front(), kEventsPerMessage));
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- checks: every reply checked (each acknowledged seq new, %llu "
          "events acknowledged in all; each stream's count and first seqs; "
          "every page full, newest first, matching its filter; every proof "
          "verified against a signed root); each connection's first call "
          "checked in full (its event's inclusion proven; for queries, the "
          "returned event's entry hashed to its leaf); after a clean stop "
          "the append phase's log (%llu events, %llu signed heads) passed "
          "EventStore::Open's checks and its last head, of its full size, "
          "verified with keyd's event-checkpoint key\n",
          static_cast<unsigned long long>(acked_events),
          static_cast<unsigned long long>(log1_size),
          static_cast<unsigned long long>(log1_heads)));
  if (flags.queries) {
    std::vector<std::string> shares;
    auto pct = [&](uint64_t n) {
      return 100.0 * static_cast<double>(n) / static_cast<double>(built.events);
    };
    for (const auto& [c, n] : built.by_category) {
      shares.push_back(absl::StrFormat("%s %.1f%%", CategoryName(c), pct(n)));
    }
    std::vector<std::string> sources;
    for (const auto& [s, n] : built.by_source) {
      sources.push_back(absl::StrFormat("%s %.1f%%", s, pct(n)));
    }
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "- the large log: %llu events built in this process through "
            "services/eventd's EventLog and EventStore (validation, "
            "stamping, compact range, group commit of up to %u events, "
            "%d producers appending %u events at a time) into eventd's own "
            "database file in %.1f s (%.0f events/s; %llu tree heads "
            "signed by keyd as svc/eventd; %.0f MB), its clock spread over "
            "%.0f days; entries of %s bytes; categories: %s; sources: %s; "
            "actor %s: %.1f%%; then a second rustiq-eventd was started on "
            "it (serving after %.2f s; %s) and queried over mTLS; its "
            "latest signed head (size %llu) and every other one (%zu) "
            "verified with keyd's event-checkpoint key; the page half-way "
            "in: %zu page tokens collected by following the tokens of "
            "pages of %u, newest first, from the newest event down to seq "
            "%llu, each then asked for a page of %u; time windows: %zu "
            "random one-hour windows inside the log's span; category and "
            "source pages cycle through every category and source of the "
            "mix; in-process proofs on the same file opened read-only "
            "beside the daemon (EventStore::OpenReadOnly), verification of "
            "%zu inclusion and %zu consistency proofs the daemon gave, "
            "decoded beforehand\n",
            static_cast<unsigned long long>(built.events), kBuildMaxBatch,
            kBuildProducers, kBuildAppend, built.seconds, built.events_per_s,
            static_cast<unsigned long long>(built.tree_heads),
            static_cast<double>(built.file_bytes) / 1e6,
            static_cast<double>(built.last_time - built.first_time) /
                (86400.0 * 1e9),
            built.entry.ToString(), absl::StrJoin(shares, ", "),
            absl::StrJoin(sources, ", "), kQueryActor, pct(built.by_actor),
            eventd2_start_s, eventd2_confinement,
            static_cast<unsigned long long>(qsetup.signed_size),
            qsetup.older_heads.size(), qsetup.deep.size(), kWalkPageSize,
            static_cast<unsigned long long>(
                qsetup.deep.empty() ? 0 : qsetup.deep.back().first_seq),
            kPageSize, qsetup.windows.size(), qsetup.inclusion.size(),
            qsetup.consistency.size()));
  }
  absl::StrAppend(
      &out, quiet.Summary("the benchmark's and the three daemons'"), "; ",
      flags.max_other_load > 0
          ? quiet.Repeats()
          : std::string(
                "measurements not repeated for it (--max-other-load 0)"),
      "\n");
  absl::StrAppend(&out, absl::StrFormat("- duration: %.0f s (appends %.0f s)\n",
                                        total_seconds, appends_seconds));

  RatioTable ratios("eventd_bench");
  std::vector<std::string> machine;
  auto machine_line = [&](Op op, int n, const Cell& c) {
    machine.push_back(absl::StrFormat(
        "eventd_bench op=%s n=%d rounds=%d seconds=%.1f p50_us=%.1f "
        "p99_us=%.1f calls_per_s=%.0f events_per_s=%.0f eventd_cpu_us=%.1f "
        "keyd_cpu_us=%.1f testserver_cpu_us=%.1f client_cpu_us=%.1f",
        OpName(op), n, flags.rounds, flags.seconds, Median(c.p50),
        Median(c.p99), Median(c.cps), Median(c.eps), Median(c.eventd_cpu),
        Median(c.keyd_cpu), Median(c.ts_cpu), Median(c.client_cpu)));
  };

  if (flags.appends) {
    absl::StrAppend(
        &out,
        "\n### 1. Durable unary Append (one event, answered once durable)\n\n"
        "| clients | p50 µs | p99 µs | calls/s | eventd CPU µs/call | keyd "
        "CPU µs/call | client CPU µs/call |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int t : flags.threads) {
      const Cell* c = cell(Op::kAppend, t);
      if (c == nullptr) continue;  // not measured (--ops)
      absl::StrAppend(
          &out, absl::StrFormat("| %d | %.1f | %.1f | %.0f | %.1f | %.1f | "
                                "%.1f |\n",
                                t, Median(c->p50), Median(c->p99),
                                Median(c->cps), Median(c->eventd_cpu),
                                Median(c->keyd_cpu), Median(c->client_cpu)));
      machine_line(Op::kAppend, t, *c);
    }
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "\n### 2. Durable appends through AppendBatch streams (%d "
            "messages of %u events per stream)\n\n",
            flags.messages, kEventsPerMessage),
        "| streams | p50 ms per stream | p99 ms per stream | events/s | "
        "eventd CPU µs/event | keyd CPU µs/event | client CPU µs/event |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n");
    const double per_stream =
        static_cast<double>(flags.messages) * kEventsPerMessage;
    for (int s : flags.streams) {
      const Cell* c = cell(Op::kBatch, s);
      if (c == nullptr) continue;  // not measured (--ops)
      absl::StrAppend(
          &out,
          absl::StrFormat("| %d | %.1f | %.1f | %.0f | %.2f | %.2f | %.2f |\n",
                          s, Median(c->p50) / 1000, Median(c->p99) / 1000,
                          Median(c->eps), Median(c->eventd_cpu) / per_stream,
                          Median(c->keyd_cpu) / per_stream,
                          Median(c->client_cpu) / per_stream));
      machine_line(Op::kBatch, s, *c);
    }
    if (!limit.eps.empty()) {
      absl::StrAppend(
          &out,
          "\n### 3. The limit: the same rows straight into SQLite, in this "
          "process\n\n"
          "| rows (events) | events per transaction | events/s | "
          "transactions/s | CPU µs/event |\n"
          "|---:|---:|---:|---:|---:|\n",
          absl::StrFormat("| %.0f | %u | %.0f | %.0f | %.2f |\n",
                          Median(limit.events), kEventsPerMessage,
                          Median(limit.eps), Median(limit.tps),
                          Median(limit.cpu)));
      machine.push_back(absl::StrFormat(
          "eventd_bench op=sqlite-limit rounds=%d events=%.0f "
          "events_per_transaction=%u events_per_s=%.0f transactions_per_s=%.0f "
          "cpu_us=%.2f",
          flags.rounds, Median(limit.events), kEventsPerMessage,
          Median(limit.eps), Median(limit.tps), Median(limit.cpu)));
    }
    absl::StrAppend(
        &out,
        "\n### 4. Baseline: the RPC layer's plain mTLS unary call\n\n"
        "| operation | clients | p50 µs | p99 µs | calls/s | server CPU "
        "µs/call | client CPU µs/call |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n");
    for (int t : flags.threads) {
      const Cell* c = cell(Op::kEcho, t);
      if (c == nullptr) continue;  // not measured (--ops)
      absl::StrAppend(
          &out,
          absl::StrFormat("| (base) Echo, rustiq-testserver | %d | %.1f "
                          "| %.1f | %.0f | %.1f | %.1f |\n",
                          t, Median(c->p50), Median(c->p99), Median(c->cps),
                          Median(c->ts_cpu), Median(c->client_cpu)));
      machine_line(Op::kEcho, t, *c);
    }
  }
  if (flags.queries) {
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "\n### 5. Queries on a log of %llu events (pages of %u, newest "
            "first)\n\n",
            static_cast<unsigned long long>(built.events), kPageSize),
        "| query | clients | p50 µs | p99 µs | queries/s | eventd CPU "
        "µs/query | client CPU µs/query |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n");
    auto query_label = [&](Op op) -> std::string {
      switch (op) {
        case Op::kNewest:
          return "newest page";
        case Op::kCategory:
          return absl::StrFormat("by category (one of %zu)",
                                 qsetup.categories.size());
        case Op::kSource:
          return absl::StrFormat("by source (one of %zu)",
                                 qsetup.sources.size());
        case Op::kActor:
          return absl::StrFormat("by actor %s (%.1f%% of events)", kQueryActor,
                                 100.0 * static_cast<double>(built.by_actor) /
                                     static_cast<double>(built.events));
        case Op::kWindow:
          return "by a one-hour time window";
        case Op::kDeep:
          return "half-way in, by page token";
        default:
          return OpName(op);
      }
    };
    for (int t : flags.query_threads) {
      for (Op op : kQueryOps) {
        const Cell* c = cell(op, t);
        if (c == nullptr) continue;  // not measured (--ops)
        absl::StrAppend(
            &out,
            absl::StrFormat("| %s | %d | %.1f | %.1f | %.0f | %.1f | "
                            "%.1f |\n",
                            query_label(op), t, Median(c->p50), Median(c->p99),
                            Median(c->cps), Median(c->eventd_cpu),
                            Median(c->client_cpu)));
        machine_line(op, t, *c);
      }
    }
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "\n### 6. Proofs on the same log (to the signed head of size "
            "%llu)\n\n",
            static_cast<unsigned long long>(qsetup.signed_size)),
        "| operation | threads | p50 µs | p99 µs | per second | eventd CPU "
        "µs/op | client CPU µs/op |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n");
    auto proof_label = [](Op op) -> const char* {
      switch (op) {
        case Op::kInclusion:
          return "GetInclusionProof, eventd (reply verified)";
        case Op::kConsistency:
          return "GetConsistencyProof, eventd (reply verified)";
        case Op::kLocalInclusion:
          return "merkle::InclusionProof in-process, on the file";
        case Op::kLocalConsistency:
          return "merkle::ConsistencyProof in-process, on the file";
        case Op::kVerifyInclusion:
          return "merkle::VerifyInclusion";
        case Op::kVerifyConsistency:
          return "merkle::VerifyConsistency";
        default:
          return "?";
      }
    };
    for (int t : flags.threads) {
      for (Op op : kProofOps) {
        const Cell* c = cell(op, t);
        if (c == nullptr) continue;  // not measured (--ops)
        absl::StrAppend(
            &out,
            absl::StrFormat(
                "| %s | %d | %.1f | %.1f | %.0f | %s | %.1f |\n",
                proof_label(op), t, Median(c->p50), Median(c->p99),
                Median(c->cps),
                InProcess(op) ? std::string("–")
                              : absl::StrFormat("%.1f", Median(c->eventd_cpu)),
                Median(c->client_cpu)));
        machine_line(op, t, *c);
      }
    }
  }

  if (flags.appends) {
    for (int t : flags.threads) {
      const Cell& a = get(Op::kAppend, t);
      const Cell& e = get(Op::kEcho, t);
      ratios.AddRatio("unary Append / (base) Echo calls/s", "append/base-calls",
                      t, a.cps, e.cps, 0);
      ratios.AddRatio("unary Append / (base) Echo p50 latency",
                      "append/base-p50", t, a.p50, e.p50, 0);
    }
    for (int s : flags.streams) {
      const Cell& b = get(Op::kBatch, s);
      ratios.AddRatio("AppendBatch / SQLite limit events/s",
                      "batch/limit-events", s, b.eps, limit.eps, 0);
    }
    for (int t : flags.threads) {
      for (int s : flags.streams) {
        if (s != t) continue;
        ratios.AddRatio("AppendBatch / unary Append events/s",
                        "batch/append-events", t, get(Op::kBatch, s).eps,
                        get(Op::kAppend, t).cps, 0);
      }
    }
    {
      ratios.AddTarget("unary Append p99 latency", "append-p99-ms", 1,
                       Scaled(get(Op::kAppend, 1).p99, 1e-3), 3, "ms",
                       /*below=*/true, 2.0);
    }
    for (int s : flags.streams) {
      ratios.AddTarget("AppendBatch durable events/s", "batch-events-per-s", s,
                       get(Op::kBatch, s).eps, 0, "events/s",
                       /*below=*/false, 50000);
    }
  }
  if (!ratios.empty()) {
    absl::StrAppend(
        &out,
        ratios.Section(
            "Ratios and targets",
            "From the medians above; \"per round\" lists the same figure "
            "within each round, to show the noise. \"threads\" is clients or "
            "streams. Targets: a single unary Append at 1 client with p99 < 2 "
            "ms; ≥ 50,000 durable events per second through AppendBatch."));
  }
  machine.insert(machine.end(), ratios.machine_lines().begin(),
                 ratios.machine_lines().end());
  if (flags.queries) {
    machine.push_back(absl::StrFormat(
        "eventd_bench op=build-log events=%llu seconds=%.1f "
        "events_per_s=%.0f tree_heads=%llu eventd_start_s=%.2f",
        static_cast<unsigned long long>(built.events), built.seconds,
        built.events_per_s, static_cast<unsigned long long>(built.tree_heads),
        eventd2_start_s));
  }
  absl::StrAppend(
      &out, MachineReadable("One line per measurement (medians across rounds), "
                            "per ratio and per target.",
                            machine));
  PrintReport(out);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) return UsageExit("eventd_bench", flags.status(), kUsage);
  return RunBenchmark(*flags, argc, argv);
}
