// LocalTokenVerifier: the order of its checks, what it caches and what it
// asks again of a cached token, and concurrent use.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/paseto.h"
#include "common/auth/token_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth {
namespace {

using ::rustiq::auth::testing::AliceClaims;
using ::rustiq::auth::testing::FakeClock;
using ::rustiq::auth::testing::FixedKeySource;
using ::rustiq::auth::testing::kDevice;
using ::rustiq::auth::testing::Mint;
using ::rustiq::auth::testing::NewEd25519Key;
using ::rustiq::auth::testing::PublicHalf;
using ::testing::HasSubstr;

class Verifier : public ::testing::TestWithParam<bool> {
 protected:
  Verifier() {
    key1_ = NewEd25519Key();
    key2_ = NewEd25519Key();
    keys_.Put(1, PublicHalf(key1_.get()));
    keys_.Put(2, PublicHalf(key2_.get()));
    revocations_.MarkSynced(clock_.Now());
    verifier_ = std::make_unique<LocalTokenVerifier>(Options(GetParam()),
                                                     &keys_, &revocations_);
  }
  LocalTokenVerifier::Options Options(bool cache) {
    LocalTokenVerifier::Options o;
    o.device_id = kDevice;
    o.cache = cache;
    o.now = clock_.AsFunction();
    return o;
  }
  std::string Alice(uint32_t version = 1) {
    claims_ = AliceClaims(clock_.Now());
    return Mint(claims_, version == 2 ? key2_.get() : key1_.get(), version);
  }

  FakeClock clock_;
  pki::EvpPkeyPtr key1_, key2_;
  FixedKeySource keys_;
  RevocationSet revocations_;
  std::unique_ptr<LocalTokenVerifier> verifier_;
  rpc::TokenClaims claims_;
};

INSTANTIATE_TEST_SUITE_P(CacheOnAndOff, Verifier, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Cached" : "Uncached";
                         });

TEST_P(Verifier, AcceptsAValidTokenOfEitherKeyVersion) {
  for (uint32_t version : {1u, 2u}) {
    std::string token = Alice(version);
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<rpc::TokenClaims> got = verifier_->Verify(token);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->subject, "alice");
      EXPECT_EQ(got->token_id, claims_.token_id);
      EXPECT_EQ(got->permissions, claims_.permissions);
      EXPECT_EQ(got->expires, claims_.expires);
    }
  }
  EXPECT_TRUE(verifier_->CheckPermission(Alice(), "users.read").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(
      verifier_->CheckPermission(Alice(), "keys.zeroize")));
}

TEST_P(Verifier, ACachedTokenSkipsTheKeySource) {
  std::string token = Alice();
  ASSERT_TRUE(verifier_->Verify(token).ok());
  int calls = keys_.calls();
  ASSERT_TRUE(verifier_->Verify(token).ok());
  EXPECT_EQ(keys_.calls(), calls + (GetParam() ? 0 : 1));
}

TEST_P(Verifier, AWrongKeyVersionFailsTheSignature) {
  // Signed by version 2, footer naming version 1.
  claims_ = AliceClaims(clock_.Now());
  std::string token = Mint(claims_, key2_.get(), 1);
  EXPECT_EQ(verifier_->Verify(token).status().message(),
            "token signature does not verify");
}

TEST_P(Verifier, UnknownKeyVersionIsUnauthenticated) {
  claims_ = AliceClaims(clock_.Now());
  std::string token = Mint(claims_, key1_.get(), 3);
  absl::Status s = verifier_->Verify(token).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
}

TEST_P(Verifier, AFailingKeySourceIsUnavailable) {
  std::string token = Alice();
  keys_.Fail(absl::UnavailableError(
      "cannot fetch the token-signing public key from keyd: down"));
  absl::Status s = verifier_->Verify(token).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("cannot fetch the token-signing"));
}

TEST_P(Verifier, ATokenOfAnotherDeviceIsRefused) {
  claims_ = AliceClaims(clock_.Now());
  std::string token = Mint(claims_, key1_.get(), 1, "dev-4712.example");
  EXPECT_EQ(verifier_->Verify(token).status().message(),
            "token signature does not verify");
}

TEST_P(Verifier, SizeIsCheckedFirst) {
  std::string big = absl::StrCat("v4.public.", std::string(4087, 'A'));
  ASSERT_EQ(big.size(), 4097u);
  absl::Status s = verifier_->Verify(big).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("larger than 4096 bytes"));
  EXPECT_EQ(keys_.calls(), 0);
  EXPECT_TRUE(absl::IsUnauthenticated(verifier_->Verify("").status()));
}

TEST_P(Verifier, ABadFooterNeverReachesTheKeySource) {
  absl::StatusOr<std::string> token =
      paseto::SignV4Public("{}", R"({"kid":"token-signing:1","x":1})",
                           "rustiq-device:dev-4711.example", key1_.get());
  ASSERT_TRUE(token.ok());
  EXPECT_THAT(verifier_->Verify(*token).status().message(),
              HasSubstr("token footer is not"));
  EXPECT_EQ(keys_.calls(), 0);
}

TEST_P(Verifier, RevokedTokensAreRefusedEvenWhenCached) {
  std::string token = Alice();
  ASSERT_TRUE(verifier_->Verify(token).ok());
  revocations_.Add({{claims_.token_id, claims_.expires}});
  absl::Status s = verifier_->Verify(token).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("revoked"));
  // Revoked before it was first seen.
  std::string other = Alice();
  revocations_.Add({{claims_.token_id, claims_.expires}});
  EXPECT_THAT(verifier_->Verify(other).status().message(),
              HasSubstr("revoked"));
  EXPECT_EQ(verifier_->CachedTokens(), 0u);
}

TEST_P(Verifier, ExpiredTokensAreRefusedEvenWhenCached) {
  std::string token = Alice();
  ASSERT_TRUE(verifier_->Verify(token).ok());
  clock_.Advance(absl::Hours(1) - absl::Seconds(1));
  EXPECT_TRUE(verifier_->Verify(token).ok());
  clock_.Advance(absl::Seconds(1));
  absl::Status s = verifier_->Verify(token).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("expired at"));
}

TEST_P(Verifier, AStaleRevocationListIsUnavailable) {
  std::string token = Alice();
  ASSERT_TRUE(verifier_->Verify(token).ok());
  revocations_.MarkDisconnected(clock_.Now());
  clock_.Advance(absl::Seconds(5));  // a blip: still trusted
  EXPECT_TRUE(verifier_->Verify(token).ok());
  clock_.Advance(absl::Seconds(6));
  absl::Status s = verifier_->Verify(token).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(),
            "revoked tokens are not known: authd has not been reachable for "
            "11 s; retry when it is");
  revocations_.MarkSynced(clock_.Now());
  EXPECT_TRUE(verifier_->Verify(token).ok());
}

TEST_P(Verifier, NothingIsAcceptedBeforeTheFirstSnapshot) {
  RevocationSet never_synced;
  LocalTokenVerifier v(Options(GetParam()), &keys_, &never_synced);
  absl::Status s = v.Verify(Alice()).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("revoked tokens are not known"));
}

TEST_P(Verifier, BadTokensAreNeverCached) {
  std::string token = Alice();
  for (int i = 0; i < 200; ++i) {
    std::string bad = token;
    bad[20 + i % 100] = bad[20 + i % 100] == 'A' ? 'B' : 'A';
    bad += std::string(static_cast<size_t>(i % 3), 'A');
    EXPECT_FALSE(verifier_->Verify(bad).ok());
  }
  EXPECT_EQ(verifier_->CachedTokens(), 0u);
}

TEST(VerifierCache, IsBounded) {
  FakeClock clock;
  pki::EvpPkeyPtr key = NewEd25519Key();
  FixedKeySource keys;
  keys.Put(1, PublicHalf(key.get()));
  RevocationSet revocations(RevocationSet::Options{.always_fresh = true});
  LocalTokenVerifier::Options o;
  o.device_id = kDevice;
  o.cache_entries = 8;
  o.now = clock.AsFunction();
  LocalTokenVerifier verifier(o, &keys, &revocations);
  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    tokens.push_back(Mint(AliceClaims(clock.Now()), key.get()));
    ASSERT_TRUE(verifier.Verify(tokens.back()).ok());
    EXPECT_LE(verifier.CachedTokens(), 8u);
  }
  // The most recent are still hits; evicted ones verify again, and right.
  int calls = keys.calls();
  ASSERT_TRUE(verifier.Verify(tokens.back()).ok());
  EXPECT_EQ(keys.calls(), calls);
  ASSERT_TRUE(verifier.Verify(tokens.front()).ok());
  EXPECT_EQ(keys.calls(), calls + 1);
}

TEST(VerifierCache, SameAnswersWithAndWithoutIt) {
  FakeClock clock;
  pki::EvpPkeyPtr key = NewEd25519Key();
  FixedKeySource keys;
  keys.Put(1, PublicHalf(key.get()));
  RevocationSet revocations;
  revocations.MarkSynced(clock.Now());
  LocalTokenVerifier::Options o;
  o.device_id = kDevice;
  o.now = clock.AsFunction();
  LocalTokenVerifier cached(o, &keys, &revocations);
  o.cache = false;
  LocalTokenVerifier uncached(o, &keys, &revocations);

  rpc::TokenClaims revoked = AliceClaims(clock.Now());
  rpc::TokenClaims short_lived = AliceClaims(clock.Now());
  short_lived.expires = clock.Now() + absl::Seconds(10);
  std::vector<std::string> tokens = {
      Mint(AliceClaims(clock.Now()), key.get()),
      Mint(revoked, key.get()),
      Mint(short_lived, key.get()),
      Mint(AliceClaims(clock.Now()), key.get(), 9),
      "v4.public.AAAA",
      "garbage"};
  auto same = [&] {
    for (const std::string& t : tokens) {
      absl::StatusOr<rpc::TokenClaims> a = cached.Verify(t);
      absl::StatusOr<rpc::TokenClaims> b = uncached.Verify(t);
      EXPECT_EQ(a.status(), b.status());
      if (a.ok() && b.ok()) {
        EXPECT_EQ(a->token_id, b->token_id);
      }
    }
  };
  same();
  same();  // the second round hits the cache
  revocations.Add({{revoked.token_id, revoked.expires}});
  clock.Advance(absl::Seconds(11));
  same();
  revocations.MarkDisconnected(clock.Now());
  clock.Advance(absl::Seconds(20));
  same();
}

TEST(VerifierConcurrency, EightThreadsAgree) {
  pki::EvpPkeyPtr key = NewEd25519Key();
  FixedKeySource keys;
  keys.Put(1, PublicHalf(key.get()));
  RevocationSet revocations;
  revocations.MarkSynced(absl::Now());
  LocalTokenVerifier::Options o;
  o.device_id = kDevice;
  o.cache_entries = 16;  // small, so that threads also evict
  LocalTokenVerifier verifier(o, &keys, &revocations);

  std::vector<rpc::TokenClaims> claims;
  std::vector<std::string> good;
  for (int i = 0; i < 24; ++i) {
    claims.push_back(AliceClaims(absl::Now()));
    good.push_back(Mint(claims.back(), key.get()));
  }
  // Half of them revoked while the threads run.
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        size_t n = static_cast<size_t>(t * 7 + i) % good.size();
        absl::StatusOr<rpc::TokenClaims> got = verifier.Verify(good[n]);
        bool may_be_revoked = n % 2 == 1;
        if (got.ok()) {
          if (got->token_id != claims[n].token_id) wrong.fetch_add(1);
        } else if (!may_be_revoked) {
          wrong.fetch_add(1);
        }
        std::string bad = good[n];
        bad[30] = bad[30] == 'x' ? 'y' : 'x';
        if (verifier.Verify(bad).ok()) wrong.fetch_add(1);
      }
    });
  }
  for (size_t n = 1; n < claims.size(); n += 2) {
    revocations.Add({{claims[n].token_id, claims[n].expires}});
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(verifier.Verify(good[n]).ok(), n % 2 == 0) << n;
  }
}

}  // namespace
}  // namespace rustiq::auth
