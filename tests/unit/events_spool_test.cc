// The file a daemon's sink keeps undelivered events in between runs
// (common/events/event_spool.h): written atomically and read back whole, in
// order; a truncated, bit-flipped, foreign or oversized file is refused as
// a whole with what is wrong, and can be moved aside.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/event_limits.h"
#include "common/events/event_spool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::events {
namespace {

using ::testing::HasSubstr;

std::vector<v1::EventInput> SomeEvents(int n) {
  std::vector<v1::EventInput> out;
  for (int i = 0; i < n; ++i) {
    v1::EventInput e;
    e.set_category(v1::EVENT_CATEGORY_SUPERVISOR);
    e.set_action("daemon.exit");
    e.set_outcome(v1::EVENT_OUTCOME_SUCCESS);
    e.set_severity(v1::EVENT_SEVERITY_INFO);
    v1::EventAttribute* a = e.add_attributes();
    a->set_key("daemon");
    a->set_value(absl::StrCat("d", i));
    e.set_occurred_unix_nanos(1'700'000'000'000'000'000 + i);
    out.push_back(e);
  }
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

TEST(EventSpool, KeepsTheEventsInOrderWithTheirTimes) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  ASSERT_TRUE(WriteEventSpool(path, SomeEvents(3)).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto got = ReadEventSpool(path, 100);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2].attributes(0).value(), "d2");
  EXPECT_EQ((*got)[2].occurred_unix_nanos(), 1'700'000'000'000'000'002);
  EXPECT_EQ((*got)[0].action(), "daemon.exit");
}

TEST(EventSpool, NoFileIsNoEventsAndRemovingNothingIsFine) {
  rustiq::testing::TempDir dir;
  auto got = ReadEventSpool(dir / "events-pending", 100);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->empty());
  EXPECT_TRUE(RemoveEventSpool(dir / "events-pending").ok());
}

TEST(EventSpool, ATruncatedFileIsRefusedAsAWhole) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  ASSERT_TRUE(WriteEventSpool(path, SomeEvents(5)).ok());
  std::string whole = Slurp(path);
  for (size_t cut : {whole.size() - 1, whole.size() / 2, size_t{30}}) {
    SCOPED_TRACE(cut);
    Spit(path, whole.substr(0, cut));
    auto got = ReadEventSpool(path, 100);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(got.status().message(), HasSubstr(path));
  }
}

TEST(EventSpool, AFlippedBitAnywhereIsDetected) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  ASSERT_TRUE(WriteEventSpool(path, SomeEvents(2)).ok());
  const std::string whole = Slurp(path);
  for (size_t i = 0; i < whole.size(); ++i) {
    std::string flipped = whole;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x04);
    Spit(path, flipped);
    auto got = ReadEventSpool(path, 100);
    EXPECT_FALSE(got.ok()) << "byte " << i << " flipped went unnoticed";
  }
}

TEST(EventSpool, AForeignFileSaysWhatItIsNot) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  Spit(path, "level=info msg=hello\n");
  auto got = ReadEventSpool(path, 100);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("rustiq-event-spool 1"));
}

TEST(EventSpool, MoreEventsThanAllowedAreRefused) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  ASSERT_TRUE(WriteEventSpool(path, SomeEvents(10)).ok());
  auto got = ReadEventSpool(path, 4);
  ASSERT_FALSE(got.ok());
  // Either bound may catch it first: the file's size or the count (here
  // the count: ten small events fit the size bound of four large ones).
  EXPECT_TRUE(absl::IsDataLoss(got.status()) ||
              absl::IsFailedPrecondition(got.status()))
      << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr("more than the 4 allowed"));
}

TEST(EventSpool, AnOversizedEventIsRefused) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  std::vector<v1::EventInput> events = SomeEvents(1);
  events[0].set_actor(std::string(kMaxEventBytes + 1, 'a'));
  ASSERT_TRUE(WriteEventSpool(path, events).ok());
  auto got = ReadEventSpool(path, 100);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("larger than"));
}

TEST(EventSpool, AnUnreadableSpoolIsMovedAside) {
  rustiq::testing::TempDir dir;
  const std::string path = dir / "events-pending";
  Spit(path, "garbage");
  auto aside = SetAsideEventSpool(path);
  ASSERT_TRUE(aside.ok()) << aside.status();
  EXPECT_EQ(*aside, path + ".corrupt");
  EXPECT_EQ(Slurp(*aside), "garbage");
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace rustiq::events
