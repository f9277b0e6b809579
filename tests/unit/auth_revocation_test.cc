// The revocation set (contents and freshness), and its follower against a
// real in-process Auth/WatchRevocations server on a Unix socket: snapshot,
// additions, authd going away and coming back, and a prompt Stop().
#include <memory>
#include <string>

#include "common/auth/revocation_follower.h"
#include "common/auth/revocation_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth {
namespace {

using ::rustiq::auth::testing::Eventually;
using ::rustiq::auth::testing::FakeAuth;
using ::rustiq::auth::testing::StartServer;
using ::rustiq::auth::testing::TestChannel;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(RevocationSet, ReplaceAllAddAndPrune) {
  RevocationSet set;
  set.Add({{"a", kT0 + absl::Seconds(10)}, {"b", kT0 + absl::Seconds(20)}});
  EXPECT_TRUE(set.IsRevoked("a"));
  EXPECT_TRUE(set.IsRevoked("b"));
  EXPECT_FALSE(set.IsRevoked("c"));
  set.ReplaceAll({{"c", kT0 + absl::Seconds(30)}});
  EXPECT_FALSE(set.IsRevoked("a"));
  EXPECT_TRUE(set.IsRevoked("c"));
  set.Add({{"d", kT0 + absl::Seconds(5)}, {"c", kT0 + absl::Seconds(1)}});
  EXPECT_EQ(set.Prune(kT0 + absl::Seconds(5)), 1u);  // d; c keeps the later
  EXPECT_FALSE(set.IsRevoked("d"));
  EXPECT_TRUE(set.IsRevoked("c"));
  EXPECT_EQ(set.Prune(kT0 + absl::Seconds(30)), 1u);
  EXPECT_EQ(set.size(), 0u);
}

TEST(RevocationSet, FreshOnlyWhileSyncedOrBrieflyDisconnected) {
  RevocationSet set(RevocationSet::Options{.stale_after = absl::Seconds(10)});
  EXPECT_FALSE(set.Fresh(kT0));  // nothing heard yet
  set.MarkDisconnected(kT0);
  EXPECT_FALSE(set.Fresh(kT0));
  set.MarkSynced(kT0 + absl::Seconds(1));
  EXPECT_TRUE(set.Fresh(kT0 + absl::Hours(5)));
  set.MarkDisconnected(kT0 + absl::Seconds(100));
  set.MarkDisconnected(kT0 + absl::Seconds(105));  // keeps the first time
  EXPECT_TRUE(set.Fresh(kT0 + absl::Seconds(110)));
  EXPECT_FALSE(set.Fresh(kT0 + absl::Seconds(111)));
  RevocationSet::Freshness f = set.FreshnessAt(kT0 + absl::Seconds(111));
  EXPECT_FALSE(f.fresh);
  EXPECT_TRUE(f.ever_synced);
  ASSERT_TRUE(f.unreachable_since.has_value());
  EXPECT_EQ(*f.unreachable_since, kT0 + absl::Seconds(100));
  set.MarkSynced(kT0 + absl::Seconds(200));
  EXPECT_TRUE(set.Fresh(kT0 + absl::Seconds(200)));
  EXPECT_FALSE(set.FreshnessAt(kT0).unreachable_since.has_value());
}

TEST(RevocationSet, AlwaysFreshIsForTheSource) {
  RevocationSet set(RevocationSet::Options{.always_fresh = true});
  EXPECT_TRUE(set.Fresh(kT0));
  set.MarkDisconnected(kT0);
  EXPECT_TRUE(set.Fresh(kT0 + absl::Hours(1)));
}

class Follower : public ::testing::Test {
 protected:
  Follower()
      : socket_(dir_ / "authd.sock"),
        set_(RevocationSet::Options{.stale_after = absl::Milliseconds(300)}) {}
  ~Follower() override {
    if (follower_ != nullptr) follower_->Stop();
    StopServer();
  }
  void StartAuthd(std::vector<std::string> revoked) {
    auth_ = std::make_unique<FakeAuth>(std::move(revoked));
    server_ = StartServer(socket_, auth_.get());
  }
  void StopServer() {
    if (server_ == nullptr) return;
    auth_->Close();
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(200));
    server_.reset();
  }
  void Follow(RevocationFollower::Options options = {}) {
    follower_ = std::make_unique<RevocationFollower>(TestChannel(socket_),
                                                     &set_, options);
    follower_->Start();
  }
  // Times Stop().
  absl::Duration Stop() {
    absl::Time start = absl::Now();
    follower_->Stop();
    return absl::Now() - start;
  }

  rustiq::testing::TempDir dir_{"auth-revocations"};
  std::string socket_;
  RevocationSet set_;
  std::unique_ptr<FakeAuth> auth_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<RevocationFollower> follower_;
};

TEST_F(Follower, TakesTheSnapshotThenLaterAdditions) {
  StartAuthd({"a", "b"});
  Follow();
  ASSERT_TRUE(Eventually([&] { return set_.Fresh(absl::Now()); }));
  EXPECT_TRUE(set_.IsRevoked("a"));
  EXPECT_TRUE(set_.IsRevoked("b"));
  EXPECT_FALSE(set_.IsRevoked("c"));
  auth_->Publish({"c"});
  ASSERT_TRUE(Eventually([&] { return set_.IsRevoked("c"); }));
  auth_->Publish({"d", "e"});
  ASSERT_TRUE(Eventually([&] { return set_.IsRevoked("e"); }));
  EXPECT_TRUE(set_.IsRevoked("d"));
  EXPECT_EQ(auth_->streams(), 1);
}

TEST_F(Follower, GoesStaleWhenAuthdIsGoneAndFreshWhenItIsBack) {
  StartAuthd({"a"});
  RevocationFollower::Options o;
  o.max_backoff = absl::Milliseconds(200);  // keep the test short
  Follow(o);
  ASSERT_TRUE(Eventually([&] { return set_.Fresh(absl::Now()); }));
  StopServer();
  ASSERT_TRUE(Eventually([&] {
    return set_.FreshnessAt(absl::Now()).unreachable_since.has_value();
  }));
  absl::Time lost = *set_.FreshnessAt(absl::Now()).unreachable_since;
  // A blip is forgiven; 300 ms later the set is stale.
  EXPECT_TRUE(set_.Fresh(lost + absl::Milliseconds(250)));
  ASSERT_TRUE(Eventually([&] { return !set_.Fresh(absl::Now()); }));
  EXPECT_GE(absl::Now() - lost, absl::Milliseconds(300));
  EXPECT_TRUE(set_.IsRevoked("a"));  // what was known stays known

  // authd is back with another list: the snapshot replaces the old one.
  StartAuthd({"b"});
  ASSERT_TRUE(Eventually(
      [&] { return set_.Fresh(absl::Now()) && set_.IsRevoked("b"); }));
  EXPECT_FALSE(set_.IsRevoked("a"));
  auth_->Publish({"c"});
  ASSERT_TRUE(Eventually([&] { return set_.IsRevoked("c"); }));
}

TEST_F(Follower, AdditionsWithoutASnapshotAreNotTrusted) {
  StartAuthd({"a"});
  auth_->SkipSnapshot();
  Follow();
  ASSERT_TRUE(Eventually([&] { return auth_->streams() >= 2; }));
  EXPECT_FALSE(set_.Fresh(absl::Now()));
  EXPECT_FALSE(set_.IsRevoked("a"));
}

TEST_F(Follower, StopsPromptlyWhileConnected) {
  StartAuthd({});
  Follow();
  ASSERT_TRUE(Eventually([&] { return set_.Fresh(absl::Now()); }));
  EXPECT_LT(Stop(), absl::Milliseconds(500));
}

TEST_F(Follower, StopsPromptlyWhileBackingOff) {
  // No authd at all, and a long back-off to be waiting in.
  RevocationFollower::Options o;
  o.initial_backoff = absl::Seconds(5);
  o.max_backoff = absl::Seconds(5);
  Follow(o);
  ASSERT_TRUE(Eventually([&] {
    return set_.FreshnessAt(absl::Now()).unreachable_since.has_value();
  }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_LT(Stop(), absl::Milliseconds(500));
  EXPECT_FALSE(set_.Fresh(absl::Now()));
}

TEST_F(Follower, StopIsIdempotentAndSafeBeforeStart) {
  RevocationFollower never_started(TestChannel(socket_), &set_);
  never_started.Stop();
  never_started.Stop();
  never_started.Start();  // after Stop: does nothing
  never_started.Stop();
}

}  // namespace
}  // namespace rustiq::auth
