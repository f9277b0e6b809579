// 'rustiqctl events' as an operator runs it: the real rustiqctl binary
// against the EventLog service on the device's real eventd socket, behind
// the real enforcement point, over real mTLS. Reading the log needs a token
// holding events.read; tokens come with authd (issue 6), so, as in
// cli_keys_admin_test, the service runs in this test process with a test
// token verifier standing in for authd's, backed by a real EventLog on a
// real SQLite file in the device's state directory. A real rustiq-keyd
// child signs the tree heads (eventd's KeydCheckpointSigner, as svc/eventd)
// and gives `events verify` the device's checkpoint public key.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "common/rpc/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/events.grpc.pb.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_log_service.h"
#include "services/eventd/event_store.h"
#include "services/eventd/own_event_sink.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Stands in for authd's verifier: "reader" holds events.read, anything else
// is not a valid token. Counts what it is asked, so that a test can tell
// that nothing reached eventd.
class TestTokens : public rpc::TokenVerifier {
 public:
  absl::StatusOr<rpc::TokenClaims> Verify(absl::string_view token) override {
    ++checks_;
    if (token != "reader") {
      return absl::UnauthenticatedError("the token is not valid");
    }
    rpc::TokenClaims claims;
    claims.subject = "reader";
    claims.permissions = {"events.read"};
    return claims;
  }
  int checks() const { return checks_; }

 private:
  std::atomic<int> checks_{0};
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool OneLine(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

// Parses `text` as JSON; a parse failure fails the test and gives null.
nlohmann::json Json(const std::string& text) {
  nlohmann::json j =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j.is_discarded() ? nlohmann::json() : j;
}

// The seqs of a `--json events list` answer, in order.
std::vector<uint64_t> Seqs(const nlohmann::json& list) {
  std::vector<uint64_t> seqs;
  if (!list.contains("events")) return seqs;
  for (const auto& e : list["events"]) seqs.push_back(e["seq"].get<uint64_t>());
  return seqs;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string PublicPem(EVP_PKEY* key) {
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// rustiqctl started without a shell, its stdout read line by line as it
// comes (for `events tail`, which runs until it is stopped).
class CtlProcess {
 public:
  CtlProcess(const std::vector<std::string>& args, const std::string& env,
             const std::string& err_path) {
    std::vector<std::string> argv = {BinaryPath("cli/rustiqctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> argv_c;
    for (std::string& a : argv) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    std::string env_copy = env;
    std::vector<char*> envp = {env_copy.data(), nullptr};
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    // Everything the child needs is made before fork(): the test process
    // has threads, so the child may only call async-signal-safe functions.
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) dup2(err, STDERR_FILENO);
      execve(argv_c[0], argv_c.data(), envp.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~CtlProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // The next line of its stdout, or nullopt at its end or after `timeout`.
  std::optional<std::string> ReadLine(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      int ready =
          poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (ready <= 0) continue;
      char buf[4096];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  // Sends `sig` and waits for the exit: its exit code, or -1 when it did
  // not exit normally within `timeout`.
  int StopWith(int sig, absl::Duration timeout) {
    kill(pid_, sig);
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

v1::EventInput Input(
    v1::EventCategory category, absl::string_view action,
    v1::EventOutcome outcome, v1::EventSeverity severity,
    absl::string_view actor = "",
    const std::map<std::string, std::string>& attributes = {}) {
  v1::EventInput in;
  in.set_category(category);
  in.set_action(std::string(action));
  in.set_outcome(outcome);
  in.set_severity(severity);
  in.set_actor(std::string(actor));
  for (const auto& [k, v] : attributes) {
    v1::EventAttribute* a = in.add_attributes();
    a->set_key(k);
    a->set_value(v);
  }
  return in;
}

v1::EventInput Simple(absl::string_view action) {
  return Input(v1::EVENT_CATEGORY_AUTH, action, v1::EVENT_OUTCOME_SUCCESS,
               v1::EVENT_SEVERITY_INFO);
}

class CliEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd_ = std::make_unique<ServerProcess>(device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
    auto to_keyd =
        rpc::ChannelFactory(device_.ClientFor("svc/eventd")).ForDaemon("keyd");
    ASSERT_TRUE(to_keyd.ok()) << to_keyd.status();
    signer_ = std::make_unique<eventd::KeydCheckpointSigner>(*to_keyd);
    std::filesystem::create_directories(
        std::filesystem::path(DbPath()).parent_path());
    StartEventd();
    runtime_ = device_.root() + "/xdg";
    std::filesystem::create_directories(runtime_ + "/rustiq");
    chmod(runtime_.c_str(), 0700);
  }
  void TearDown() override { StopEventd(); }

  void StartEventd() {
    auto store = eventd::EventStore::Open(DbPath(), "test-device");
    ASSERT_TRUE(store.ok()) << store.status();
    eventd::EventLogOptions options;
    options.device_id = "test-device";
    options.boot_id = "test-boot";
    // Tree heads are signed when a test says so (SignNow) and at Stop().
    options.sign_every_events = 1000000;
    options.sign_every = absl::Hours(24);
    options.wall_nanos = [this] {
      return absl::ToUnixNanos(absl::Now()) - clock_behind_nanos_.load();
    };
    auto log = eventd::EventLog::Open(*std::move(store), options, signer_.get(),
                                      nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    log_->Start();
    sink_.set_log(log_.get());
    service_ = std::make_unique<eventd::EventLogService>(log_.get());
    auto server = rpc::RpcServer::Start(
        rpc::ServerOptionsFromConfig(device_.config(), "eventd"),
        {rpc::Serve<v1::EventLog>(service_.get())}, &sink_, &tokens_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Stops serving and closes the log file (a clean stop signs the head).
  void StopEventd() {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    sink_.set_log(nullptr);
    if (log_ != nullptr) log_->Stop();
    log_.reset();
    service_.reset();
  }

  std::string DbPath() const {
    return absl::StrCat(device_.config().paths.state_dir, "/eventd/events.db");
  }
  std::string Temp(absl::string_view name) const {
    return absl::StrCat(device_.root(), "/", name);
  }

  uint64_t Append(absl::string_view source, const v1::EventInput& in) {
    absl::StatusOr<uint64_t> seq = log_->Append(source, {in});
    EXPECT_TRUE(seq.ok()) << seq.status();
    return seq.value_or(0);
  }

  void LogIn(const std::string& token) {
    std::string path = runtime_ + "/rustiq/token";
    unlink(path.c_str());
    std::ofstream(path) << token << "\n";
    chmod(path.c_str(), 0600);
  }

  CtlRun Run(const std::string& args) {
    return Ctl(absl::StrCat("--config ", device_.config_path(), " ", args),
               absl::StrCat("XDG_RUNTIME_DIR=", runtime_));
  }

  // `config_path` empty: the device's.
  std::unique_ptr<CtlProcess> Spawn(std::vector<std::string> args,
                                    std::string config_path = "") {
    if (config_path.empty()) config_path = device_.config_path();
    args.insert(args.begin(), {"--config", config_path});
    return std::make_unique<CtlProcess>(
        args, absl::StrCat("XDG_RUNTIME_DIR=", runtime_), Temp("tail.err"));
  }

  // The device's configuration with rpc.call_deadline_ms = 1000, for
  // rustiqctl only.
  std::string ShortDeadlineConfig() {
    config::StackConfig c = device_.config();
    c.rpc.call_deadline_ms = 1000;
    std::string path = Temp("short-deadline.toml");
    std::ofstream(path) << config::RenderConfig(c);
    return path;
  }

  // A copy of the (closed) log file, as an operator would take for
  // forensics.
  std::string CopyDb(absl::string_view name) {
    std::string copy = Temp(name);
    std::filesystem::copy_file(DbPath(), copy);
    if (std::filesystem::exists(DbPath() + "-wal")) {
      std::filesystem::copy_file(DbPath() + "-wal", copy + "-wal");
    }
    return copy;
  }

  static void Sql(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // Flips one bit of one byte of an event's entry, in place.
  static void FlipEntryByte(const std::string& db_path, int64_t seq,
                            int offset) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    sqlite3_blob* blob = nullptr;
    ASSERT_EQ(sqlite3_blob_open(db, "main", "events", "entry", seq,
                                /*flags=*/1, &blob),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    unsigned char byte = 0;
    ASSERT_EQ(sqlite3_blob_read(blob, &byte, 1, offset), SQLITE_OK);
    byte ^= 0x01;
    ASSERT_EQ(sqlite3_blob_write(blob, &byte, 1, offset), SQLITE_OK);
    sqlite3_blob_close(blob);
    sqlite3_close(db);
  }

  TestDevice device_;
  std::unique_ptr<ServerProcess> keyd_;
  TestTokens tokens_;
  std::unique_ptr<eventd::KeydCheckpointSigner> signer_;
  std::atomic<int64_t> clock_behind_nanos_{0};  // the log's clock, set back
  std::unique_ptr<eventd::EventLog> log_;
  eventd::OwnEventSink sink_;
  std::unique_ptr<eventd::EventLogService> service_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::string runtime_;
};

// Events from a few daemons, one of them two hours old.
class CliEventsListTest : public CliEventsTest {
 protected:
  void SetUp() override {
    CliEventsTest::SetUp();
    if (HasFatalFailure()) return;
    clock_behind_nanos_ = absl::ToInt64Nanoseconds(absl::Hours(2));
    old_ = Append("svc/updated",
                  Input(v1::EVENT_CATEGORY_UPDATE, "update.installed",
                        v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_NOTICE,
                        "client/rustiqctl", {{"version", "1.2.3"}}));
    clock_behind_nanos_ = 0;
    v1::EventInput failed =
        Input(v1::EVENT_CATEGORY_AUTH, "login.failed", v1::EVENT_OUTCOME_DENIED,
              v1::EVENT_SEVERITY_WARNING, "user/alice",
              {{"user", "alice"}, {"tty", "pts 1"}});
    occurred_ = absl::ToUnixNanos(absl::Now() - absl::Seconds(5));
    failed.set_occurred_unix_nanos(occurred_);
    failed_ = Append("svc/authd", failed);
    mqtt_ = Append("svc/cloudd",
                   Input(v1::EVENT_CATEGORY_NETWORK, "mqtt.connected",
                         v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO, "",
                         {{"broker", "localhost"}}));
    ok_ = Append("svc/authd", Input(v1::EVENT_CATEGORY_AUTH, "login.succeeded",
                                    v1::EVENT_OUTCOME_SUCCESS,
                                    v1::EVENT_SEVERITY_INFO, "user/bob"));
    crash_ = Append("svc/supervisord",
                    Input(v1::EVENT_CATEGORY_SUPERVISOR, "service.crashed",
                          v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_ERROR,
                          "svc/cloudd", {{"signal", "SIGSEGV"}}));
    LogIn("reader");
  }

  nlohmann::json List(const std::string& args) {
    CtlRun r = Run("--json events list " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_TRUE(OneLine(r.out)) << r.out;
    return Json(r.out);
  }

  uint64_t old_ = 0, failed_ = 0, mqtt_ = 0, ok_ = 0, crash_ = 0;
  int64_t occurred_ = 0;  // when login.failed happened, by its sender
};

TEST_F(CliEventsListTest, ListsEveryFieldAsJson) {
  nlohmann::json list = List("");
  std::vector<uint64_t> seqs = Seqs(list);
  for (uint64_t seq : {old_, failed_, mqtt_, ok_, crash_}) {
    EXPECT_THAT(seqs, ::testing::Contains(seq));
  }
  EXPECT_TRUE(std::is_sorted(seqs.rbegin(), seqs.rend()));  // newest first
  EXPECT_EQ(list["more"], false);
  for (const auto& e : list["events"]) {
    if (e["seq"] != failed_) continue;
    EXPECT_EQ(e["source"], "svc/authd");
    EXPECT_EQ(e["actor"], "user/alice");
    EXPECT_EQ(e["category"], "auth");
    EXPECT_EQ(e["action"], "login.failed");
    EXPECT_EQ(e["outcome"], "denied");
    EXPECT_EQ(e["severity"], "warning");
    EXPECT_EQ(e["attributes"],
              nlohmann::json({{"tty", "pts 1"}, {"user", "alice"}}));
    EXPECT_EQ(e["boot_id"], "test-boot");
    EXPECT_GT(e["time_unix_nanos"].get<int64_t>(), 0);
    EXPECT_GT(e["monotonic_nanos"].get<int64_t>(), 0);
    EXPECT_THAT(e["time"].get<std::string>(), StartsWith("20"));
    EXPECT_THAT(e["time"].get<std::string>(), ::testing::EndsWith("Z"));
    EXPECT_EQ(e["occurred_unix_nanos"], occurred_);
    EXPECT_THAT(e["occurred"].get<std::string>(), ::testing::EndsWith("Z"));
  }
  for (const auto& e : list["events"]) {
    // No actor given: the sender is the actor.
    if (e["seq"] == mqtt_) {
      EXPECT_EQ(e["actor"], "svc/cloudd");
    }
  }
}

TEST_F(CliEventsListTest, FiltersBySourceCategorySeverityActorAndOutcome) {
  EXPECT_THAT(Seqs(List("--source svc/authd")), ElementsAre(ok_, failed_));
  EXPECT_THAT(
      Seqs(List("--source svc/authd --source svc/cloudd --oldest-first")),
      ElementsAre(failed_, mqtt_, ok_));
  EXPECT_THAT(Seqs(List("--source svc/authd,svc/cloudd --oldest-first")),
              ElementsAre(failed_, mqtt_, ok_));
  EXPECT_THAT(Seqs(List("--category network")), ElementsAre(mqtt_));
  EXPECT_THAT(Seqs(List("--category update --category supervisor")),
              ElementsAre(crash_, old_));
  EXPECT_THAT(Seqs(List("--actor user/bob")), ElementsAre(ok_));
  EXPECT_THAT(Seqs(List("--actor user/alice --outcome denied")),
              ElementsAre(failed_));

  nlohmann::json severe = List("--min-severity warning");
  EXPECT_THAT(Seqs(severe), ::testing::IsSupersetOf({failed_, crash_}));
  for (const auto& e : severe["events"]) {
    EXPECT_THAT(e["severity"].get<std::string>(),
                ::testing::AnyOf("warning", "error", "critical", "alert"));
  }
  nlohmann::json bad = List("--outcome denied --outcome failure");
  EXPECT_THAT(Seqs(bad), ::testing::IsSupersetOf({failed_, crash_}));
  for (const auto& e : bad["events"]) {
    EXPECT_THAT(e["outcome"].get<std::string>(),
                ::testing::AnyOf("denied", "failure"));
  }
}

TEST_F(CliEventsListTest, FiltersByTimeRelativeAndRfc3339) {
  // The update was two hours ago; everything else is recent.
  EXPECT_THAT(Seqs(List("--until 1h")), ElementsAre(old_));
  EXPECT_THAT(Seqs(List("--since 90m --source svc/updated")), ElementsAre());
  EXPECT_THAT(Seqs(List("--since 3h --source svc/updated")), ElementsAre(old_));
  absl::Time now = absl::Now();
  EXPECT_THAT(
      Seqs(List(absl::StrCat("--since ", Rfc3339(now - absl::Hours(3)),
                             " --until ", Rfc3339(now - absl::Hours(1))))),
      ElementsAre(old_));
  EXPECT_THAT(
      Seqs(List(absl::StrCat("--since ", Rfc3339(now - absl::Minutes(30)),
                             " --source svc/authd"))),
      ElementsAre(ok_, failed_));
  EXPECT_THAT(Seqs(List("--since 1h30m --until 1m --source svc/authd")),
              ElementsAre());  // stamped less than a minute ago
}

TEST_F(CliEventsListTest, PagesUpToTheLimit) {
  nlohmann::json two =
      List("--limit 2 --source svc/authd,svc/cloudd,svc/supervisord");
  EXPECT_THAT(Seqs(two), ElementsAre(crash_, ok_));
  EXPECT_EQ(two["more"], true);
  EXPECT_THAT(Seqs(List("--oldest-first --limit 1")), ElementsAre(0u));
  // More than one page of eventd's (1000 at most per page).
  std::vector<v1::EventInput> many(600, Simple("bulk.event"));
  ASSERT_TRUE(log_->Append("svc/cloudd", many).ok());
  ASSERT_TRUE(log_->Append("svc/cloudd", many).ok());
  nlohmann::json all = List("--limit 1500 --source svc/cloudd");
  EXPECT_EQ(Seqs(all).size(), 1201u);
  EXPECT_EQ(all["more"], false);
  EXPECT_EQ(Seqs(List("--limit 1100 --source svc/cloudd")).size(), 1100u);

  CtlRun r = Run("events list --limit 1 --source svc/authd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("more match"));
}

TEST_F(CliEventsListTest, PrintsAReadableTable) {
  CtlRun r = Run("events list --source svc/authd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("TIME (UTC)"));
  for (const char* column : {"SEQ", "SOURCE", "ACTOR", "CATEGORY", "ACTION",
                             "OUTCOME", "SEVERITY", "ATTRIBUTES"}) {
    EXPECT_THAT(lines[0], HasSubstr(column));
  }
  EXPECT_THAT(lines[1], HasSubstr("login.succeeded"));  // newest first
  EXPECT_THAT(lines[2], HasSubstr("login.failed"));
  EXPECT_THAT(lines[2], HasSubstr("user/alice"));
  EXPECT_THAT(lines[2], HasSubstr("denied"));
  EXPECT_THAT(lines[2], HasSubstr("warning"));
  EXPECT_THAT(lines[2], HasSubstr("tty=\"pts 1\" user=alice"));
  EXPECT_THAT(lines[2], ::testing::ContainsRegex(
                            "^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:"
                            "[0-9][0-9]:[0-9][0-9]\\.[0-9][0-9][0-9]Z "));

  r = Run("events list --source svc/nobody");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no events match\n");
}

// Every bad value is refused before anything is sent: no call reaches
// eventd's enforcement point.
TEST_F(CliEventsListTest, BadValuesAreUsageErrorsAndNothingIsSent) {
  int before = tokens_.checks();
  struct Case {
    const char* args;
    std::vector<const char*> expect;
  } cases[] = {
      {"events list --category bogus",
       {"--category \"bogus\"", "auth, key, update"}},
      {"events list --outcome maybe",
       {"--outcome \"maybe\"", "success, denied, failure"}},
      {"events list --min-severity loud",
       {"--min-severity \"loud\"", "debug, info, notice, warning"}},
      {"events list --since yesterday", {"--since \"yesterday\"", "RFC 3339"}},
      {"events list --until 5x", {"--until \"5x\"", "10m"}},
      {"events list --source keyd", {"--source \"keyd\"", "svc/keyd"}},
      {"events list --since 1h --until 2h", {"is not before --until"}},
      {"events list --since 1960-01-01T00:00:00Z", {"1970"}},
      {"events list --limit 0", {"--limit 0", "10000"}},
      {"events list --limit many", {"--limit"}},
      {"events tail --category nope", {"--category \"nope\""}},
      {"events tail --from-seq -1", {"--from-seq", "not a whole number"}},
      {"events export --to-seq 1.5", {"--to-seq", "not a whole number"}},
      {"events export --from-seq 5 --to-seq 1", {"--to-seq 1"}},
      {"events export --force", {"--force"}},
      {"events export --db /nonexistent/events.db", {"--db"}},
      {"events verify --file a --db b", {"--file and --db"}},
      {"events verify --file /nonexistent.jsonl", {"--file"}},
      {"events verify --key /nonexistent.pem", {"--key"}},
      {"events head --checkpoint-out /nonexistent/dir/cp",
       {"--checkpoint-out"}},
  };
  for (const Case& c : cases) {
    CtlRun r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.err;
    EXPECT_TRUE(OneLine(r.err)) << c.args << ": " << r.err;
    EXPECT_EQ(r.out, "") << c.args;
    for (const char* e : c.expect) EXPECT_THAT(r.err, HasSubstr(e)) << c.args;
  }
  CtlRun r = Run("--json events list --category bogus");
  EXPECT_EQ(r.exit_code, 2);
  nlohmann::json err = Json(r.err);
  EXPECT_EQ(err["exit_code"], 2);
  EXPECT_EQ(err["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(err["error"].get<std::string>(), HasSubstr("--category"));
  EXPECT_EQ(tokens_.checks(), before);
}

TEST_F(CliEventsTest, ReadingNeedsAToken) {
  CtlRun r = Run("events list");  // nobody logged in
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("rustiqctl: eventd: "));
  EXPECT_THAT(r.err, HasSubstr("events.read"));
  EXPECT_THAT(r.err, HasSubstr("log in first"));
  for (const char* args : {"events head", "events export", "events verify",
                           "--timeout 3000 events tail"}) {
    r = Run(args);
    EXPECT_EQ(r.exit_code, 4) << args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("log in first")) << args;
    EXPECT_EQ(r.out, "") << args;
  }
  LogIn("forged");
  r = Run("events list");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("not valid"));
}

// rustiqctl runs the tail until it is stopped; it must print an event
// appended after it started, and Ctrl-C ends it with exit code 0.
TEST_F(CliEventsTest, TailPrintsEventsAppendedAfterItStarted) {
  LogIn("reader");
  Append("svc/authd", Simple("before.tail"));  // not shown: tail from now
  // rustiqctl's calls get a deadline of 1 s; waiting longer than that
  // shows that the stream is not cut off by it.
  auto tail = Spawn({"--json", "events", "tail", "--source", "svc/authd"},
                    ShortDeadlineConfig());
  absl::SleepFor(absl::Milliseconds(1500));
  // Until the stream is surely open, keep appending: the first line must be
  // one of these, never the event from before or another source's.
  std::optional<std::string> line;
  for (int i = 0; i < 50 && !line.has_value(); ++i) {
    Append("svc/cloudd", Simple("other.source"));
    Append(
        "svc/authd",
        Input(v1::EVENT_CATEGORY_AUTH, "tail.probe", v1::EVENT_OUTCOME_SUCCESS,
              v1::EVENT_SEVERITY_INFO, "", {{"n", absl::StrCat(i)}}));
    line = tail->ReadLine(absl::Milliseconds(200));
  }
  ASSERT_TRUE(line.has_value()) << ReadFile(Temp("tail.err"));
  nlohmann::json e = Json(*line);
  EXPECT_EQ(e["source"], "svc/authd");
  EXPECT_EQ(e["action"], "tail.probe");
  EXPECT_EQ(e["attributes"]["n"], "0");
  EXPECT_EQ(tail->StopWith(SIGINT, absl::Seconds(5)), 0)
      << ReadFile(Temp("tail.err"));
  EXPECT_EQ(ReadFile(Temp("tail.err")), "");
}

TEST_F(CliEventsTest, TailFromASeqPrintsTableRows) {
  LogIn("reader");
  uint64_t first = Append(
      "svc/cloudd", Input(v1::EVENT_CATEGORY_NETWORK, "mqtt.connected",
                          v1::EVENT_OUTCOME_SUCCESS, v1::EVENT_SEVERITY_INFO));
  Append("svc/authd", Simple("not.this"));
  auto tail =
      Spawn({"events", "tail", "--from-seq", "0", "--category", "network"});
  std::optional<std::string> header = tail->ReadLine(absl::Seconds(10));
  ASSERT_TRUE(header.has_value()) << ReadFile(Temp("tail.err"));
  EXPECT_THAT(*header, StartsWith("TIME (UTC)"));
  std::optional<std::string> row = tail->ReadLine(absl::Seconds(10));
  ASSERT_TRUE(row.has_value());
  EXPECT_THAT(*row, HasSubstr("mqtt.connected"));
  EXPECT_THAT(*row, HasSubstr(absl::StrCat(" ", first, " ")));
  EXPECT_THAT(*row, HasSubstr("svc/cloudd"));
  Append("svc/cloudd",
         Input(v1::EVENT_CATEGORY_NETWORK, "mqtt.lost",
               v1::EVENT_OUTCOME_FAILURE, v1::EVENT_SEVERITY_WARNING));
  row = tail->ReadLine(absl::Seconds(10));
  ASSERT_TRUE(row.has_value());
  EXPECT_THAT(*row, HasSubstr("mqtt.lost"));
  EXPECT_EQ(tail->StopWith(SIGTERM, absl::Seconds(5)), 0);
}

TEST_F(CliEventsTest, TailEndsAtAnExplicitTimeout) {
  LogIn("reader");
  absl::Time start = absl::Now();
  CtlRun r = Run("--timeout 1500 events tail");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1400));
}

TEST_F(CliEventsTest, ExportsToAFileThatVerifies) {
  LogIn("reader");
  for (int i = 0; i < 20; ++i) Append("svc/authd", Simple("signed.event"));
  ASSERT_TRUE(log_->SignNow().ok());
  for (int i = 0; i < 5; ++i) Append("svc/authd", Simple("newer.event"));

  std::string file = Temp("export.jsonl");
  CtlRun r = Run("events export --out " + file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("exported events 0.."));
  EXPECT_THAT(r.out, HasSubstr("1 signed tree head of device test-device"));
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> lines = Lines(ReadFile(file));
  ASSERT_GE(lines.size(), 28u);
  EXPECT_EQ(Json(lines.front())["type"], "header");
  EXPECT_EQ(Json(lines.back())["type"], "end");
  uint64_t exported = Json(lines.back())["events"].get<uint64_t>();
  EXPECT_GE(exported, 25u);

  r = Run("events verify --file " + file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("event log verified: events 0.."));
  EXPECT_THAT(r.out, HasSubstr("1 signed tree head, signed up to"));
  EXPECT_THAT(r.out, HasSubstr("not signed yet"));
  r = Run("--json events verify --file " + file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json report = Json(r.out);
  EXPECT_EQ(report["verified"], true);
  EXPECT_EQ(report["events"], exported);
  EXPECT_EQ(report["tree_heads"], 1);
  EXPECT_GE(report["signed_up_to"].get<uint64_t>(), 20u);
  EXPECT_GE(report["unsigned_events"].get<uint64_t>(), 5u);
  EXPECT_EQ(report["key"], "keyd");

  // An existing file is not replaced, and nothing is asked of eventd.
  std::string before = ReadFile(file);
  int checks = tokens_.checks();
  Append("svc/authd", Simple("later.event"));
  r = Run("events export --out " + file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("exists"));
  EXPECT_THAT(r.err, HasSubstr("--force"));
  EXPECT_EQ(ReadFile(file), before);
  EXPECT_EQ(tokens_.checks(), checks);
  r = Run("events export --force --out " + file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(file), before);
  // No temporary file is left beside it.
  int entries = 0;
  for (const auto& f : std::filesystem::directory_iterator(device_.root())) {
    if (absl::StrContains(f.path().filename().string(), "export.jsonl")) {
      ++entries;
    }
  }
  EXPECT_EQ(entries, 1);

  // A part of the log, on stdout, verifies too.
  r = Run("events export --from-seq 3 --to-seq 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> part = Lines(r.out);
  ASSERT_EQ(part.size(), 7u) << r.out;  // header, 5 events, end
  std::ofstream(Temp("part.jsonl")) << r.out;
  r = Run("events verify --file " + Temp("part.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "event log verified: events 3..7 (5), no signed tree head covers "
            "them\n");
}

TEST_F(CliEventsTest, VerifiesTheLiveLogWithKeydsKey) {
  LogIn("reader");
  for (int i = 0; i < 10; ++i) Append("svc/authd", Simple("an.event"));
  ASSERT_TRUE(log_->SignNow().ok());
  for (int i = 0; i < 3; ++i) Append("svc/authd", Simple("newer.event"));
  CtlRun r = Run("events verify");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("event log verified: events 0.."));
  EXPECT_THAT(r.out, HasSubstr("1 signed tree head, signed up to "));
  EXPECT_TRUE(OneLine(r.out));
  r = Run("--json events verify");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json report = Json(r.out);
  EXPECT_EQ(report["source"], "eventd");
  EXPECT_GE(report["events"].get<uint64_t>(), 13u);

  // The public key saved by `keys pubkey` verifies without asking keyd.
  r = Run("keys pubkey event-checkpoint");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(Temp("checkpoint.pem")) << r.out;
  r = Run("events verify --key " + Temp("checkpoint.pem"));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Another Ed25519 key: the signed heads do not verify with it.
  pki::EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  std::ofstream(Temp("other.pem")) << PublicPem(other.get());
  r = Run("events verify --key " + Temp("other.pem"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_THAT(r.err, StartsWith("rustiqctl: events verify: "));
  EXPECT_THAT(r.err, HasSubstr("does not verify with the checkpoint key"));
  EXPECT_EQ(r.out, "");
  r = Run("--json events verify --key " + Temp("other.pem"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Json(r.err)["exit_code"], 1);

  // A key of the wrong kind is a usage error.
  auto p256 = pki::GenerateP256Key();
  ASSERT_TRUE(p256.ok());
  std::ofstream(Temp("p256.pem")) << PublicPem(p256->get());
  r = Run("events verify --key " + Temp("p256.pem"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Ed25519"));
}

// The tamper cases on a copy of the log file, read directly (no daemon
// involved but keyd for the key): each is exit code 1 with the verifier's
// precise message.
TEST_F(CliEventsTest, TamperingWithACopyOfTheFileIsDetected) {
  for (int i = 0; i < 120; ++i) {
    Append("svc/authd", Simple(absl::StrCat("e.", i)));
  }
  StopEventd();  // signs the final head and closes the file
  std::string pristine = CopyDb("pristine.db");
  CtlRun r = Run("events verify --db " + pristine);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("event log verified: events 0.."));

  // Offline export of the copy, and its verification.
  r = Run("events export --db " + pristine + " --out " + Temp("copy.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("events verify --file " + Temp("copy.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::string flipped = CopyDb("flipped.db");
  FlipEntryByte(flipped, 40, 10);
  r = Run("events verify --db " + flipped);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_THAT(r.err, StartsWith("rustiqctl: events verify: "));
  EXPECT_THAT(r.err, HasSubstr("event 40"));

  std::string truncated = CopyDb("truncated.db");
  Sql(truncated, "DELETE FROM events WHERE seq >= 100");
  r = Run("events verify --db " + truncated);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("rustiqctl: events verify: "));
  EXPECT_THAT(r.err, HasSubstr("removed from its end"));

  // A file that is not a log at all fails the operation, not the config.
  std::ofstream(Temp("not-a-log.db")) << "hello";
  r = Run("events verify --db " + Temp("not-a-log.db"));
  EXPECT_EQ(r.exit_code, 1) << r.err;

  // Forensics without any daemon: the key from a file.
  r = Run("keys pubkey event-checkpoint");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(Temp("checkpoint.pem")) << r.out;
  keyd_->Stop();
  r = Run("events verify --db " + flipped);
  EXPECT_EQ(r.exit_code, 3) << r.err;  // keyd is needed for its key...
  EXPECT_THAT(r.err, HasSubstr("give --key"));
  r = Run("events verify --db " + pristine + " --key " +
          Temp("checkpoint.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.err;  // ...unless it is given
  r = Run("events verify --db " + flipped + " --key " + Temp("checkpoint.pem"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("event 40"));
}

// A log truncated together with its tree heads verifies on its own (every
// head left matches); a checkpoint saved earlier catches it.
TEST_F(CliEventsTest, ASavedCheckpointCatchesTruncationOfEventsAndHeads) {
  LogIn("reader");
  std::string note = Temp("head.note");
  CtlRun r = Run("events head --checkpoint-out " + note);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // nothing signed yet
  EXPECT_THAT(r.err, HasSubstr("no tree head is signed yet"));
  EXPECT_FALSE(std::filesystem::exists(note));
  r = Run("events head");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("latest signed:  none yet"));

  for (int i = 0; i < 30; ++i) Append("svc/authd", Simple("early.event"));
  ASSERT_TRUE(log_->SignNow().ok());
  r = Run("events head --checkpoint-out " + note);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("latest signed:  size "));
  EXPECT_THAT(r.out, HasSubstr("with key version 1"));
  EXPECT_THAT(r.out, HasSubstr("saved to " + note));
  EXPECT_THAT(ReadFile(note), StartsWith("rustiq/test-device/events\n"));
  r = Run("--json events head");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json head = Json(r.out);
  uint64_t saved = head["latest_signed"]["size"].get<uint64_t>();
  EXPECT_GE(saved, 30u);
  EXPECT_GE(head["current"]["size"].get<uint64_t>(), saved);
  EXPECT_EQ(head["latest_signed"]["key_version"], 1);
  EXPECT_EQ(head["latest_signed"]["checkpoint"], ReadFile(note));
  EXPECT_EQ(head["current"]["root"].get<std::string>().size(), 64u);
  r = Run("events head --checkpoint-out " + note);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("exists"));

  for (int i = 0; i < 30; ++i) Append("svc/authd", Simple("later.event"));
  ASSERT_TRUE(log_->SignNow().ok());
  r = Run("events verify --checkpoint " + note);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         "still holds the checkpoint of size ", saved)));
  StopEventd();

  std::string truncated = CopyDb("truncated.db");
  Sql(truncated,
      "DELETE FROM events WHERE seq >= 10; "
      "DELETE FROM tree_heads WHERE size >= 10");
  r = Run("events verify --db " + truncated);
  EXPECT_EQ(r.exit_code, 0) << r.err;  // consistent on its own...
  EXPECT_THAT(r.out, HasSubstr("no signed tree head covers them"));
  r = Run("events verify --db " + truncated + " --checkpoint " + note);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // ...but not with what was saved
  EXPECT_THAT(r.err, StartsWith("rustiqctl: events verify: "));
  EXPECT_THAT(r.err, HasSubstr("was truncated"));

  std::ofstream(Temp("garbage.note")) << "not a note\n";
  r = Run("events verify --db " + truncated + " --checkpoint " +
          Temp("garbage.note"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--checkpoint"));
}

}  // namespace
}  // namespace rustiq::testing
