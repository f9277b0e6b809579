// The export file's lines (common/events/export_format.h): every line type
// round-trips, the spelling is the documented one, and malformed lines are
// refused naming the field.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/events/export_format.h"
#include "common/merkle/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

merkle::Hash HashOf(absl::string_view text) { return merkle::LeafHash(text); }

ExportHeader SampleHeader() {
  ExportHeader header;
  header.device = "dev-1";
  header.origin = "rustiq/dev-1/events";
  header.key_name = "rustiq/dev-1/event-checkpoint";
  header.from_seq = 6;
  header.to_seq = 1234;
  header.prefix = {HashOf("a"), HashOf("b")};
  return header;
}

v1::Event SampleEvent() {
  v1::Event event;
  event.set_seq(41);
  event.set_time_unix_nanos(1'796'162'400'123'456'789);
  event.set_monotonic_nanos(5);
  event.set_boot_id("boot");
  event.set_source("svc/keyd");
  event.set_actor("svc/cloudd");
  event.set_category(v1::EVENT_CATEGORY_KEY);
  event.set_action("key.use.denied");
  event.set_outcome(v1::EVENT_OUTCOME_DENIED);
  event.set_severity(v1::EVENT_SEVERITY_WARNING);
  v1::EventAttribute* attribute = event.add_attributes();
  attribute->set_key("key");
  attribute->set_value("x");
  attribute = event.add_attributes();
  attribute->set_key("reason");
  attribute->set_value("quote \" and\nnewline");
  return event;
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

TEST(ExportFormat, HeaderRoundTrips) {
  const ExportHeader header = SampleHeader();
  const std::string line = HeaderLine(header);
  EXPECT_THAT(line, StartsWith("{\"type\":\"header\",\"format\":\"rustiq-event-"
                               "export\",\"version\":1,\"device\":\"dev-1\","));
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->type, ExportLine::Type::kHeader);
  EXPECT_EQ(parsed->header.device, header.device);
  EXPECT_EQ(parsed->header.origin, header.origin);
  EXPECT_EQ(parsed->header.key_name, header.key_name);
  EXPECT_EQ(parsed->header.from_seq, header.from_seq);
  EXPECT_EQ(parsed->header.to_seq, header.to_seq);
  EXPECT_EQ(parsed->header.prefix, header.prefix);
}

TEST(ExportFormat, HeaderWithEmptyPrefixRoundTrips) {
  ExportHeader header = SampleHeader();
  header.from_seq = 0;
  header.prefix.clear();
  absl::StatusOr<ExportLine> parsed = ParseExportLine(HeaderLine(header));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->header.prefix.empty());
  EXPECT_THAT(HeaderLine(header), HasSubstr("\"prefix\":[]"));
}

TEST(ExportFormat, TreeHeadRoundTrips) {
  v1::TreeHead head;
  head.set_size(1000);
  head.set_root_hash(std::string(merkle::AsBytes(HashOf("root"))));
  head.set_time_unix_nanos(1'796'162'400'000'000'000);
  head.set_key_version(3);
  head.set_checkpoint(
      "rustiq/dev-1/events\n1000\nAAAA\n\n\xE2\x80\x94 key sig\n");
  const std::string line = TreeHeadLine(head);
  EXPECT_THAT(line, HasSubstr("\"root\":\"" + merkle::ToHex(HashOf("root"))));
  EXPECT_THAT(line, HasSubstr("\"time\":\"2026-12-01T22:00:00.000000000Z\""));
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->type, ExportLine::Type::kTreeHead);
  EXPECT_EQ(parsed->tree_head.SerializeAsString(), head.SerializeAsString());
}

TEST(ExportFormat, EventRoundTrips) {
  const v1::Event event = SampleEvent();
  const std::string entry = event.SerializeAsString();
  const merkle::Hash leaf = merkle::LeafHash(entry);
  const std::string line = EventLine(ColumnsOf(event), &event, entry, leaf);
  EXPECT_THAT(line, HasSubstr("\"category\":\"key\""));
  EXPECT_THAT(line, HasSubstr("\"outcome\":\"denied\""));
  EXPECT_THAT(line, HasSubstr("\"severity\":\"warning\""));
  EXPECT_THAT(line, HasSubstr("\"time\":\"2026-12-01T22:00:00.123456789Z\""));
  // Attributes sorted by key, whatever the entry's order.
  EXPECT_THAT(line, HasSubstr("\"attributes\":{\"key\":\"x\",\"reason\":"));
  EXPECT_THAT(line, HasSubstr("\"entry\":\"" + merkle::Base64Encode(entry)));
  EXPECT_THAT(line, HasSubstr("\"leaf\":\"" + merkle::ToHex(leaf) + "\""));
  EXPECT_EQ(line.find('\n'), std::string::npos);

  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->type, ExportLine::Type::kEvent);
  const ExportEvent& got = parsed->event;
  EXPECT_EQ(got.columns.seq, 41u);
  EXPECT_EQ(got.columns.time_unix_nanos, event.time_unix_nanos());
  EXPECT_EQ(got.columns.source, "svc/keyd");
  EXPECT_EQ(got.columns.actor, "svc/cloudd");
  EXPECT_EQ(got.columns.category, v1::EVENT_CATEGORY_KEY);
  EXPECT_EQ(got.columns.outcome, v1::EVENT_OUTCOME_DENIED);
  EXPECT_EQ(got.columns.severity, v1::EVENT_SEVERITY_WARNING);
  EXPECT_EQ(got.action, "key.use.denied");
  EXPECT_EQ(got.attributes.size(), 2u);
  EXPECT_EQ(got.attributes.at("reason"), "quote \" and\nnewline");
  EXPECT_EQ(got.entry, entry);
  ASSERT_TRUE(got.leaf.has_value());
  EXPECT_EQ(*got.leaf, leaf);
}

TEST(ExportFormat, EventWithoutParsedEntryShowsColumnsOnly) {
  ExportEventColumns columns = ColumnsOf(SampleEvent());
  const std::string entry("\xff\xff garbage", 10);
  const std::string line = EventLine(columns, nullptr, entry, std::nullopt);
  EXPECT_THAT(line, ::testing::Not(HasSubstr("\"action\"")));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("\"attributes\"")));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("\"leaf\"")));
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->event.entry, entry);
  EXPECT_TRUE(parsed->event.action.empty());
  EXPECT_TRUE(parsed->event.attributes.empty());
  EXPECT_FALSE(parsed->event.leaf.has_value());
}

// A column value without a name (a damaged row) is kept as its number.
TEST(ExportFormat, EnumValueWithoutNameRoundTripsAsNumber) {
  ExportEventColumns columns = ColumnsOf(SampleEvent());
  columns.category = 0;
  columns.outcome = 99;
  columns.severity = -5;
  const std::string line = EventLine(columns, nullptr, "", std::nullopt);
  EXPECT_THAT(line, HasSubstr("\"category\":0"));
  EXPECT_THAT(line, HasSubstr("\"outcome\":99"));
  EXPECT_THAT(line, HasSubstr("\"severity\":-5"));
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->event.columns.category, 0);
  EXPECT_EQ(parsed->event.columns.outcome, 99);
  EXPECT_EQ(parsed->event.columns.severity, -5);
}

TEST(ExportFormat, EndRoundTrips) {
  const std::string line = EndLine(ExportEnd{1234, 7});
  EXPECT_EQ(line, "{\"type\":\"end\",\"events\":1234,\"tree_heads\":7}");
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->type, ExportLine::Type::kEnd);
  EXPECT_EQ(parsed->end.events, 1234u);
  EXPECT_EQ(parsed->end.tree_heads, 7u);
}

void ExpectRefused(absl::string_view line, absl::string_view message) {
  absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
  ASSERT_FALSE(parsed.ok()) << line;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(message))
      << line;
}

TEST(ExportFormat, RefusesMalformedLines) {
  ExpectRefused("", "empty");
  ExpectRefused("{\"type\":\"end\",\"events\":1", "not valid JSON");
  ExpectRefused("not json", "not valid JSON");
  ExpectRefused("[1,2]", "not a JSON object");
  ExpectRefused("{\"events\":1}", "no 'type'");
  ExpectRefused("{\"type\":\"footer\"}", "unknown line type \"footer\"");
  ExpectRefused("{\"type\":\"end\",\"events\":1}", "'tree_heads' is missing");
  ExpectRefused("{\"type\":\"end\",\"events\":-1,\"tree_heads\":0}",
                "'events' must be a non-negative integer");
  ExpectRefused("{\"type\":\"end\",\"events\":1.5,\"tree_heads\":0}",
                "'events' must be a non-negative integer");
  ExpectRefused("{\"type\":\"end\",\"events\":\"1\",\"tree_heads\":0}",
                "'events' must be a non-negative integer");
  ExpectRefused("{\"type\":\"end\",\"events\":1,\"tree_heads\":0,\"x\":1}",
                "unknown field 'x'");
  ExpectRefused("{\"type\":\"end\",\"events\":1,\"events\":2,\"tree_heads\":0}",
                "'events' appears twice");
}

TEST(ExportFormat, RefusesHeaderOfAnotherFormatOrVersion) {
  std::string line = HeaderLine(SampleHeader());
  std::string other = line;
  other.replace(other.find("rustiq-event-export"), 19, "something-else");
  ExpectRefused(other, "not a rustiq event export");
  other = line;
  other.replace(other.find("\"version\":1"), 11, "\"version\":2");
  ExpectRefused(other, "version 2 is not supported");
}

TEST(ExportFormat, RefusesMalformedHashesAndEntries) {
  std::string header = HeaderLine(SampleHeader());
  header.replace(header.find(merkle::ToHex(HashOf("a"))), 2, "zz");
  ExpectRefused(header, "'prefix[0]'");

  const v1::Event event = SampleEvent();
  const std::string entry = event.SerializeAsString();
  const std::string line =
      EventLine(ColumnsOf(event), &event, entry, merkle::LeafHash(entry));
  std::string bad = line;
  bad.replace(bad.find("\"leaf\":\"") + 8, 2, "");  // 62 digits
  ExpectRefused(bad, "event line (seq 41): 'leaf'");
  bad = line;
  const size_t entry_at = bad.find("\"entry\":\"") + 9;
  bad.insert(entry_at, "!");
  ExpectRefused(bad, "event line (seq 41): 'entry'");
  bad = line;
  bad.replace(bad.find("\"warning\""), 9, "\"loud\"");
  ExpectRefused(bad, "'severity' is \"loud\"; expected one of debug");
  bad = line;
  bad.replace(bad.find("\"time\":\"2026"), 12, "\"time\":\"26");
  ExpectRefused(bad, "'time'");
}

TEST(ExportTime, FormatsWithNanosecondsInUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTime(1'796'162'400'123'456'789),
            "2026-12-01T22:00:00.123456789Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(ExportTime, RoundTripsAcrossTheWholeRange) {
  for (int64_t nanos :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'796'162'400'123'456'789},
        int64_t{-1'000'000'000}, int64_t{951'782'400'000'000'000},  // leap day
        std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<int64_t> parsed = ParseTime(FormatTime(nanos));
    ASSERT_TRUE(parsed.ok()) << FormatTime(nanos) << ": " << parsed.status();
    EXPECT_EQ(*parsed, nanos) << FormatTime(nanos);
  }
}

TEST(ExportTime, AcceptsOtherRfc3339Spellings) {
  EXPECT_EQ(*ParseTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTime("1970-01-01T00:00:00.5Z"), 500'000'000);
  EXPECT_EQ(*ParseTime("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseTime("1969-12-31T23:30:00-00:30"), 0);
}

TEST(ExportTime, RefusesWhatIsNotRfc3339) {
  for (absl::string_view bad : {
           "",
           "2026-12-01",
           "2026-12-01 22:00:00Z",             // space for T
           "2026-12-01t22:00:00Z",             // lower-case t
           "2026-12-01T22:00:00",              // no zone
           "2026-12-01T22:00:00z",             // lower-case z
           "2026-12-01T22:00:00.Z",            // no fraction digits
           "2026-12-01T22:00:00.1234567890Z",  // 10 digits
           "2026-13-01T22:00:00Z",             // month
           "2026-02-29T22:00:00Z",             // not a leap year
           "2026-12-32T22:00:00Z",             // day
           "2026-12-01T24:00:00Z",             // hour
           "2026-12-01T22:60:00Z",             // minute
           "2026-12-31T23:59:60Z",             // leap second
           "2026-12-01T22:00:00+1:00",         // offset
           "2026-12-01T22:00:00Z ",            // trailing
           " 2026-12-01T22:00:00Z",            // leading
           "+2026-12-01T22:00:00Z",
           "2262-04-11T23:47:16.854775808Z",  // one past int64 nanos
           "1677-09-21T00:12:43.145224191Z",  // one before
           "9999-12-31T23:59:59Z",
       }) {
    absl::StatusOr<int64_t> parsed = ParseTime(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << bad << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(parsed.status().message()),
                  HasSubstr("not an RFC 3339 time"));
    }
  }
}

}  // namespace
}  // namespace rustiq::events
