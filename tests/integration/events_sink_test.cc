// The client sink every daemon records through (common/events), against a
// real EventLog service on the device's eventd socket over real mTLS: it
// delivers in batches, never blocks, keeps what it can while eventd is
// away, counts what it had to drop and reports that count once eventd is
// back; with a spool, what is left when it stops is sent at the next run.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/events/event_log_sink.h"
#include "common/events/event_spool.h"
#include "common/rpc/client.h"
#include "common/rpc/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_log_service.h"
#include "services/eventd/event_store.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

audit::SecurityEvent Denied(int i) {
  audit::SecurityEvent e;
  e.category = "rpc";
  e.action = "call.denied";
  e.outcome = audit::Outcome::kDenied;
  e.actor = "client/alice";
  e.attributes = {{"method", "/rustiq.v1.Keys/Sign"}, {"n", absl::StrCat(i)}};
  return e;
}

// The real service, whose AppendBatch can be held at its start (a slow
// eventd) until the test releases it.
class GatedEventLog final : public v1::EventLog::Service {
 public:
  explicit GatedEventLog(eventd::EventLogService* real) : real_(real) {}
  void Hold() { hold_ = true; }
  void WaitHeld() { held_.WaitForNotification(); }
  void Release() { release_.Notify(); }
  grpc::Status AppendBatch(grpc::ServerContext* ctx,
                           grpc::ServerReader<v1::AppendBatchRequest>* reader,
                           v1::AppendBatchResponse* out) override {
    if (hold_.exchange(false)) {
      held_.Notify();
      release_.WaitForNotification();
    }
    return real_->AppendBatch(ctx, reader, out);
  }

 private:
  eventd::EventLogService* real_;
  std::atomic<bool> hold_{false};
  absl::Notification held_;
  absl::Notification release_;
};

class EventsSinkTest : public ::testing::Test {
 protected:
  // An eventd in this process: the real log and service on the real socket.
  void StartEventd() {
    std::string path =
        absl::StrCat(device_.config().paths.state_dir, "/eventd-test.db");
    auto store = eventd::EventStore::Open(path, "test-device");
    ASSERT_TRUE(store.ok()) << store.status();
    eventd::EventLogOptions options;
    options.device_id = "test-device";
    auto log =
        eventd::EventLog::Open(*std::move(store), options, nullptr, nullptr);
    ASSERT_TRUE(log.ok());
    log_ = *std::move(log);
    log_->Start();
    service_ = std::make_unique<eventd::EventLogService>(log_.get());
    gated_ = std::make_unique<GatedEventLog>(service_.get());
    auto server = rpc::RpcServer::Start(
        rpc::ServerOptionsFromConfig(device_.config(), "eventd"),
        {rpc::Serve<v1::EventLog>(gated_.get())}, &server_sink_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void StopEventd() {
    server_->Shutdown(absl::Seconds(1));
    server_.reset();
    gated_.reset();
    service_.reset();
    log_.reset();
  }
  void TearDown() override {
    sink_.reset();
    if (server_ != nullptr) StopEventd();
  }

  void MakeSink(events::EventLogSinkOptions options) {
    options.retry_min = absl::Milliseconds(20);
    options.retry_max = absl::Milliseconds(100);
    options.log_lines = false;
    sink_ = std::make_unique<events::EventLogSink>(options);
    auto channel =
        rpc::ChannelFactory(device_.ClientFor("svc/keyd")).ForDaemon("eventd");
    ASSERT_TRUE(channel.ok());
    sink_->Start(*channel);
  }

  // A sink that keeps what is left at Stop in keyd's state directory.
  events::EventLogSinkOptions Spooling() {
    events::EventLogSinkOptions options;
    options.spool_path = SpoolPath();
    return options;
  }
  std::string SpoolPath() {
    return events::EventSpoolPath(device_.config().paths.state_dir, "keyd");
  }

  std::vector<v1::Event> Events() {
    auto got = log_->store().Query(v1::EventFilter(), 0, false, 10000);
    EXPECT_TRUE(got.ok());
    return got.ok() ? *got : std::vector<v1::Event>{};
  }

  TestDevice device_;
  audit::LogSecurityEventSink server_sink_;
  std::unique_ptr<eventd::EventLog> log_;
  std::unique_ptr<eventd::EventLogService> service_;
  std::unique_ptr<GatedEventLog> gated_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<events::EventLogSink> sink_;
};

TEST_F(EventsSinkTest, DeliversEventsAsTheDaemonThatRecordedThem) {
  StartEventd();
  MakeSink({});
  for (int i = 0; i < 300; ++i) sink_->Record(Denied(i));
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 300u);
  EXPECT_EQ(got[0].source(), "svc/keyd");
  EXPECT_EQ(got[0].actor(), "client/alice");
  EXPECT_EQ(got[0].category(), v1::EVENT_CATEGORY_RPC);
  EXPECT_EQ(got[0].outcome(), v1::EVENT_OUTCOME_DENIED);
  EXPECT_EQ(got[0].severity(), v1::EVENT_SEVERITY_WARNING);
  EXPECT_EQ(got[299].attributes(1).value(), "299");  // in order
  EXPECT_EQ(sink_->stats().delivered, 300u);
}

TEST_F(EventsSinkTest, KeepsWhatItCanWhileEventdIsAwayAndReportsTheRest) {
  events::EventLogSinkOptions options;
  options.max_queued = 50;
  MakeSink(options);  // no eventd yet
  absl::Time start = absl::Now();
  for (int i = 0; i < 80; ++i) sink_->Record(Denied(i));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));  // never blocks
  EXPECT_FALSE(sink_->Flush(200));
  EXPECT_EQ(sink_->stats().queued, 50u);
  EXPECT_EQ(sink_->stats().dropped, 30u);
  StartEventd();
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 51u);
  // First the count of what was dropped, then the 50 it kept.
  EXPECT_EQ(got[0].action(), "events.dropped");
  EXPECT_EQ(got[0].category(), v1::EVENT_CATEGORY_EVENTLOG);
  ASSERT_EQ(got[0].attributes_size(), 1);
  EXPECT_EQ(got[0].attributes(0).value(), "30");
  EXPECT_EQ(got[1].attributes(1).value(), "0");
  EXPECT_EQ(got[50].attributes(1).value(), "49");
}

TEST_F(EventsSinkTest, RecoversWhenEventdRestarts) {
  StartEventd();
  MakeSink({});
  sink_->Record(Denied(1));
  ASSERT_TRUE(sink_->Flush(10000));
  StopEventd();
  sink_->Record(Denied(2));
  EXPECT_FALSE(sink_->Flush(300));
  StartEventd();  // the same file: the log continues
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].attributes(1).value(), "2");
}

TEST_F(EventsSinkTest, HostileFieldsAreTrimmedToWhatEventdAccepts) {
  StartEventd();
  MakeSink({});
  audit::SecurityEvent e;
  e.category = "no-such-category";
  e.action = "Call Denied!";
  e.outcome = audit::Outcome::kFailure;
  e.actor = std::string(400, 'a') + "\n";
  e.attributes.emplace_back("Bad Key", std::string(3000, 'v'));
  e.attributes.emplace_back("bad key", "duplicate after mapping");
  e.attributes.emplace_back("nul", std::string("a\0b", 3));
  sink_->Record(e);
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].action(), "call_denied_");
  EXPECT_EQ(got[0].category(), v1::EVENT_CATEGORY_POLICY);
  EXPECT_EQ(got[0].actor().size(), 256u);
  EXPECT_EQ(got[0].attributes_size(), 2);
  EXPECT_EQ(sink_->stats().dropped, 0u);
}

TEST_F(EventsSinkTest, WhatIsLeftAtStopIsSentFirstAtTheNextRun) {
  MakeSink(Spooling());  // eventd is down, as at the end of a shutdown
  for (int i = 0; i < 3; ++i) sink_->Record(Denied(i));
  absl::Time stop = absl::Now();
  sink_->Stop(absl::Seconds(10));
  // Not the whole drain: eventd is unreachable and the spool keeps them.
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
  EXPECT_EQ(sink_->stats().spooled, 3u);
  EXPECT_EQ(sink_->stats().dropped, 0u);
  ASSERT_EQ(access(SpoolPath().c_str(), F_OK), 0);
  const int64_t before_restart = absl::ToUnixNanos(absl::Now());

  StartEventd();
  MakeSink(Spooling());  // the daemon's next run
  EXPECT_EQ(sink_->stats().restored, 3u);
  sink_->Record(Denied(3));
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i].attributes(1).value(), absl::StrCat(i));  // in order
    EXPECT_EQ(got[i].source(), "svc/keyd");
  }
  // The spooled ones keep the time they happened.
  EXPECT_LT(got[2].occurred_unix_nanos(), before_restart);
  EXPECT_GE(got[3].occurred_unix_nanos(), before_restart);
  EXPECT_NE(access(SpoolPath().c_str(), F_OK), 0);  // delivered: removed
  sink_->Stop(absl::Seconds(1));
  EXPECT_NE(access(SpoolPath().c_str(), F_OK), 0);  // nothing left to keep
}

TEST_F(EventsSinkTest, TheCountOfDroppedEventsSurvivesTheSpool) {
  events::EventLogSinkOptions options = Spooling();
  options.max_queued = 5;
  MakeSink(options);
  for (int i = 0; i < 8; ++i) sink_->Record(Denied(i));
  sink_->Stop(absl::Seconds(1));
  StartEventd();
  MakeSink(options);
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].action(), "events.dropped");
  EXPECT_EQ(got[0].attributes(0).value(), "3");
  EXPECT_EQ(got[1].attributes(1).value(), "0");
  EXPECT_EQ(got[5].attributes(1).value(), "4");
}

TEST_F(EventsSinkTest, ASpoolNeverStartedIsKeptNotOverwritten) {
  MakeSink(Spooling());
  sink_->Record(Denied(0));
  sink_->Stop(absl::Seconds(1));
  // A run that never reaches eventd (Start is not called) keeps the old
  // events beside its own.
  {
    events::EventLogSinkOptions options = Spooling();
    options.log_lines = false;
    events::EventLogSink unstarted(options);
    unstarted.Record(Denied(1));
  }
  StartEventd();
  MakeSink(Spooling());
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].attributes(1).value(), "0");
  EXPECT_EQ(got[1].attributes(1).value(), "1");
}

TEST_F(EventsSinkTest, AnUnreadableSpoolIsSetAsideAndReported) {
  {
    std::ofstream out(SpoolPath(), std::ios::binary);
    out << "rustiq-event-spool 1\nsha256:0000\ntruncated";
  }
  StartEventd();
  MakeSink(Spooling());
  ASSERT_TRUE(sink_->Flush(10000));
  std::vector<v1::Event> got = Events();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].action(), "events.spool_unreadable");
  EXPECT_EQ(got[0].outcome(), v1::EVENT_OUTCOME_FAILURE);
  std::map<std::string, std::string> attributes;
  for (const auto& a : got[0].attributes()) attributes[a.key()] = a.value();
  EXPECT_THAT(attributes["error"], ::testing::HasSubstr("checksum"));
  EXPECT_EQ(attributes["moved_to"], SpoolPath() + ".corrupt");
  std::ifstream aside(SpoolPath() + ".corrupt", std::ios::binary);
  std::stringstream kept;
  kept << aside.rdbuf();
  EXPECT_THAT(kept.str(), ::testing::HasSubstr("truncated"));
  EXPECT_NE(access(SpoolPath().c_str(), F_OK), 0);
}

// Events dropped while a batch that reports earlier drops is on its way
// are reported too: every drop the sink counted reaches the log as a count.
TEST_F(EventsSinkTest, DropsDuringADeliveryAreReportedToo) {
  events::EventLogSinkOptions options;
  options.max_queued = 5;
  MakeSink(options);  // eventd is away: 5 kept, 3 dropped
  for (int i = 0; i < 8; ++i) sink_->Record(Denied(i));
  StartEventd();
  gated_->Hold();
  gated_->WaitHeld();  // the batch reporting 3 is on its way
  for (int i = 8; i < 12; ++i) sink_->Record(Denied(i));  // queue still full
  gated_->Release();
  EXPECT_EQ(sink_->stats().dropped, 7u);
  uint64_t reported = 0;
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    reported = 0;
    for (const v1::Event& e : Events()) {
      if (e.action() == "events.dropped") {
        reported += std::stoull(e.attributes(0).value());
      }
    }
    if (reported >= 7) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(reported, 7u);
}

// Stop() ends a retry wait at once: with a spool the rest goes there, and
// without one the sink never sleeps past its drain time.
TEST_F(EventsSinkTest, StopDoesNotSleepOutARetry) {
  for (bool spool : {true, false}) {
    SCOPED_TRACE(spool ? "with a spool" : "without one");
    events::EventLogSinkOptions options =
        spool ? Spooling() : events::EventLogSinkOptions();
    options.retry_min = absl::Seconds(8);  // a long back-off
    options.retry_max = absl::Seconds(8);
    options.log_lines = false;
    events::EventLogSink sink(options);
    auto channel =
        rpc::ChannelFactory(device_.ClientFor("svc/keyd")).ForDaemon("eventd");
    ASSERT_TRUE(channel.ok());
    sink.Start(*channel);  // no eventd: the first send fails
    sink.Record(Denied(0));
    absl::SleepFor(absl::Milliseconds(300));  // now in the back-off
    absl::Time stop = absl::Now();
    sink.Stop(absl::Seconds(1));
    absl::Duration took = absl::Now() - stop;
    EXPECT_LT(took, spool ? absl::Milliseconds(900) : absl::Seconds(3));
    EXPECT_EQ(sink.stats().spooled, spool ? 1u : 0u);
  }
}

}  // namespace
}  // namespace rustiq::testing
