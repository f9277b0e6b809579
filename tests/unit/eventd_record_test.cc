// What a sender may send (each bound refused with a status naming the field)
// and what eventd makes of it: stamps, sorted attributes, entry bytes.
#include <string>

#include "common/events/event_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventd/event_record.h"
#include "tests/unit/eventd_test_util.h"

namespace rustiq::eventd {
namespace {

using ::testing::HasSubstr;
using testing::Input;

v1::EventAttribute* Attr(v1::EventInput& in, std::string k, std::string v) {
  v1::EventAttribute* a = in.add_attributes();
  a->set_key(std::move(k));
  a->set_value(std::move(v));
  return a;
}

TEST(EventdRecordTest, AcceptsAWellFormedEvent) {
  v1::EventInput in = Input("key.created");
  in.set_actor("user/alice");
  Attr(in, "key", "device-identity");
  EXPECT_TRUE(ValidateInput(in).ok());
}

TEST(EventdRecordTest, RefusesEachBadFieldNamingIt) {
  struct Case {
    std::function<void(v1::EventInput&)> spoil;
    const char* field;
  } cases[] = {
      {[](v1::EventInput& in) { in.set_action(""); }, "'action'"},
      {[](v1::EventInput& in) { in.set_action("Key.Created"); }, "'action'"},
      {[](v1::EventInput& in) { in.set_action("1key"); }, "'action'"},
      {[](v1::EventInput& in) { in.set_action("key created"); }, "'action'"},
      {[](v1::EventInput& in) { in.set_action(std::string(65, 'a')); },
       "'action'"},
      {[](v1::EventInput& in) { in.set_action("key;DROP TABLE events"); },
       "'action'"},
      {[](v1::EventInput& in) { in.set_actor(std::string(257, 'a')); },
       "'actor'"},
      {[](v1::EventInput& in) { in.set_actor("user/alice\nforged line"); },
       "'actor'"},
      {[](v1::EventInput& in) { in.set_actor(std::string("a\0b", 3)); },
       "'actor'"},
      {[](v1::EventInput& in) {
         in.set_category(v1::EVENT_CATEGORY_UNSPECIFIED);
       },
       "'category'"},
      {[](v1::EventInput& in) {
         in.set_category(static_cast<v1::EventCategory>(99));
       },
       "'category'"},
      {[](v1::EventInput& in) {
         in.set_outcome(v1::EVENT_OUTCOME_UNSPECIFIED);
       },
       "'outcome'"},
      {[](v1::EventInput& in) {
         in.set_severity(v1::EVENT_SEVERITY_UNSPECIFIED);
       },
       "'severity'"},
      {[](v1::EventInput& in) { in.set_occurred_unix_nanos(-1); },
       "'occurred_unix_nanos'"},
      {[](v1::EventInput& in) {
         for (int i = 0; i < 33; ++i) Attr(in, "k" + std::to_string(i), "v");
       },
       "'attributes'"},
      {[](v1::EventInput& in) { Attr(in, "Key", "v"); }, "'attributes'"},
      {[](v1::EventInput& in) { Attr(in, "", "v"); }, "'attributes'"},
      {[](v1::EventInput& in) { Attr(in, std::string(65, 'k'), "v"); },
       "'attributes'"},
      {[](v1::EventInput& in) {
         Attr(in, "k", "1");
         Attr(in, "k", "2");
       },
       "more than once"},
      {[](v1::EventInput& in) { Attr(in, "k", std::string(1025, 'v')); },
       "'attributes'"},
      {[](v1::EventInput& in) { Attr(in, "k", std::string("a\0b", 3)); },
       "NUL"},
      {[](v1::EventInput& in) {
         for (int i = 0; i < 20; ++i) {
           Attr(in, "k" + std::to_string(i), std::string(1000, 'v'));
         }
       },
       "whole event"},
  };
  for (const Case& c : cases) {
    v1::EventInput in = Input("key.created");
    c.spoil(in);
    absl::Status s = ValidateInput(in);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(c.field));
  }
}

TEST(EventdRecordTest, UnicodeAndQuotesAreDataNotSyntax) {
  v1::EventInput in = Input("login.failed");
  in.set_actor("user/аlice");  // a Cyrillic а: a different actor, kept as is
  Attr(in, "name", "Robert'); DROP TABLE events;--");
  ASSERT_TRUE(ValidateInput(in).ok());
  Stamp stamp;
  stamp.source = "svc/authd";
  v1::Event e = MakeEvent(in, stamp);
  EXPECT_EQ(e.actor(), "user/аlice");
  EXPECT_EQ(e.attributes(0).value(), "Robert'); DROP TABLE events;--");
}

TEST(EventdRecordTest, StampsSortsAndDefaultsTheActor) {
  v1::EventInput in =
      Input("call.denied", v1::EVENT_CATEGORY_RPC, v1::EVENT_OUTCOME_DENIED);
  Attr(in, "method", "/rustiq.v1.Keys/Sign");
  Attr(in, "code", "7");
  Stamp stamp{41, 1000, 2000, "boot", "svc/keyd"};
  v1::Event e = MakeEvent(in, stamp);
  EXPECT_EQ(e.seq(), 41u);
  EXPECT_EQ(e.time_unix_nanos(), 1000);
  EXPECT_EQ(e.monotonic_nanos(), 2000);
  EXPECT_EQ(e.boot_id(), "boot");
  EXPECT_EQ(e.source(), "svc/keyd");
  EXPECT_EQ(e.actor(), "svc/keyd");  // none given: the sender
  EXPECT_EQ(e.occurred_unix_nanos(), 1000);
  ASSERT_EQ(e.attributes_size(), 2);
  EXPECT_EQ(e.attributes(0).key(), "code");
  EXPECT_EQ(e.attributes(1).key(), "method");
}

TEST(EventdRecordTest, EntryBytesAreDeterministicAndParseBack) {
  v1::EventInput a = Input("x.y");
  Attr(a, "b", "2");
  Attr(a, "a", "1");
  v1::EventInput b = Input("x.y");
  Attr(b, "a", "1");
  Attr(b, "b", "2");
  Stamp stamp{7, 1, 2, "boot", "svc/keyd"};
  std::string ea = EntryBytes(MakeEvent(a, stamp));
  EXPECT_EQ(ea, EntryBytes(MakeEvent(b, stamp)));
  absl::StatusOr<v1::Event> back = ParseEntry(ea);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->seq(), 7u);
  EXPECT_EQ(EntryBytes(*back), ea);
  EXPECT_EQ(ParseEntry("\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace rustiq::eventd
