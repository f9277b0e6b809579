// KeydTokenKeySource against an in-process fake of keyd's Keys service on a
// Unix socket: what it asks, what it keeps, and how it fails.
#include <string>

#include "common/auth/keyd_token_key_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth {
namespace {

using ::rustiq::auth::testing::FakeClock;
using ::rustiq::auth::testing::FakeKeys;
using ::rustiq::auth::testing::NewEd25519Key;
using ::rustiq::auth::testing::StartServer;
using ::rustiq::auth::testing::TestChannel;
using ::testing::HasSubstr;

class KeydKeySource : public ::testing::Test {
 protected:
  KeydKeySource() : socket_(dir_ / "keyd.sock") {
    key1_ = NewEd25519Key();
    keys_.Put(1, key1_.get());
    server_ = StartServer(socket_, &keys_);
    KeydTokenKeySource::Options o;
    o.now = clock_.AsFunction();
    o.deadline = absl::Milliseconds(300);
    source_ = std::make_unique<KeydTokenKeySource>(TestChannel(socket_), o);
  }
  ~KeydKeySource() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  rustiq::testing::TempDir dir_{"auth-keyd"};
  std::string socket_;
  FakeClock clock_;
  pki::EvpPkeyPtr key1_;
  FakeKeys keys_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<KeydTokenKeySource> source_;
};

TEST_F(KeydKeySource, FetchesOnceAndKeepsTheKey) {
  absl::StatusOr<SharedPublicKey> key = source_->Key(1);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), key1_.get()), 1);
  server_->Shutdown();
  server_.reset();
  clock_.Advance(absl::Hours(100));
  absl::StatusOr<SharedPublicKey> again = source_->Key(1);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->get(), key->get());
  EXPECT_EQ(keys_.requests(), 1);
}

TEST_F(KeydKeySource, AnUnknownVersionIsUnauthenticatedAndRememberedBriefly) {
  absl::Status s = source_->Key(5).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("keyd does not have"));
  EXPECT_TRUE(absl::IsUnauthenticated(source_->Key(5).status()));
  EXPECT_EQ(keys_.requests(), 1);
  // Rotated meanwhile: after a second keyd is asked again.
  pki::EvpPkeyPtr key5 = NewEd25519Key();
  keys_.Put(5, key5.get());
  clock_.Advance(absl::Milliseconds(1100));
  EXPECT_TRUE(source_->Key(5).ok());
  EXPECT_EQ(keys_.requests(), 2);
  EXPECT_TRUE(absl::IsUnauthenticated(source_->Key(0).status()));
}

TEST_F(KeydKeySource, KeydFailingIsUnavailableAndNotHammered) {
  keys_.Fail(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "svc/x may not use key 'token-signing'"));
  absl::Status s = source_->Key(1).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("cannot fetch the token-signing public key from keyd: "
                        "PERMISSION_DENIED: svc/x may not use"));
  // Every version is answered from memory for a second.
  EXPECT_TRUE(absl::IsUnavailable(source_->Key(1).status()));
  EXPECT_TRUE(absl::IsUnavailable(source_->Key(2).status()));
  EXPECT_EQ(keys_.requests(), 1);
  keys_.Fail(grpc::Status::OK);
  clock_.Advance(absl::Milliseconds(1001));
  EXPECT_TRUE(source_->Key(1).ok());
  EXPECT_EQ(keys_.requests(), 2);
}

TEST_F(KeydKeySource, KeydDownIsUnavailable) {
  server_->Shutdown();
  server_.reset();
  absl::Status s = source_->Key(1).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(),
              HasSubstr("cannot fetch the token-signing public key"));
}

TEST_F(KeydKeySource, ASlowKeydHitsTheDeadline) {
  keys_.Delay(absl::Milliseconds(600));
  absl::Time start = absl::Now();
  absl::Status s = source_->Key(1).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(550));
}

TEST_F(KeydKeySource, ANonEd25519KeyIsRefused) {
  absl::StatusOr<pki::EvpPkeyPtr> p256 = pki::GenerateP256Key();
  ASSERT_TRUE(p256.ok());
  keys_.Put(2, p256->get(), v1::KEY_ALGORITHM_EC_P256);
  absl::Status s = source_->Key(2).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not KEY_ALGORITHM_ED25519"));
  // Claiming Ed25519 with a P-256 key inside.
  keys_.Put(3, p256->get(), v1::KEY_ALGORITHM_ED25519);
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(source_->Key(3).status().message(),
              HasSubstr("not an Ed25519 SubjectPublicKeyInfo"));
}

}  // namespace
}  // namespace rustiq::auth

namespace rustiq::auth {
namespace {

// In the background, the caller (a gRPC transport thread in a daemon) never
// waits for keyd: a version not known yet is UNAVAILABLE at once, and known
// shortly after; the current version is known without any token asking.
TEST_F(KeydKeySource, InTheBackgroundTheCallerNeverWaitsForKeyd) {
  pki::EvpPkeyPtr key2 = NewEd25519Key();
  keys_.Put(2, key2.get());
  keys_.Delay(absl::Milliseconds(200));
  source_->StartBackground();
  absl::Time t0 = absl::Now();
  absl::Status s = source_->Key(1).status();
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("being fetched"));
  absl::StatusOr<SharedPublicKey> key;
  for (int i = 0; i < 100; ++i) {
    key = source_->Key(1);
    if (key.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), key1_.get()), 1);
  // Version 2, the current one, was fetched without being asked for.
  absl::StatusOr<SharedPublicKey> current = source_->Key(2);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(EVP_PKEY_eq(current->get(), key2.get()), 1);
  source_->StopBackground();
  source_->StopBackground();
}

}  // namespace
}  // namespace rustiq::auth
