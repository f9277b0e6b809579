// The event log on a real SQLite file: group-committed appends, the Merkle
// tree kept in step (checked against an independent in-memory tree), tree
// heads signed and their proofs verified, queries, retention, and a damaged
// file refused at open with what is wrong.
#include <sqlite3.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/memory_node_source.h"
#include "common/merkle/proofs.h"
#include "common/merkle/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_record.h"
#include "services/eventd/event_store.h"
#include "tests/unit/eventd_test_util.h"

namespace rustiq::eventd {
namespace {

using testing::DbPath;
using ::testing::HasSubstr;
using testing::Input;
using testing::LocalSigner;
using testing::OpenStore;
using testing::Options;

std::unique_ptr<EventLog> OpenLog(const std::string& path,
                                  CheckpointSigner* signer,
                                  EventLogOptions options = Options()) {
  absl::StatusOr<std::unique_ptr<EventLog>> log =
      EventLog::Open(OpenStore(path), std::move(options), signer, nullptr);
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return nullptr;
  (*log)->Start();
  return *std::move(log);
}

// Runs SQL on the file behind eventd's back, as an attacker with write
// access to it would.
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

void AppendN(EventLog& log, int n, absl::string_view source = "svc/keyd") {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(log.Append(source, {Input(absl::StrCat("test.event"))}).ok());
  }
}

// The leaf hashes of the log, from its entries, for an independent tree.
merkle::InMemoryNodeSource Reference(const EventStore& store, uint64_t size) {
  merkle::InMemoryNodeSource ref;
  EXPECT_TRUE(store
                  .Scan(0, size,
                        [&](const EventStore::Row& r) {
                          ref.Append(merkle::LeafHash(r.entry));
                          return absl::OkStatus();
                        })
                  .ok());
  return ref;
}

TEST(EventdLogTest, AppendsGetConsecutiveSeqsAndTheRootMatchesAReference) {
  rustiq::testing::TempDir dir;
  auto log = OpenLog(DbPath(dir), nullptr);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<uint64_t> seq = log->Append("svc/keyd", {Input("a.b")});
    ASSERT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, static_cast<uint64_t>(i));
  }
  absl::StatusOr<uint64_t> batch =
      log->Append("svc/authd", {Input("c.d"), Input("e.f"), Input("g.h")});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(*batch, 10u);
  EventLog::Head head = log->Current();
  EXPECT_EQ(head.size, 13u);
  merkle::InMemoryNodeSource ref = Reference(log->store(), 13);
  absl::StatusOr<merkle::Hash> root = merkle::RootAt(ref, 13);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(head.root, *root);
  // The store's own nodes give the same root at every size.
  for (uint64_t n = 1; n <= 13; ++n) {
    EXPECT_EQ(*merkle::RootAt(log->store(), n), *merkle::RootAt(ref, n)) << n;
  }
}

TEST(EventdLogTest, RefusesBadBatchesWithoutWritingAnything) {
  rustiq::testing::TempDir dir;
  auto log = OpenLog(DbPath(dir), nullptr);
  v1::EventInput bad = Input("a.b");
  bad.set_action("");
  absl::StatusOr<uint64_t> r = log->Append("svc/keyd", {Input("a.b"), bad});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("event 1 of the batch"));
  EXPECT_EQ(log->Append("svc/keyd", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<v1::EventInput> many(1001, Input("a.b"));
  EXPECT_EQ(log->Append("svc/keyd", many).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Current().size, 0u);
}

// Eight threads appending at once: every event gets exactly one seq, the
// seqs have no gaps, and the tree matches the entries.
TEST(EventdLogTest, ConcurrentAppendsAreGroupCommittedWithoutGaps) {
  rustiq::testing::TempDir dir;
  auto log = OpenLog(DbPath(dir), nullptr);
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> seqs(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<uint64_t> s =
            log->Append(absl::StrCat("svc/t", t), {Input("a.b"), Input("c.d")});
        if (s.ok()) seqs[t].push_back(*s);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& v : seqs) {
    EXPECT_EQ(v.size(), 50u);
    for (uint64_t s : v) {
      EXPECT_TRUE(all.insert(s).second);
      EXPECT_TRUE(all.insert(s + 1).second);  // its batch's second event
    }
  }
  ASSERT_EQ(all.size(), 800u);
  EXPECT_EQ(*all.begin(), 0u);
  EXPECT_EQ(*all.rbegin(), 799u);
  merkle::InMemoryNodeSource ref = Reference(log->store(), 800);
  EXPECT_EQ(log->Current().root, *merkle::RootAt(ref, 800));
}

TEST(EventdLogTest, SignedHeadsVerifyAndProofsTieThemTogether) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  auto log = OpenLog(DbPath(dir), &signer);
  AppendN(*log, 5);
  ASSERT_TRUE(log->SignNow().ok());
  AppendN(*log, 8);
  ASSERT_TRUE(log->SignNow().ok());
  std::optional<v1::TreeHead> head = log->LatestSigned();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->size(), 13u);
  // The note is signed by the signer's key over a checkpoint of this head.
  absl::StatusOr<merkle::Checkpoint> cp = merkle::OpenSignedCheckpoint(
      head->checkpoint(), CheckpointKeyName(testing::kDevice), signer.key());
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->origin, CheckpointOrigin(testing::kDevice));
  EXPECT_EQ(cp->size, 13u);
  EXPECT_EQ(std::string(merkle::AsBytes(cp->root)), head->root_hash());
  // Nothing new: no new head.
  int calls = signer.calls;
  ASSERT_TRUE(log->SignNow().ok());
  EXPECT_EQ(signer.calls, calls);

  absl::StatusOr<merkle::Hash> root13 =
      merkle::HashFromBytes(head->root_hash());
  for (uint64_t seq = 0; seq < 13; ++seq) {
    absl::StatusOr<v1::InclusionProof> p = log->Inclusion(seq, 0);
    ASSERT_TRUE(p.ok()) << p.status();
    std::vector<merkle::Hash> path;
    for (const std::string& h : p->hashes()) {
      path.push_back(*merkle::HashFromBytes(h));
    }
    EXPECT_TRUE(merkle::VerifyInclusion(*merkle::HashFromBytes(p->leaf_hash()),
                                        seq, 13, path, *root13)
                    .ok())
        << seq;
  }
  absl::StatusOr<std::vector<v1::TreeHead>> heads =
      log->store().TreeHeads(0, 10);
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 2u);
  absl::StatusOr<v1::ConsistencyProof> c = log->Consistency(5, 13);
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<merkle::Hash> proof;
  for (const std::string& h : c->hashes()) {
    proof.push_back(*merkle::HashFromBytes(h));
  }
  EXPECT_TRUE(merkle::VerifyConsistency(
                  5, 13, *merkle::HashFromBytes((*heads)[0].root_hash()),
                  *root13, proof)
                  .ok());
  // Out of range and malformed requests say what is wrong.
  EXPECT_EQ(log->Inclusion(13, 13).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->Inclusion(0, 14).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log->Consistency(0, 13).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Consistency(14, 13).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EventdLogTest, SignsEveryNEventsAndAfterTSeconds) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  EventLogOptions o = Options();
  o.sign_every_events = 10;
  o.sign_every = absl::Milliseconds(300);
  auto log = OpenLog(DbPath(dir), &signer, o);
  AppendN(*log, 10);
  for (int i = 0; i < 50 && !log->LatestSigned().has_value(); ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(log->LatestSigned().has_value());  // by count, well before T
  EXPECT_EQ(log->LatestSigned()->size(), 10u);
  AppendN(*log, 1);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(log->LatestSigned()->size(), 10u);  // neither N nor T yet
  for (int i = 0; i < 100 && log->LatestSigned()->size() < 11; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(log->LatestSigned()->size(), 11u);  // by time
}

TEST(EventdLogTest, StopSignsTheFinalHeadAndRefusesMoreAppends) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  {
    auto log = OpenLog(DbPath(dir), &signer);
    AppendN(*log, 3);
    log->Stop();
    EXPECT_EQ(log->Append("svc/keyd", {Input("a.b")}).status().code(),
              absl::StatusCode::kUnavailable);
  }
  auto store = OpenStore(DbPath(dir));
  ASSERT_TRUE(store->opened_state().latest_signed.has_value());
  EXPECT_EQ(store->opened_state().latest_signed->size(), 3u);
}

TEST(EventdLogTest, AnUnreachableSignerIsRecordedOnceAndRetried) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  signer.fail = true;
  auto log = OpenLog(DbPath(dir), &signer);
  AppendN(*log, 2);
  EXPECT_EQ(log->SignNow().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log->SignNow().code(), absl::StatusCode::kUnavailable);
  signer.fail = false;
  ASSERT_TRUE(log->SignNow().ok());
  v1::EventFilter f;
  f.add_categories(v1::EVENT_CATEGORY_EVENTLOG);
  // eventd's own events are written without waiting: give the writer a
  // moment.
  log->WaitForMore(2, absl::Now() + absl::Seconds(5));
  absl::StatusOr<std::vector<v1::Event>> failures =
      log->store().Query(f, 0, false, 100);
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);  // once per outage
  EXPECT_EQ((*failures)[0].action(), "tree-head.sign.failed");
  EXPECT_EQ((*failures)[0].source(), "svc/eventd");
}

// A flood of eventd's own events (denied calls, say) is bounded: beyond
// kMaxOwnPending waiting ones they are counted, and the count is recorded.
TEST(EventdLogTest, OwnEventsAreBoundedAndTheDroppedCounted) {
  rustiq::testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<EventLog>> log =
      EventLog::Open(OpenStore(DbPath(dir)), Options(), nullptr, nullptr);
  ASSERT_TRUE(log.ok());
  // Not started: nothing drains the queue.
  for (size_t i = 0; i < EventLog::kMaxOwnPending + 904; ++i) {
    (*log)->RecordOwn(
        Input("call.denied", v1::EVENT_CATEGORY_RPC, v1::EVENT_OUTCOME_DENIED));
  }
  (*log)->Start();
  (*log)->WaitForMore(EventLog::kMaxOwnPending - 1,
                      absl::Now() + absl::Seconds(10));
  ASSERT_EQ((*log)->Current().size, EventLog::kMaxOwnPending);
  (*log)->RecordOwn(Input("eventlog.started", v1::EVENT_CATEGORY_EVENTLOG));
  (*log)->WaitForMore(EventLog::kMaxOwnPending + 1,
                      absl::Now() + absl::Seconds(10));
  auto last = (*log)->store().Query(v1::EventFilter(), UINT64_MAX, true, 2);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ((*last)[1].action(), "events.dropped");
  EXPECT_EQ((*last)[1].attributes(0).value(), "904");
  EXPECT_EQ((*last)[0].action(), "eventlog.started");
}

TEST(EventdLogTest, QueriesFilterAndPage) {
  rustiq::testing::TempDir dir;
  auto log = OpenLog(DbPath(dir), nullptr);
  for (int i = 0; i < 30; ++i) {
    v1::EventInput in = Input(
        "a.b", i % 3 == 0 ? v1::EVENT_CATEGORY_AUTH : v1::EVENT_CATEGORY_KEY,
        i % 5 == 0 ? v1::EVENT_OUTCOME_DENIED : v1::EVENT_OUTCOME_SUCCESS);
    if (i % 2 == 0) in.set_actor("user/alice");
    ASSERT_TRUE(log->Append(i % 4 == 0 ? "svc/authd" : "svc/keyd", {in}).ok());
  }
  v1::EventFilter f;
  f.add_categories(v1::EVENT_CATEGORY_AUTH);
  auto auth = log->store().Query(f, 0, false, 100);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->size(), 10u);
  for (const v1::Event& e : *auth) {
    EXPECT_EQ(e.category(), v1::EVENT_CATEGORY_AUTH);
  }
  v1::EventFilter g;
  g.add_sources("svc/authd");
  g.set_actor("user/alice");
  g.add_outcomes(v1::EVENT_OUTCOME_DENIED);
  auto denied = log->store().Query(g, 0, false, 100);
  ASSERT_TRUE(denied.ok());
  for (const v1::Event& e : *denied) {
    EXPECT_EQ(e.seq() % 20, 0u);  // multiples of 4, 2 and 5
  }
  EXPECT_EQ(denied->size(), 2u);
  v1::EventFilter severe;
  severe.set_min_severity(v1::EVENT_SEVERITY_WARNING);
  EXPECT_EQ(log->store().Query(severe, 0, false, 100)->size(), 6u);
  // Newest first, from a cursor.
  auto newest = log->store().Query(v1::EventFilter(), 20, true, 5);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 5u);
  EXPECT_EQ((*newest)[0].seq(), 20u);
  EXPECT_EQ((*newest)[4].seq(), 16u);
  // A time window.
  int64_t t5 = (*log->store().Query(v1::EventFilter(), 5, false, 1))[0]
                   .time_unix_nanos();
  v1::EventFilter since;
  since.set_since_unix_nanos(t5);
  EXPECT_EQ(log->store().Query(since, 0, false, 100)->front().seq(), 5u);
}

// The stamped time never goes back, even when the clock does, so that a
// time window is a range of seqs; queries by window find exactly it.
TEST(EventdLogTest, TimesNeverDecreaseAndWindowsAreExact) {
  rustiq::testing::TempDir dir;
  int64_t now = 1'000'000;
  EventLogOptions o = Options();
  o.wall_nanos = [&now] { return now; };
  auto log = OpenLog(DbPath(dir), nullptr, o);
  for (int i = 0; i < 20; ++i) {
    now = i == 10 ? 500 : now + 1000;  // the clock steps back at event 10
    ASSERT_TRUE(log->Append("svc/keyd", {Input("a.b")}).ok());
  }
  auto all = log->store().Query(v1::EventFilter(), 0, false, 100);
  ASSERT_TRUE(all.ok());
  for (size_t i = 1; i < all->size(); ++i) {
    EXPECT_GT((*all)[i].time_unix_nanos(), (*all)[i - 1].time_unix_nanos());
  }
  v1::EventFilter window;
  window.set_since_unix_nanos((*all)[5].time_unix_nanos());
  window.set_until_unix_nanos((*all)[15].time_unix_nanos());
  for (bool newest_first : {false, true}) {
    auto got = log->store().Query(window, newest_first ? UINT64_MAX : 0,
                                  newest_first, 100);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 10u);
    EXPECT_EQ(newest_first ? got->back().seq() : got->front().seq(), 5u);
    EXPECT_EQ(newest_first ? got->front().seq() : got->back().seq(), 14u);
  }
  // Reopened, the log goes on from its newest time.
  log.reset();
  now = 0;
  auto again = OpenLog(DbPath(dir), nullptr, o);
  ASSERT_TRUE(again->Append("svc/keyd", {Input("a.b")}).ok());
  auto last = again->store().Query(v1::EventFilter(), UINT64_MAX, true, 1);
  EXPECT_GT((*last)[0].time_unix_nanos(), (*all)[19].time_unix_nanos());
}

TEST(EventdLogTest, WaitForMoreWakesOnAppend) {
  rustiq::testing::TempDir dir;
  auto log = OpenLog(DbPath(dir), nullptr);
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(log->Append("svc/keyd", {Input("a.b")}).ok());
  });
  absl::Time start = absl::Now();
  EXPECT_EQ(log->WaitForMore(0, absl::Now() + absl::Seconds(5)), 1u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  t.join();
}

TEST(EventdLogTest, ReopensWhereItLeftOff) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  merkle::Hash root{};
  {
    auto log = OpenLog(DbPath(dir), &signer);
    AppendN(*log, 21);
    ASSERT_TRUE(log->SignNow().ok());
    AppendN(*log, 4);  // an unsigned tail
    root = log->Current().root;
  }  // Stop() signs 25
  auto log = OpenLog(DbPath(dir), &signer);
  EXPECT_EQ(log->Current().size, 25u);
  EXPECT_EQ(log->Current().root, root);
  absl::StatusOr<uint64_t> seq = log->Append("svc/keyd", {Input("a.b")});
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 25u);
}

TEST(EventdLogTest, RetentionPrunesByCountKeepingTheRestVerifiable) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  EventLogOptions o = Options();
  o.retention_max_events = 10;
  auto log = OpenLog(DbPath(dir), &signer, o);
  AppendN(*log, 37);
  ASSERT_TRUE(log->SignNow().ok());
  absl::StatusOr<uint64_t> first = log->PruneNow();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 27u);
  EXPECT_EQ(log->first_seq(), 27u);
  // The remaining events still prove their inclusion in the signed head.
  std::optional<v1::TreeHead> head = log->LatestSigned();
  for (uint64_t seq = 27; seq < 37; ++seq) {
    absl::StatusOr<v1::InclusionProof> p = log->Inclusion(seq, 37);
    ASSERT_TRUE(p.ok()) << seq << ": " << p.status();
    std::vector<merkle::Hash> path;
    for (const std::string& h : p->hashes()) {
      path.push_back(*merkle::HashFromBytes(h));
    }
    EXPECT_TRUE(
        merkle::VerifyInclusion(*merkle::HashFromBytes(p->leaf_hash()), seq, 37,
                                path, *merkle::HashFromBytes(head->root_hash()))
            .ok());
  }
  EXPECT_EQ(log->Inclusion(3, 37).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Pruning was recorded (the event may take a moment: it is eventd's own).
  log->Stop();
  auto store = OpenStore(DbPath(dir));  // and the pruned file opens cleanly
  v1::EventFilter f;
  f.add_categories(v1::EVENT_CATEGORY_EVENTLOG);
  auto pruned = store->Query(f, 0, false, 10);
  ASSERT_TRUE(pruned.ok());
  ASSERT_EQ(pruned->size(), 1u);
  EXPECT_EQ((*pruned)[0].action(), "events.pruned");
  EXPECT_EQ(store->opened_state().first_seq, 27u);
}

TEST(EventdLogTest, RetentionByAgeNeverPrunesUnsignedEvents) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  int64_t now = 1'000'000'000'000'000'000;
  EventLogOptions o = Options();
  o.retention_days = 1;
  o.wall_nanos = [&now] { return now; };
  auto log = OpenLog(DbPath(dir), &signer, o);
  AppendN(*log, 5);  // "old"
  ASSERT_TRUE(log->SignNow().ok());
  now += int64_t{3} * 86400 * 1000000000;
  AppendN(*log, 5);  // recent, unsigned
  now += 1;
  absl::StatusOr<uint64_t> first = log->PruneNow();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 5u);  // the old ones, not beyond the signed head
}

// A damaged file is refused at open, naming the problem; nothing is served.
TEST(EventdStoreTest, RefusesADamagedLogNamingWhatIsWrong) {
  struct Case {
    const char* sql;
    const char* expect;
  } cases[] = {
      {"DELETE FROM events WHERE seq = 4", "event 4 is missing"},
      {"DELETE FROM events WHERE seq < 2", "events 0..1 are missing"},
      {"DELETE FROM events WHERE seq >= 8", "removed from its end"},
      {"UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0",
       "does not match the signed tree head"},
      {"DELETE FROM nodes WHERE level = 3", "is missing"},
      {"UPDATE meta SET value = 'other' WHERE key = 'device_id'",
       "of device 'other'"},
  };
  for (const Case& c : cases) {
    rustiq::testing::TempDir dir;
    LocalSigner signer;
    {
      auto log = OpenLog(DbPath(dir), &signer);
      AppendN(*log, 10);
    }  // signed at 10 on Stop()
    Tamper(DbPath(dir), c.sql);
    absl::StatusOr<std::unique_ptr<EventStore>> store =
        EventStore::Open(DbPath(dir), testing::kDevice);
    ASSERT_FALSE(store.ok()) << c.sql;
    EXPECT_THAT(store.status().message(), HasSubstr(c.expect)) << c.sql;
  }
}

TEST(EventdStoreTest, AnAlteredUnsignedEventIsRefusedAtOpen) {
  rustiq::testing::TempDir dir;
  LocalSigner signer;
  {
    auto log = OpenLog(DbPath(dir), &signer);
    AppendN(*log, 4);
    ASSERT_TRUE(log->SignNow().ok());
    AppendN(*log, 3);
    signer.fail = true;  // the tail stays unsigned
  }
  Tamper(DbPath(dir),
         "UPDATE events SET entry = CAST(entry || x'00' AS BLOB) "
         "WHERE seq = 5");
  absl::StatusOr<std::unique_ptr<EventStore>> store =
      EventStore::Open(DbPath(dir), testing::kDevice);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(),
              HasSubstr("event 5 does not match its Merkle leaf"));
}

TEST(EventdStoreTest, ANewLogIsCreatedOwnerOnly) {
  rustiq::testing::TempDir dir;
  auto store = OpenStore(DbPath(dir));
  struct stat st {};
  ASSERT_EQ(stat(DbPath(dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace rustiq::eventd
