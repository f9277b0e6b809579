// rustiq-eventd as a real, confined process beside a real rustiq-keyd on a
// provisioned test device: appends over real mTLS with the source stamped
// from the caller's certificate, the declared callers enforced, bad events
// refused, tree heads signed by keyd, durability across SIGKILL, tamper
// detection on the SQLite file itself, and keyd's own events arriving.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/log_verifier.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/verify.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/events.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_store.h"
#include "services/eventd/exporter.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

v1::EventInput Input(absl::string_view action) {
  v1::EventInput in;
  in.set_action(std::string(action));
  in.set_category(v1::EVENT_CATEGORY_KEY);
  in.set_outcome(v1::EVENT_OUTCOME_SUCCESS);
  in.set_severity(v1::EVENT_SEVERITY_INFO);
  return in;
}

class EventdTest : public ::testing::Test {
 protected:
  EventdTest()
      : device_([](config::StackConfig& c) {
          c.eventd.sign_every_seconds = 1;
          c.eventd.sign_every_events = 50;
        }) {}

  void SetUp() override {
    keyd_ = std::make_unique<ServerProcess>(device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
    StartEventd();
  }

  void StartEventd() {
    eventd_ = std::make_unique<ServerProcess>(device_, "eventd");
    ASSERT_TRUE(eventd_->WaitServing(absl::Seconds(15))) << eventd_->Log();
  }

  std::unique_ptr<v1::EventLog::Stub> LogAs(absl::string_view caller) {
    rpc::ClientOptions options = device_.ClientFor(caller);
    options.private_connection = true;
    auto channel = rpc::ChannelFactory(options).ForDaemon("eventd");
    EXPECT_TRUE(channel.ok()) << channel.status();
    return v1::EventLog::NewStub(*channel);
  }

  grpc::Status Append(absl::string_view caller, const v1::EventInput& in,
                      uint64_t* seq = nullptr) {
    v1::AppendRequest req;
    *req.mutable_event() = in;
    v1::AppendResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = LogAs(caller)->Append(&ctx, req, &resp);
    if (seq != nullptr) *seq = resp.seq();
    return s;
  }

  // Every event, as the supervisor reads them (a daemon needs no token).
  std::vector<v1::Event> All() {
    std::vector<v1::Event> out;
    auto stub = LogAs("svc/supervisord");
    std::string token;
    do {
      v1::QueryRequest req;
      req.set_page_size(1000);
      req.set_page_token(token);
      v1::QueryResponse resp;
      grpc::ClientContext ctx;
      grpc::Status s = stub->Query(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      out.insert(out.end(), resp.events().begin(), resp.events().end());
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }

  // keyd's event-checkpoint public key, as anyone can fetch it.
  pki::EvpPkeyPtr CheckpointKey() {
    auto channel =
        rpc::ChannelFactory(device_.ClientFor("svc/cloudd")).ForDaemon("keyd");
    auto keys = v1::Keys::NewStub(*channel);
    v1::GetPublicKeyRequest req;
    req.set_name("event-checkpoint");
    v1::PublicKey pub;
    grpc::ClientContext ctx;
    grpc::Status s = keys->GetPublicKey(&ctx, req, &pub);
    EXPECT_TRUE(s.ok()) << s.error_message();
    const auto* p = reinterpret_cast<const unsigned char*>(pub.der().data());
    return pki::EvpPkeyPtr(
        d2i_PUBKEY(nullptr, &p, static_cast<long>(pub.der().size())));
  }

  std::string DbPath() const {
    return absl::StrCat(device_.config().paths.state_dir, "/eventd/events.db");
  }

  // Verifies the log file as `rustiqctl events verify --db` does.
  absl::StatusOr<events::VerifyReport> VerifyDb() {
    absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
        eventd::EventStore::OpenReadOnly(DbPath());
    if (!store.ok()) return store.status();
    pki::EvpPkeyPtr key = CheckpointKey();
    events::VerifyOptions options;
    options.checkpoint_key = key.get();
    events::LogVerifier verifier(options);
    absl::Status fed = eventd::ExportLog(
        **store, (*store)->opened_state().device_id, {},
        [&](std::string line) { return verifier.AddLine(line); });
    if (!fed.ok()) return fed;
    return verifier.Finish();
  }

  void WaitSignedAtLeast(uint64_t size) {
    auto stub = LogAs("svc/supervisord");
    for (int i = 0; i < 100; ++i) {
      v1::GetTreeHeadResponse head;
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub->GetTreeHead(&ctx, {}, &head).ok());
      if (head.has_latest_signed() && head.latest_signed().size() >= size) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "no tree head of size " << size << " was signed";
  }

  void Tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  TestDevice device_;
  std::unique_ptr<ServerProcess> keyd_;
  std::unique_ptr<ServerProcess> eventd_;
};

TEST_F(EventdTest, TheSourceIsTheCallersIdentityWhateverItClaims) {
  v1::EventInput in = Input("key.created");
  in.set_actor("svc/authd");  // who acted may be anyone...
  uint64_t seq = 0;
  ASSERT_TRUE(Append("svc/keyd", in, &seq).ok());
  bool found = false;
  for (const v1::Event& e : All()) {
    if (e.seq() != seq) continue;
    found = true;
    EXPECT_EQ(e.source(), "svc/keyd");  // ...but it came from keyd
    EXPECT_EQ(e.actor(), "svc/authd");
    EXPECT_EQ(e.action(), "key.created");
    EXPECT_GT(e.time_unix_nanos(), 0);
    EXPECT_GT(e.monotonic_nanos(), 0);
    EXPECT_FALSE(e.boot_id().empty());
  }
  EXPECT_TRUE(found);
}

TEST_F(EventdTest, OnlyDaemonsAppendAndDenialsAreRecorded) {
  grpc::Status s = Append("client/alice", Input("forged.event"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Append("client/rustiqctl", Input("forged.event"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A person reading needs a token (none exists without authd).
  v1::QueryResponse resp;
  grpc::ClientContext ctx;
  s = LogAs("client/rustiqctl")->Query(&ctx, {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A daemon not declared as a reader cannot read.
  grpc::ClientContext ctx2;
  s = LogAs("svc/cloudd")->Query(&ctx2, {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Each denial is in the log, recorded by eventd itself.
  absl::SleepFor(absl::Milliseconds(300));
  int denials = 0;
  for (const v1::Event& e : All()) {
    if (e.source() == "svc/eventd" && e.category() == v1::EVENT_CATEGORY_RPC) {
      ++denials;
      EXPECT_NE(e.outcome(), v1::EVENT_OUTCOME_SUCCESS);
    }
  }
  EXPECT_GE(denials, 4);
  EXPECT_THAT(All().size(), ::testing::Ge(4u));
}

TEST_F(EventdTest, MalformedAndOversizedEventsAreRefusedPrecisely) {
  v1::EventInput bad = Input("Bad Action");
  grpc::Status s = Append("svc/keyd", bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("'action'"));
  v1::EventInput big = Input("a.b");
  for (int i = 0; i < 20; ++i) {
    auto* a = big.add_attributes();
    a->set_key(absl::StrCat("k", i));
    a->set_value(std::string(1000, 'x'));
  }
  s = Append("svc/keyd", big);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("16384"));
  v1::AppendRequest empty;
  v1::AppendResponse resp;
  grpc::ClientContext ctx;
  s = LogAs("svc/keyd")->Append(&ctx, empty, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A batch stream with a bad second message: the first stays appended and
  // the answer says so.
  auto stub = LogAs("svc/keyd");
  grpc::ClientContext bctx;
  v1::AppendBatchResponse bresp;
  auto writer = stub->AppendBatch(&bctx, &bresp);
  v1::AppendBatchRequest good;
  *good.add_events() = Input("a.b");
  *good.add_events() = Input("c.d");
  v1::AppendBatchRequest worse;
  *worse.add_events() = Input("e.f");
  *worse.add_events() = bad;
  writer->Write(good);
  writer->Write(worse);
  writer->WritesDone();
  s = writer->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("stream message 1"));
  EXPECT_THAT(s.error_message(), HasSubstr("the 2 events"));
}

TEST_F(EventdTest, TreeHeadsAreSignedWithKeydsCheckpointKey) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Append("svc/keyd", Input("a.b")).ok());
  WaitSignedAtLeast(5);
  auto stub = LogAs("svc/cloudd");  // any daemon may read the tree head
  v1::GetTreeHeadResponse head;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub->GetTreeHead(&ctx, {}, &head).ok());
  pki::EvpPkeyPtr key = CheckpointKey();
  absl::StatusOr<merkle::Checkpoint> cp = merkle::OpenSignedCheckpoint(
      head.latest_signed().checkpoint(),
      eventd::CheckpointKeyName("test-device"), key.get());
  ASSERT_TRUE(cp.ok()) << cp.status() << "\n"
                       << head.latest_signed().checkpoint();
  EXPECT_EQ(cp->size, head.latest_signed().size());
  EXPECT_EQ(std::string(merkle::AsBytes(cp->root)),
            head.latest_signed().root_hash());
  // An inclusion proof of the first event against it verifies.
  v1::InclusionProofRequest preq;
  preq.set_seq(0);
  v1::InclusionProof proof;
  grpc::ClientContext pctx;
  ASSERT_TRUE(stub->GetInclusionProof(&pctx, preq, &proof).ok());
  std::vector<merkle::Hash> path;
  for (const std::string& h : proof.hashes()) {
    path.push_back(*merkle::HashFromBytes(h));
  }
  EXPECT_TRUE(merkle::VerifyInclusion(*merkle::HashFromBytes(proof.leaf_hash()),
                                      0, proof.tree_size(), path, cp->root)
                  .ok());
}

TEST_F(EventdTest, TailFollowsNewEvents) {
  auto stub = LogAs("svc/supervisord");
  grpc::ClientContext ctx;
  v1::TailRequest req;
  req.mutable_filter()->add_sources("svc/authd");
  auto reader = stub->Tail(&ctx, req);
  std::thread appender([&] {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(Append("svc/keyd", Input("not.this")).ok());
    ASSERT_TRUE(Append("svc/authd", Input("login.failed")).ok());
  });
  v1::Event e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.action(), "login.failed");
  EXPECT_EQ(e.source(), "svc/authd");
  ctx.TryCancel();
  appender.join();
}

TEST_F(EventdTest, RunsConfinedAsTheKernelReportsIt) {
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", eventd_->pid(), "/task"))) {
    std::ifstream status(task.path() / "status");
    std::stringstream text;
    text << status.rdbuf();
    if (text.str().empty()) continue;
    EXPECT_THAT(text.str(), HasSubstr("NoNewPrivs:\t1")) << task.path();
    EXPECT_THAT(text.str(), HasSubstr("Seccomp:\t2")) << task.path();
    EXPECT_THAT(text.str(), HasSubstr("CapEff:\t0000000000000000"))
        << task.path();
  }
  EXPECT_THAT(eventd_->Log(), HasSubstr("landlock=applied"));
}

// An event acknowledged is on disk: eventd killed with SIGKILL right after
// the acknowledgement, then restarted, still has it. Many times over.
TEST_F(EventdTest, AcknowledgedEventsSurviveSigkill) {
  std::set<uint64_t> acked;
  for (int round = 0; round < 15; ++round) {
    auto stub = LogAs("svc/keyd");
    for (int i = 0; i < 3; ++i) {
      v1::AppendRequest req;
      *req.mutable_event() = Input(absl::StrCat("round.", round));
      v1::AppendResponse resp;
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub->Append(&ctx, req, &resp).ok());
      acked.insert(resp.seq());
    }
    kill(eventd_->pid(), SIGKILL);
    eventd_->WaitExit(absl::Seconds(10));
    StartEventd();
  }
  std::set<uint64_t> present;
  for (const v1::Event& e : All()) present.insert(e.seq());
  for (uint64_t seq : acked) EXPECT_TRUE(present.count(seq)) << seq;
  // And the log, killed 15 times, still verifies end to end.
  absl::StatusOr<events::VerifyReport> report = VerifyDb();
  EXPECT_TRUE(report.ok()) << report.status();
}

TEST_F(EventdTest, KeydsDenialsArriveFromKeyd) {
  // authd may not sign with the device identity: keyd denies and records.
  auto channel =
      rpc::ChannelFactory(device_.ClientFor("svc/authd")).ForDaemon("keyd");
  auto keys = v1::Keys::NewStub(*channel);
  v1::SignRequest req;
  req.set_name("device-identity");
  req.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  req.set_digest(std::string(32, 'd'));
  v1::SignResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(keys->Sign(&ctx, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  bool found = false;
  for (int i = 0; i < 50 && !found; ++i) {
    for (const v1::Event& e : All()) {
      if (e.source() == "svc/keyd" && e.action() == "key.use.denied" &&
          e.actor() == "svc/authd") {
        found = true;
      }
    }
    if (!found) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(found) << keyd_->Log();
}

// The tamper cases of the issue, on the SQLite file of a log that keyd's
// key signed; each is reported with its position.
TEST_F(EventdTest, TamperingWithTheFileIsDetectedWithThePosition) {
  for (int i = 0; i < 120; ++i) {
    ASSERT_TRUE(Append("svc/keyd", Input(absl::StrCat("e.", i))).ok());
  }
  eventd_->Stop();  // a clean stop signs the final head
  ASSERT_TRUE(VerifyDb().ok()) << VerifyDb().status();
  std::string pristine = DbPath() + ".pristine";
  std::filesystem::copy_file(DbPath(), pristine);
  struct Case {
    const char* what;
    std::string sql;
    const char* expect;
  } cases[] = {
      {"one byte of an entry",
       "UPDATE events SET entry = CAST(substr(entry, 1, 10) || "
       "CAST(x'58' AS BLOB) || substr(entry, 12) AS BLOB) WHERE seq = 40",
       "event 40"},
      {"a column", "UPDATE events SET actor = 'svc/authd' WHERE seq = 41",
       "event 41"},
      {"a deleted event", "DELETE FROM events WHERE seq = 42",
       "event 42 is missing"},
      {"two events swapped",
       "UPDATE events SET seq = -1 WHERE seq = 43; "
       "UPDATE events SET seq = 43 WHERE seq = 44; "
       "UPDATE events SET seq = 44 WHERE seq = -1",
       "43"},
      {"a truncated log", "DELETE FROM events WHERE seq >= 100",
       "removed from its end"},
  };
  for (const Case& c : cases) {
    std::filesystem::copy_file(
        pristine, DbPath(), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(DbPath() + "-wal");
    std::filesystem::remove(DbPath() + "-shm");
    Tamper(c.sql);
    absl::StatusOr<events::VerifyReport> report = VerifyDb();
    ASSERT_FALSE(report.ok()) << c.what;
    EXPECT_THAT(report.status().message(), HasSubstr(c.expect)) << c.what;
  }
}

// A violation that killed keyd is in keyd's state directory; at keyd's next
// start it reaches the event log, naming the syscall.
TEST(EventdViolations, AViolationRecordedLastRunArrivesAtTheNextStart) {
  TestDevice device;
  {
    std::ofstream planted(absl::StrCat(device.config().paths.state_dir,
                                       "/keyd/sandbox-violation"));
    planted << "level=error daemon=keyd msg=\"sandbox violation\" "
               "syscall=ptrace nr=101 arch=x86_64 cause=not-listed "
               "action=kill\n";
  }
  ServerProcess keyd(device, "keyd");
  ASSERT_TRUE(keyd.WaitServing(absl::Seconds(15))) << keyd.Log();
  ServerProcess eventd(device, "eventd");
  ASSERT_TRUE(eventd.WaitServing(absl::Seconds(15))) << eventd.Log();
  rpc::ClientOptions options = device.ClientFor("svc/supervisord");
  auto stub =
      v1::EventLog::NewStub(*rpc::ChannelFactory(options).ForDaemon("eventd"));
  bool found = false;
  for (int i = 0; i < 50 && !found; ++i) {
    v1::QueryRequest req;
    req.mutable_filter()->add_categories(v1::EVENT_CATEGORY_SANDBOX);
    v1::QueryResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Query(&ctx, req, &resp).ok());
    for (const v1::Event& e : resp.events()) {
      if (e.source() != "svc/keyd" || e.action() != "sandbox.violation") {
        continue;
      }
      found = true;
      EXPECT_EQ(e.severity(), v1::EVENT_SEVERITY_CRITICAL);
      EXPECT_EQ(e.outcome(), v1::EVENT_OUTCOME_FAILURE);
      bool named = false;
      for (const auto& a : e.attributes()) {
        if (a.key() == "syscall" && a.value() == "ptrace") named = true;
      }
      EXPECT_TRUE(named);
    }
    if (!found) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(found) << keyd.Log();
  EXPECT_THAT(keyd.Log(), HasSubstr("killed for a sandbox violation"));
}

// Signs like keyd would, but with a key that is not the device's.
class ForeignSigner final : public eventd::CheckpointSigner {
 public:
  ForeignSigner() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")) {}
  absl::StatusOr<eventd::CheckpointSignature> Sign(
      absl::string_view body) override {
    eventd::CheckpointSignature out;
    out.signature.resize(64);
    out.public_key.resize(32);
    size_t len = 64, pub = 32;
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>
        ctx(EVP_MD_CTX_new());
    EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                          key_.get(), nullptr);
    EVP_DigestSign(
        ctx.get(), reinterpret_cast<unsigned char*>(out.signature.data()), &len,
        reinterpret_cast<const unsigned char*>(body.data()), body.size());
    EVP_PKEY_get_raw_public_key(
        key_.get(), reinterpret_cast<unsigned char*>(out.public_key.data()),
        &pub);
    out.key_version = 1;
    return out;
  }

 private:
  pki::EvpPkeyPtr key_;
};

// A whole log rewritten consistently (events, tree, heads) but signed by a
// key that is not the device's checkpoint key.
TEST_F(EventdTest, AConsistentRewriteSignedByAnotherKeyIsDetected) {
  ASSERT_TRUE(Append("svc/keyd", Input("real.event")).ok());
  eventd_->Stop();
  std::filesystem::remove(DbPath());
  std::filesystem::remove(DbPath() + "-wal");
  std::filesystem::remove(DbPath() + "-shm");
  ForeignSigner forger;
  {
    auto store = eventd::EventStore::Open(DbPath(), "test-device");
    ASSERT_TRUE(store.ok()) << store.status();
    eventd::EventLogOptions options;
    options.device_id = "test-device";
    auto log =
        eventd::EventLog::Open(*std::move(store), options, &forger, nullptr);
    ASSERT_TRUE(log.ok());
    (*log)->Start();
    ASSERT_TRUE((*log)->Append("svc/keyd", {Input("forged.event")}).ok());
  }  // signed by the forger on Stop()
  absl::StatusOr<events::VerifyReport> report = VerifyDb();
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("tree head of size 1"));
}

}  // namespace
}  // namespace rustiq::testing
