// The export verifier (common/events/log_verifier.h) on logs built here from
// first principles: events serialized deterministically, RFC 6962 roots,
// checkpoints signed with real Ed25519 keys. A good log verifies, and each
// kind of tampering is caught with the position it happened at.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/events/export_format.h"
#include "common/events/log_verifier.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {
namespace {

using ::testing::HasSubstr;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Pkey NewSigningKey() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_NE(key, nullptr);
  return key;
}

// The public half alone, as a verifier holds it.
Pkey PublicKeyOf(EVP_PKEY* key) {
  uint8_t raw[merkle::kEd25519PublicKeySize];
  size_t length = sizeof(raw);
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(key, raw, &length), 1);
  Pkey public_key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, length));
  EXPECT_NE(public_key, nullptr);
  return public_key;
}

std::string Ed25519Sign(EVP_PKEY* key, absl::string_view message) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key), 1);
  std::string signature(merkle::kEd25519SignatureSize, '\0');
  size_t length = signature.size();
  EXPECT_EQ(
      EVP_DigestSign(ctx.get(), reinterpret_cast<uint8_t*>(&signature[0]),
                     &length, reinterpret_cast<const uint8_t*>(message.data()),
                     message.size()),
      1);
  signature.resize(length);
  return signature;
}

std::string DeterministicEntry(const v1::Event& event) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    EXPECT_TRUE(event.SerializeToCodedStream(&coded));
  }
  return out;
}

ExportEventColumns ColumnsOf(const v1::Event& event) {
  ExportEventColumns columns;
  columns.seq = event.seq();
  columns.time_unix_nanos = event.time_unix_nanos();
  columns.source = event.source();
  columns.actor = event.actor();
  columns.category = event.category();
  columns.outcome = event.outcome();
  columns.severity = event.severity();
  return columns;
}

constexpr int64_t kBaseTime = 1'796'162'400'000'000'000;  // 2026-12-01 22:00

// A log of `size` events with signed heads at `head_sizes`, and its export.
class TestLog {
 public:
  TestLog(uint64_t size, std::vector<uint64_t> head_sizes, EVP_PKEY* key,
          std::string device = "dev-1", std::string actor_suffix = "")
      : device_(std::move(device)),
        key_(key),
        head_sizes_(std::move(head_sizes)) {
    for (uint64_t seq = 0; seq < size; ++seq) {
      v1::Event event;
      event.set_seq(seq);
      event.set_time_unix_nanos(kBaseTime + static_cast<int64_t>(seq) * 1000 +
                                7);
      event.set_monotonic_nanos(static_cast<int64_t>(seq) * 10);
      event.set_boot_id("boot-A");
      event.set_source("svc/keyd");
      event.set_actor(absl::StrCat("svc/actor-", seq, actor_suffix));
      event.set_category(seq % 2 == 0 ? v1::EVENT_CATEGORY_KEY
                                      : v1::EVENT_CATEGORY_AUTH);
      event.set_action(seq % 3 == 0 ? "key.used" : "login.failed");
      event.set_outcome(seq % 2 == 0 ? v1::EVENT_OUTCOME_SUCCESS
                                     : v1::EVENT_OUTCOME_DENIED);
      event.set_severity(v1::EVENT_SEVERITY_NOTICE);
      v1::EventAttribute* attribute = event.add_attributes();
      attribute->set_key("index");
      attribute->set_value(absl::StrCat(seq));
      attribute = event.add_attributes();
      attribute->set_key("zone");
      attribute->set_value("north");
      entries_.push_back(DeterministicEntry(event));
      leaves_.push_back(merkle::LeafHash(entries_.back()));
      events_.push_back(std::move(event));
    }
  }

  uint64_t size() const { return events_.size(); }
  const v1::Event& event(uint64_t seq) const { return events_[seq]; }
  const std::string& entry(uint64_t seq) const { return entries_[seq]; }
  const merkle::Hash& leaf(uint64_t seq) const { return leaves_[seq]; }

  merkle::CompactRange RangeAt(uint64_t size) const {
    merkle::CompactRange range;
    for (uint64_t i = 0; i < size; ++i) range.Append(leaves_[i]);
    return range;
  }
  merkle::Hash RootAt(uint64_t size) const { return RangeAt(size).Root(); }

  std::string SignedCheckpoint(uint64_t size) const {
    const std::string key_name = EventLogKeyName(device_);
    const std::string body =
        merkle::CheckpointBody(EventLogOrigin(device_), size, RootAt(size));
    absl::StatusOr<uint32_t> key_id =
        merkle::Ed25519NoteKeyIdOf(key_name, key_);
    EXPECT_TRUE(key_id.ok()) << key_id.status();
    return merkle::FormatSignedNote(body, key_name, *key_id,
                                    Ed25519Sign(key_, body));
  }

  v1::TreeHead Head(uint64_t size) const {
    v1::TreeHead head;
    head.set_size(size);
    head.set_root_hash(std::string(merkle::AsBytes(RootAt(size))));
    head.set_time_unix_nanos(kBaseTime + static_cast<int64_t>(size) * 1000);
    head.set_key_version(1);
    head.set_checkpoint(SignedCheckpoint(size));
    return head;
  }

  std::string EventLineOf(uint64_t seq, bool with_leaf = true) const {
    return EventLine(
        ColumnsOf(events_[seq]), &events_[seq], entries_[seq],
        with_leaf ? std::optional<merkle::Hash>(leaves_[seq]) : std::nullopt);
  }

  // The export of events [from_seq, to_seq) (to_seq 0: all) with the heads
  // of size >= from_seq (and <= to_seq unless `heads_beyond`), as the
  // exporter writes it.
  std::vector<std::string> Lines(uint64_t from_seq = 0,
                                 std::optional<uint64_t> to_seq = std::nullopt,
                                 bool heads_beyond = false,
                                 bool with_leaves = true) const {
    const uint64_t to = to_seq.value_or(size());
    ExportHeader header;
    header.device = device_;
    header.origin = EventLogOrigin(device_);
    header.key_name = EventLogKeyName(device_);
    header.from_seq = from_seq;
    header.to_seq = to;
    header.prefix = RangeAt(from_seq).Frontier();
    std::vector<std::string> lines = {HeaderLine(header)};
    uint64_t heads = 0;
    for (uint64_t head_size : head_sizes_) {
      if (head_size < from_seq || (head_size > to && !heads_beyond)) continue;
      lines.push_back(TreeHeadLine(Head(head_size)));
      ++heads;
    }
    for (uint64_t seq = from_seq; seq < to; ++seq) {
      lines.push_back(EventLineOf(seq, with_leaves));
    }
    lines.push_back(EndLine(ExportEnd{to - from_seq, heads}));
    return lines;
  }

 private:
  std::string device_;
  EVP_PKEY* key_;  // not owned
  std::vector<uint64_t> head_sizes_;
  std::vector<v1::Event> events_;
  std::vector<std::string> entries_;
  std::vector<merkle::Hash> leaves_;
};

absl::StatusOr<VerifyReport> Verify(
    const std::vector<std::string>& lines, EVP_PKEY* key,
    std::optional<std::string> trusted = std::nullopt) {
  VerifyOptions options;
  options.checkpoint_key = key;
  options.trusted_checkpoint = std::move(trusted);
  std::istringstream in(absl::StrJoin(lines, "\n") + "\n");
  return VerifyExport(in, options);
}

// The index of the line of event `seq`.
size_t LineOfEvent(const std::vector<std::string>& lines, uint64_t seq) {
  const std::string needle =
      absl::StrCat("{\"type\":\"event\",\"seq\":", seq, ",");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with(needle)) return i;
  }
  ADD_FAILURE() << "no line for event " << seq;
  return 0;
}

size_t LineOfHead(const std::vector<std::string>& lines, uint64_t size) {
  const std::string needle =
      absl::StrCat("{\"type\":\"tree_head\",\"size\":", size, ",");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with(needle)) return i;
  }
  ADD_FAILURE() << "no line for the head of size " << size;
  return 0;
}

void ExpectError(const absl::StatusOr<VerifyReport>& result,
                 absl::StatusCode code, absl::string_view message) {
  ASSERT_FALSE(result.ok()) << "verified, expected: " << message;
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(message));
}

class LogVerifierTest : public ::testing::Test {
 protected:
  LogVerifierTest()
      : signing_key_(NewSigningKey()), key_(PublicKeyOf(signing_key_.get())) {}

  Pkey signing_key_;
  Pkey key_;
};

TEST_F(LogVerifierTest, GoodLogVerifies) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  absl::StatusOr<VerifyReport> report = Verify(log.Lines(), key_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->from_seq, 0u);
  EXPECT_EQ(report->end_seq, 100u);
  EXPECT_EQ(report->events, 100u);
  EXPECT_EQ(report->tree_heads, 3u);
  EXPECT_EQ(report->signed_up_to, 100u);
  EXPECT_EQ(report->unsigned_events, 0u);
}

TEST_F(LogVerifierTest, ReportsEventsAfterTheLastSignedHeadAsUnsigned) {
  TestLog log(50, {16, 40}, signing_key_.get());
  absl::StatusOr<VerifyReport> report = Verify(log.Lines(), key_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->signed_up_to, 40u);
  EXPECT_EQ(report->unsigned_events, 10u);

  TestLog unsigned_log(5, {}, signing_key_.get());
  report = Verify(unsigned_log.Lines(), key_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->tree_heads, 0u);
  EXPECT_EQ(report->signed_up_to, 0u);
  EXPECT_EQ(report->unsigned_events, 5u);
}

// Every size near a power of two, with a head at every size up to it, and
// exports of it from every start.
TEST_F(LogVerifierTest, GoodLogsOfManySizesVerifyWholeAndFromAnyStart) {
  for (uint64_t size : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33}) {
    std::vector<uint64_t> heads;
    for (uint64_t s = 0; s <= size; ++s) heads.push_back(s);
    TestLog log(size, heads, signing_key_.get());
    for (uint64_t from = 0; from <= size; ++from) {
      SCOPED_TRACE(absl::StrCat("size ", size, " from ", from));
      absl::StatusOr<VerifyReport> report = Verify(log.Lines(from), key_.get());
      ASSERT_TRUE(report.ok()) << report.status();
      EXPECT_EQ(report->from_seq, from);
      EXPECT_EQ(report->end_seq, size);
      EXPECT_EQ(report->events, size - from);
      EXPECT_EQ(report->tree_heads, size - from + 1);
      EXPECT_EQ(report->signed_up_to, size);
      EXPECT_EQ(report->unsigned_events, 0u);
    }
  }
}

TEST_F(LogVerifierTest, LargerLogsAroundPowersOfTwoVerify) {
  TestLog log(1025,
              {63, 64, 65, 127, 128, 129, 511, 512, 513, 1023, 1024, 1025},
              signing_key_.get());
  for (uint64_t from : {0, 1, 63, 64, 100, 512, 777, 1024, 1025}) {
    SCOPED_TRACE(absl::StrCat("from ", from));
    absl::StatusOr<VerifyReport> report = Verify(log.Lines(from), key_.get());
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->signed_up_to, 1025u);
  }
  // A part of the log: events 100..600, heads up to 600.
  absl::StatusOr<VerifyReport> report = Verify(log.Lines(100, 600), key_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->end_seq, 600u);
  EXPECT_EQ(report->signed_up_to, 513u);
  EXPECT_EQ(report->unsigned_events, 87u);
}

TEST_F(LogVerifierTest, ExportWithoutLeavesVerifies) {
  TestLog log(20, {8, 20}, signing_key_.get());
  absl::StatusOr<VerifyReport> report = Verify(
      log.Lines(0, std::nullopt, false, /*with_leaves=*/false), key_.get());
  ASSERT_TRUE(report.ok()) << report.status();
}

// Heads may also come after events, as long as they cover none of them.
TEST_F(LogVerifierTest, AcceptsHeadsAfterEventsTheyDoNotCoverYet) {
  TestLog log(10, {4, 10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  // header, head 4, head 10, events 0..9, end: move head 10 after event 5.
  std::string head10 = lines[2];
  lines.erase(lines.begin() + 2);
  lines.insert(lines.begin() + LineOfEvent(lines, 5) + 1, head10);
  absl::StatusOr<VerifyReport> report = Verify(lines, key_.get());
  ASSERT_TRUE(report.ok()) << report.status();

  // A head after the events it covers cannot be checked.
  TestLog one_head(10, {4}, signing_key_.get());
  lines = one_head.Lines();
  std::string head4 = lines[1];
  lines.erase(lines.begin() + 1);
  lines.insert(lines.begin() + LineOfEvent(lines, 5) + 1, head4);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "tree head of size 4 comes after event 5, which it covers");
}

TEST_F(LogVerifierTest, ChangedEntryByteIsCaughtByItsLeaf) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  // A byte of a field the log has no column for: the entry still parses and
  // agrees with the columns.
  std::string entry = log.entry(41);
  entry[entry.find("boot-A") + 5] = 'B';
  v1::Event altered;
  ASSERT_TRUE(altered.ParseFromString(entry));
  lines[LineOfEvent(lines, 41)] =
      EventLine(ColumnsOf(log.event(41)), &altered, entry, log.leaf(41));
  absl::StatusOr<VerifyReport> result = Verify(lines, key_.get());
  ExpectError(result, absl::StatusCode::kDataLoss,
              "event 41 does not match the Merkle leaf recorded when it was "
              "appended");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(merkle::ToHex(merkle::LeafHash(entry))));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(merkle::ToHex(log.leaf(41))));
}

TEST_F(LogVerifierTest, ChangedEntryByteWithoutLeafIsCaughtByTheRoot) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  std::string entry = log.entry(41);
  entry[entry.find("boot-A") + 5] = 'B';
  v1::Event altered;
  ASSERT_TRUE(altered.ParseFromString(entry));
  lines[LineOfEvent(lines, 41)] =
      EventLine(ColumnsOf(log.event(41)), &altered, entry, std::nullopt);
  merkle::CompactRange computed = log.RangeAt(41);
  computed.Append(merkle::LeafHash(entry));
  for (uint64_t seq = 42; seq < 64; ++seq) computed.Append(log.leaf(seq));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              absl::StrCat("tree head of size 64: the root computed from the "
                           "events (",
                           merkle::ToHex(computed.Root()),
                           ") differs from the signed root (",
                           merkle::ToHex(log.RootAt(64)),
                           "); the previous verified head was size 32, so an "
                           "event in 32..63 was altered, removed or "
                           "reordered"));
}

// A byte of the entry under a column: the entry disagrees with the column.
TEST_F(LogVerifierTest, ChangedEntryByteUnderAColumnIsNamed) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  std::string entry = log.entry(41);
  entry[entry.find("svc/actor-41") + 4] = 'b';
  v1::Event altered;
  ASSERT_TRUE(altered.ParseFromString(entry));
  lines[LineOfEvent(lines, 41)] =
      EventLine(ColumnsOf(log.event(41)), &altered, entry, log.leaf(41));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 41: its 'actor' is \"svc/actor-41\" in the log's columns "
              "but \"svc/bctor-41\" in its signed entry");
}

TEST_F(LogVerifierTest, EntryThatDoesNotParseIsNamed) {
  TestLog log(10, {10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines[LineOfEvent(lines, 3)] =
      EventLine(ColumnsOf(log.event(3)), nullptr, "\xff\xff\xff", std::nullopt);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 3: its entry (3 bytes) does not parse as an event");
}

TEST_F(LogVerifierTest, ChangedColumnIsNamedWithBothValues) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  ExportEventColumns columns = ColumnsOf(log.event(41));
  columns.actor = "svc/intruder";
  lines[LineOfEvent(lines, 41)] =
      EventLine(columns, &log.event(41), log.entry(41), log.leaf(41));
  absl::StatusOr<VerifyReport> result = Verify(lines, key_.get());
  ExpectError(result, absl::StatusCode::kDataLoss,
              "event 41: its 'actor' is \"svc/intruder\" in the log's columns "
              "but \"svc/actor-41\" in its signed entry");
  // With the line it was found on.
  EXPECT_THAT(
      result.status().message(),
      HasSubstr(absl::StrCat("line ", LineOfEvent(lines, 41) + 1, ":")));
}

TEST_F(LogVerifierTest, EveryReadableFieldIsCompared) {
  TestLog log(10, {10}, signing_key_.get());
  struct Case {
    void (*alter)(ExportEventColumns*, v1::Event*);
    const char* message;
  };
  const Case cases[] = {
      {[](ExportEventColumns* c, v1::Event*) { c->time_unix_nanos += 1; },
       "event 4: its 'time' is 2026-12-01T22:00:00.000004008Z in the log's "
       "columns but 2026-12-01T22:00:00.000004007Z in its signed entry"},
      {[](ExportEventColumns* c, v1::Event*) { c->source = "svc/authd"; },
       "its 'source' is \"svc/authd\" in the log's columns but \"svc/keyd\""},
      {[](ExportEventColumns* c, v1::Event*) {
         c->category = v1::EVENT_CATEGORY_UPDATE;
       },
       "its 'category' is \"update\" in the log's columns but \"key\""},
      {[](ExportEventColumns* c, v1::Event*) { c->outcome = 77; },
       "its 'outcome' is 77 in the log's columns but \"success\""},
      {[](ExportEventColumns* c, v1::Event*) {
         c->severity = v1::EVENT_SEVERITY_ALERT;
       },
       "its 'severity' is \"alert\" in the log's columns but \"notice\""},
      {[](ExportEventColumns*, v1::Event* e) { e->set_action("nothing"); },
       "its 'action' is \"nothing\" in the export line but \"login.failed\""},
      {[](ExportEventColumns*, v1::Event* e) {
         e->mutable_attributes(1)->set_value("south");
       },
       "its 'attributes.zone' is \"south\" in the export line but \"north\""},
      {[](ExportEventColumns*, v1::Event* e) {
         e->mutable_attributes()->RemoveLast();
       },
       "its 'attributes.zone' is absent in the export line but \"north\""},
      {[](ExportEventColumns*, v1::Event* e) {
         v1::EventAttribute* a = e->add_attributes();
         a->set_key("added");
         a->set_value("1");
       },
       "its 'attributes.added' is \"1\" in the export line but absent in its "
       "signed entry"},
      {[](ExportEventColumns* c, v1::Event*) { c->seq = 5; },
       "event 4 is missing (the next event present is 5)"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.message);
    std::vector<std::string> lines = log.Lines();
    ExportEventColumns columns = ColumnsOf(log.event(4));
    v1::Event shown = log.event(4);  // what the line shows of the entry
    test.alter(&columns, &shown);
    lines[LineOfEvent(lines, 4)] =
        EventLine(columns, &shown, log.entry(4), log.leaf(4));
    ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
                test.message);
  }
}

TEST_F(LogVerifierTest, EntryOfAnotherEventIsNamed) {
  TestLog log(10, {10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  // Row 4 holds event 5's columns and entry under seq 4 (rows swapped in
  // the database, keys kept).
  ExportEventColumns columns = ColumnsOf(log.event(5));
  columns.seq = 4;
  lines[LineOfEvent(lines, 4)] =
      EventLine(columns, &log.event(5), log.entry(5), log.leaf(5));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 4: its 'seq' is 4 in the log's columns but 5 in its "
              "signed entry");
}

TEST_F(LogVerifierTest, RemovedEventIsNamed) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines.erase(lines.begin() + LineOfEvent(lines, 41));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 41 is missing (the next event present is 42)");
}

TEST_F(LogVerifierTest, SwappedEventsAreCaught) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  std::swap(lines[LineOfEvent(lines, 41)], lines[LineOfEvent(lines, 42)]);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 41 is missing (the next event present is 42)");

  // A duplicate in place of the next one.
  lines = log.Lines();
  lines[LineOfEvent(lines, 42)] = lines[LineOfEvent(lines, 41)];
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "position 42 holds event 41: events are out of order or "
              "duplicated");
}

// Swapped and renumbered, with entries and leaves made to agree: only the
// signed root shows it.
TEST_F(LogVerifierTest, SwappedAndRenumberedEventsAreCaughtByTheRoot) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  for (uint64_t seq : {41, 42}) {
    v1::Event moved = log.event(seq == 41 ? 42 : 41);
    moved.set_seq(seq);
    const std::string entry = DeterministicEntry(moved);
    lines[LineOfEvent(lines, seq)] =
        EventLine(ColumnsOf(moved), &moved, entry, merkle::LeafHash(entry));
  }
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 64: the root computed from the events");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the previous verified head was size 32, so an event in 32..63 "
              "was altered, removed or reordered");
}

TEST_F(LogVerifierTest, TruncatedEndWithHeadsKeptIsCaught) {
  TestLog log(120, {50, 100, 120}, signing_key_.get());
  // The exporter of a truncated log: events up to 99, every signed head.
  std::vector<std::string> lines = log.Lines(0, 100, /*heads_beyond=*/true);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "a tree head of size 120 is signed but the log ends at event "
              "99: events were removed from its end");
}

TEST_F(LogVerifierTest, CountsOfTheEndLineMustMatch) {
  TestLog log(20, {10, 20}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines.back() = EndLine(ExportEnd{21, 2});
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the end line counts 21 events, but the export holds 20");
  lines.back() = EndLine(ExportEnd{20, 3});
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the end line counts 3 tree heads, but the export holds 2");
  // Events removed from the end together with the heads that cover them,
  // header kept: the header's range shows it.
  lines = log.Lines();
  lines.erase(lines.begin() + LineOfEvent(lines, 15), lines.end());
  lines.erase(lines.begin() + LineOfHead(lines, 20));
  lines.push_back(EndLine(ExportEnd{15, 1}));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the header says the export ends before event 20, but the log "
              "ends at event 14");
}

// An event added after the header's range (and the end line's count raised
// to match) is named as what it is, not as events missing from the end.
TEST_F(LogVerifierTest, EventBeyondTheHeadersRangeIsNamed) {
  TestLog log(30, {10, 20, 30}, signing_key_.get());
  const std::vector<std::string> whole = log.Lines();
  std::vector<std::string> lines = log.Lines(0, 20);
  lines.back() = whole[LineOfEvent(whole, 20)];
  lines.push_back(EndLine(ExportEnd{21, 2}));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "event 20 is beyond the export's range: the header says it "
              "ends before event 20");
}

TEST_F(LogVerifierTest, TruncationWithHeadsRemovedIsCaughtByTrustedCheckpoint) {
  TestLog log(120, {50, 100, 120}, signing_key_.get());
  const std::string saved = log.SignedCheckpoint(100);
  // The log cut to 80 events with its heads beyond: consistent in itself.
  std::vector<std::string> truncated = log.Lines(0, 80);
  ASSERT_TRUE(Verify(truncated, key_.get()).ok());
  ExpectError(Verify(truncated, key_.get(), saved), absl::StatusCode::kDataLoss,
              "the log ends at event 79, but a checkpoint of size 100 was "
              "saved earlier: the log was truncated");
}

TEST_F(LogVerifierTest, TrustedCheckpointWithinTheLogIsChecked) {
  TestLog log(120, {50, 100, 120}, signing_key_.get());
  // At a size without a head in the log; it then counts as signed.
  absl::StatusOr<VerifyReport> report =
      Verify(log.Lines(0, 80), key_.get(), log.SignedCheckpoint(70));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->signed_up_to, 70u);
  EXPECT_EQ(report->unsigned_events, 10u);
  // At the export's start, against the prefix.
  report = Verify(log.Lines(64), key_.get(), log.SignedCheckpoint(64));
  ASSERT_TRUE(report.ok()) << report.status();
  // At the end.
  report = Verify(log.Lines(), key_.get(), log.SignedCheckpoint(120));
  ASSERT_TRUE(report.ok()) << report.status();

  // The device's key signed another history at size 70 earlier (a
  // rewritten log): the saved root disagrees with the events.
  TestLog other(120, {}, signing_key_.get(), "dev-1", "-old");
  ExpectError(Verify(log.Lines(), key_.get(), other.SignedCheckpoint(70)),
              absl::StatusCode::kDataLoss,
              absl::StrCat("the checkpoint of size 70 saved earlier has the "
                           "root ",
                           merkle::ToHex(other.RootAt(70)),
                           ", but the events "
                           "give ",
                           merkle::ToHex(log.RootAt(70)),
                           " at that size: the log was rewritten"));

  // Not by this key, not a note, older than the export.
  Pkey foreign_key = NewSigningKey();
  TestLog foreign(120, {}, foreign_key.get());
  ExpectError(Verify(log.Lines(), key_.get(), foreign.SignedCheckpoint(70)),
              absl::StatusCode::kInvalidArgument,
              "the trusted checkpoint does not verify with the checkpoint key");
  ExpectError(Verify(log.Lines(), key_.get(), "hello"),
              absl::StatusCode::kInvalidArgument,
              "the trusted checkpoint is not a signed note");
  ExpectError(Verify(log.Lines(64), key_.get(), log.SignedCheckpoint(50)),
              absl::StatusCode::kInvalidArgument,
              "the trusted checkpoint of size 50 is older than the export's "
              "first event 64");
}

TEST_F(LogVerifierTest, ConsistentRewriteSignedByAnotherKeyIsRefused) {
  Pkey forger = NewSigningKey();
  TestLog forged(100, {32, 64, 100}, forger.get(), "dev-1", "-forged");
  ExpectError(Verify(forged.Lines(), key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 32: signature does not verify with the "
              "checkpoint key (not signed by this device, or altered)");
  // It verifies with the forger's own key, of course.
  ASSERT_TRUE(Verify(forged.Lines(), PublicKeyOf(forger.get()).get()).ok());
}

// After a rotation of the checkpoint key, the heads signed before it
// verify with the earlier version, those after with the current one.
TEST_F(LogVerifierTest, HeadsSignedBeforeARotationVerifyWithTheEarlierKey) {
  Pkey rotated = NewSigningKey();
  TestLog before(100, {32}, signing_key_.get());
  TestLog after(100, {32, 64, 100}, rotated.get());
  std::vector<std::string> lines = after.Lines();
  lines[LineOfHead(lines, 32)] = TreeHeadLine(before.Head(32));
  Pkey current = PublicKeyOf(rotated.get());
  ExpectError(Verify(lines, current.get()), absl::StatusCode::kDataLoss,
              "tree head of size 32: signature does not verify");
  VerifyOptions options;
  options.checkpoint_key = current.get();
  options.earlier_checkpoint_keys = {key_.get()};
  std::istringstream in(absl::StrJoin(lines, "\n") + "\n");
  absl::StatusOr<VerifyReport> report = VerifyExport(in, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->signed_up_to, 100u);
  // An earlier key does not make another key's signatures acceptable.
  Pkey stranger = NewSigningKey();
  Pkey stranger_public = PublicKeyOf(stranger.get());
  options.earlier_checkpoint_keys = {stranger_public.get()};
  std::istringstream again(absl::StrJoin(lines, "\n") + "\n");
  EXPECT_FALSE(VerifyExport(again, options).ok());
}

TEST_F(LogVerifierTest, AlteredNoteIsRefused) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  // The note's text claims another size; the line follows it.
  v1::TreeHead head = log.Head(64);
  std::string note = head.checkpoint();
  note.replace(note.find("\n64\n"), 4, "\n65\n");
  head.set_checkpoint(note);
  lines[LineOfHead(lines, 64)] = TreeHeadLine(head);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 64: signature does not verify with the "
              "checkpoint key (not signed by this device, or altered)");
}

TEST_F(LogVerifierTest, HeadLineDisagreeingWithItsNoteIsRefused) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  v1::TreeHead head = log.Head(64);
  head.set_root_hash(std::string(merkle::AsBytes(log.RootAt(63))));
  lines[LineOfHead(lines, 64)] = TreeHeadLine(head);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              absl::StrCat("tree head of size 64: the line's root ",
                           merkle::ToHex(log.RootAt(63)),
                           " differs from the signed root ",
                           merkle::ToHex(log.RootAt(64))));

  // A signed note of another size under this size.
  lines = log.Lines();
  head = log.Head(64);
  head.set_checkpoint(log.SignedCheckpoint(32));
  lines[LineOfHead(lines, 64)] = TreeHeadLine(head);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 64: its signed checkpoint is for size 32");

  // Another device's log signed by the same key (misconfiguration).
  TestLog other(100, {64}, signing_key_.get(), "dev-2");
  lines = log.Lines();
  head = other.Head(64);
  lines[LineOfHead(lines, 64)] = TreeHeadLine(head);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 64: signature does not verify");
}

TEST_F(LogVerifierTest, HeadsOutOfOrderAreRefused) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  std::swap(lines[LineOfHead(lines, 32)], lines[LineOfHead(lines, 64)]);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree heads are out of order or repeated: the head of size 32 "
              "follows the head of size 64");
  // The same head twice (a replayed line) is refused as well.
  lines = log.Lines();
  lines.insert(lines.begin() + LineOfHead(lines, 32) + 1,
               lines[LineOfHead(lines, 32)]);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree heads are out of order or repeated: the head of size 32 "
              "follows the head of size 32");
}

TEST_F(LogVerifierTest, HeadOlderThanTheExportIsRefused) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines(40);
  lines.insert(lines.begin() + 1, TreeHeadLine(log.Head(32)));
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "tree head of size 32 is older than the export's first event 40");
}

TEST_F(LogVerifierTest, WrongPrefixHashIsCaught) {
  TestLog log(100, {40, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines(37);  // prefix: 32, 4, 1
  absl::StatusOr<ExportLine> header = ParseExportLine(lines[0]);
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->header.prefix.size(), 3u);
  header->header.prefix[1][0] ^= 1;
  lines[0] = HeaderLine(header->header);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 40: the root computed from the events");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "no earlier head was verified, so an event in 37..39 was "
              "altered, removed or reordered, or the export's prefix (the "
              "tree before event 37) was altered");

  // With a head at from_seq, the prefix itself is named.
  lines = log.Lines(40);
  header = ParseExportLine(lines[0]);
  ASSERT_TRUE(header.ok());
  header->header.prefix[0][31] ^= 0x80;
  lines[0] = HeaderLine(header->header);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "tree head of size 40: the root computed from the export's "
              "prefix");

  // A prefix of the wrong length.
  lines = log.Lines(37);
  header = ParseExportLine(lines[0]);
  header->header.prefix.pop_back();
  lines[0] = HeaderLine(header->header);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 1: the header's prefix has 2 hashes, but the tree of the "
              "37 events before from_seq is made of 3 complete subtrees");
}

TEST_F(LogVerifierTest, CutOffFileIsIncomplete) {
  TestLog log(100, {32, 64, 100}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines.pop_back();
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the export is incomplete");
  // Cut in the middle of the events (and of a line).
  lines = log.Lines();
  const size_t cut = LineOfEvent(lines, 70);
  lines.resize(cut + 1);
  lines.back().resize(lines.back().size() / 2);
  // Without its newline, it is the end of a cut-off file.
  VerifyOptions options;
  options.checkpoint_key = key_.get();
  std::istringstream cut_in(absl::StrJoin(lines, "\n"));
  ExpectError(VerifyExport(cut_in, options), absl::StatusCode::kDataLoss,
              absl::StrCat("the export is incomplete: its last line is cut off "
                           "(line ",
                           cut + 1, ": the line is not valid JSON"));
  // With it, a malformed line.
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              absl::StrCat("line ", cut + 1, ": the line is not valid JSON"));
  lines.pop_back();
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kDataLoss,
              "the export is incomplete: it has no end line");
  std::istringstream empty("");
  ExpectError(VerifyExport(empty, options), absl::StatusCode::kInvalidArgument,
              "the export is empty");
}

TEST_F(LogVerifierTest, MalformedLinesAreRefusedWithTheirLineNumber) {
  TestLog log(10, {4, 10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines.insert(lines.begin() + 3, "{\"type\":\"event\",");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 4: the line is not valid JSON");

  lines = log.Lines();
  lines.insert(lines.begin() + 3, "{\"type\":\"comment\",\"text\":\"hi\"}");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 4: unknown line type \"comment\"");

  lines = log.Lines();
  lines.push_back(lines[LineOfEvent(lines, 9)]);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              absl::StrCat("line ", lines.size(),
                           ": the export continues after its end line"));

  lines = log.Lines();
  lines.insert(lines.begin() + 1, "");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 2: the line is empty");
}

TEST_F(LogVerifierTest, WrongHeaderIsRefused) {
  TestLog log(10, {10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines[0].replace(lines[0].find("rustiq-event-export"), 19, "other-format");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 1: header line: this is not a rustiq event export");

  lines = log.Lines();
  lines[0].replace(lines[0].find("\"version\":1"), 11, "\"version\":9");
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 1: header line: export format version 9 is not supported");

  lines = log.Lines();
  lines.erase(lines.begin());
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 1: the export does not start with its header line");

  lines = log.Lines();
  lines.insert(lines.begin() + 1, lines[0]);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "line 2: a second header line");

  lines = log.Lines();
  absl::StatusOr<ExportLine> header = ParseExportLine(lines[0]);
  ASSERT_TRUE(header.ok());
  header->header.origin = "rustiq/dev-2/events";
  lines[0] = HeaderLine(header->header);
  ExpectError(Verify(lines, key_.get()), absl::StatusCode::kInvalidArgument,
              "the header's origin is \"rustiq/dev-2/events\", but device "
              "\"dev-1\"'s event log has the origin \"rustiq/dev-1/events\"");
}

TEST_F(LogVerifierTest, ChecksTheExpectedDeviceAndNeedsAKey) {
  TestLog log(10, {10}, signing_key_.get());
  VerifyOptions options;
  options.checkpoint_key = key_.get();
  options.expected_device = "dev-7";
  std::istringstream in(absl::StrJoin(log.Lines(), "\n"));
  ExpectError(VerifyExport(in, options), absl::StatusCode::kInvalidArgument,
              "the export is of device \"dev-1\", not of \"dev-7\"");

  options.expected_device = "dev-1";
  std::istringstream again(absl::StrJoin(log.Lines(), "\n"));  // no final \n
  EXPECT_TRUE(VerifyExport(again, options).ok());

  options.checkpoint_key = nullptr;
  std::istringstream keyless(absl::StrJoin(log.Lines(), "\n"));
  ExpectError(VerifyExport(keyless, options),
              absl::StatusCode::kInvalidArgument, "no checkpoint key given");
}

// The streaming interface: the first error sticks.
TEST_F(LogVerifierTest, FirstErrorSticks) {
  TestLog log(10, {10}, signing_key_.get());
  std::vector<std::string> lines = log.Lines();
  lines.erase(lines.begin() + LineOfEvent(lines, 2));
  VerifyOptions options;
  options.checkpoint_key = key_.get();
  LogVerifier verifier(options);
  absl::Status first;
  for (const std::string& line : lines) {
    absl::Status status = verifier.AddLine(line);
    if (first.ok()) first = status;
  }
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(std::string(first.message()), HasSubstr("event 2 is missing"));
  EXPECT_EQ(verifier.Finish().status(), first);
  EXPECT_EQ(verifier.AddLine(lines[0]), first);
}

}  // namespace
}  // namespace rustiq::events
