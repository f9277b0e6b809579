// DaemonTokens wired to fakes of keyd and authd on Unix sockets: a daemon's
// whole path from a token to its claims, and revocation through authd.
#include <memory>
#include <string>

#include "common/auth/daemon_tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth {
namespace {

using ::rustiq::auth::testing::AliceClaims;
using ::rustiq::auth::testing::Eventually;
using ::rustiq::auth::testing::FakeAuth;
using ::rustiq::auth::testing::FakeKeys;
using ::rustiq::auth::testing::FixedKeySource;
using ::rustiq::auth::testing::kDevice;
using ::rustiq::auth::testing::Mint;
using ::rustiq::auth::testing::NewEd25519Key;
using ::rustiq::auth::testing::PublicHalf;
using ::rustiq::auth::testing::StartServer;
using ::rustiq::auth::testing::TestChannel;
using ::testing::HasSubstr;

class DaemonTokensTest : public ::testing::Test {
 protected:
  DaemonTokensTest() {
    key_ = NewEd25519Key();
    keys_.Put(1, key_.get());
    keyd_ = StartServer(dir_ / "keyd.sock", &keys_);
    authd_ = StartServer(dir_ / "authd.sock", &auth_);
  }
  ~DaemonTokensTest() override {
    auth_.Close();
    authd_->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(200));
    keyd_->Shutdown();
  }

  rustiq::testing::TempDir dir_{"auth-daemon"};
  pki::EvpPkeyPtr key_;
  FakeKeys keys_;
  FakeAuth auth_;
  std::unique_ptr<grpc::Server> keyd_;
  std::unique_ptr<grpc::Server> authd_;
};

TEST_F(DaemonTokensTest, VerifiesThroughKeydAndFollowsAuthd) {
  DaemonTokens tokens(kDevice, TestChannel(dir_ / "keyd.sock"),
                      TestChannel(dir_ / "authd.sock"));
  rpc::TokenClaims claims = AliceClaims(absl::Now());
  std::string token = Mint(claims, key_.get());
  // Not started: the revocation list is unknown.
  EXPECT_TRUE(absl::IsUnavailable(tokens.verifier()->Verify(token).status()));
  tokens.Start();
  ASSERT_TRUE(
      Eventually([&] { return tokens.verifier()->Verify(token).ok(); }));
  absl::StatusOr<rpc::TokenClaims> got = tokens.verifier()->Verify(token);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->Actor(), "user/alice");
  // Once known, the key is not asked for again (the first Verify, before
  // Start, fetched it inline; Start fetched the current version).
  int asked = keys_.requests();
  EXPECT_LE(asked, 2);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(tokens.verifier()->Verify(token).ok());
  EXPECT_EQ(keys_.requests(), asked);

  auth_.Publish({claims.token_id});
  ASSERT_TRUE(Eventually([&] {
    return absl::IsUnauthenticated(tokens.verifier()->Verify(token).status());
  }));
  EXPECT_THAT(tokens.verifier()->Verify(token).status().message(),
              HasSubstr("revoked"));
  tokens.Stop();
  tokens.Stop();
}

TEST_F(DaemonTokensTest, AuthdFeedsItsOwnAlwaysFreshSet) {
  DaemonTokens tokens =
      DaemonTokens::ForAuthd(kDevice, TestChannel(dir_ / "keyd.sock"));
  tokens.Start();
  rpc::TokenClaims claims = AliceClaims(absl::Now());
  std::string token = Mint(claims, key_.get());
  // The key arrives from keyd in the background, off the caller's thread.
  ASSERT_TRUE(
      Eventually([&] { return tokens.verifier()->Verify(token).ok(); }));
  tokens.revocations()->Add({{claims.token_id, claims.expires}});
  EXPECT_TRUE(
      absl::IsUnauthenticated(tokens.verifier()->Verify(token).status()));
  EXPECT_EQ(auth_.streams(), 0);
}

TEST_F(DaemonTokensTest, TakesALocalKeySource) {
  FixedKeySource local;
  local.Put(1, PublicHalf(key_.get()));
  DaemonTokens tokens(kDevice, &local, TestChannel(dir_ / "authd.sock"));
  tokens.Start();
  std::string token = Mint(AliceClaims(absl::Now()), key_.get());
  ASSERT_TRUE(
      Eventually([&] { return tokens.verifier()->Verify(token).ok(); }));
  EXPECT_EQ(keys_.requests(), 0);
}

}  // namespace
}  // namespace rustiq::auth
