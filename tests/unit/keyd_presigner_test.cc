// EcdsaPresigner and PresignWorker: signatures with precomputed nonces
// verify, every nonce is used once, the pool fills only once the worker is
// started, and the soft backend signs with them.
// The EC_KEY accessors of the test peer are deprecated in OpenSSL 3.0, as in
// the presigner itself.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/pki/openssl_util.h"
#include "gtest/gtest.h"
#include "services/keyd/ecdsa_presigner.h"
#include "services/keyd/soft_backend.h"

namespace rustiq::keyd {

// Runs the presigner's batch arithmetic on nonces k chosen by the test.
class EcdsaPresignerTestPeer {
 public:
  struct Made {
    pki::BignumPtr kinv;
    pki::BignumPtr r;
    bool in_secure_heap;  // the nonce's own kinv and r (BN_FLG_SECURE)
  };
  // The (k^-1, r) made from `ks` in one batch, or nullopt when the
  // presigner made none. `fail_at`: the draw of that index fails.
  static std::optional<std::vector<Made>> Compute(
      const EcdsaPresigner& pool, const std::vector<const BIGNUM*>& ks,
      size_t fail_at = SIZE_MAX) {
    size_t next = 0;
    std::vector<std::unique_ptr<EcdsaPresigner::Nonce>> nonces =
        pool.ComputeNonces(ks.size(), [&](BIGNUM* k, BN_CTX*) {
          if (next == fail_at || next >= ks.size()) return false;
          return BN_copy(k, ks[next++]) != nullptr;
        });
    if (nonces.empty()) return std::nullopt;
    std::vector<Made> out;
    out.reserve(nonces.size());
    for (const auto& nonce : nonces) {
      out.push_back({pki::BignumPtr(BN_dup(nonce->kinv)),
                     pki::BignumPtr(BN_dup(nonce->r)),
                     BN_get_flags(nonce->kinv, BN_FLG_SECURE) != 0 &&
                         BN_get_flags(nonce->r, BN_FLG_SECURE) != 0});
    }
    return out;
  }
  static const EC_GROUP* Group(const EcdsaPresigner& pool) {
    return EC_KEY_get0_group(pool.key_);
  }
};

namespace {

std::string Digest(absl::string_view text) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

bool Verifies(EVP_PKEY* key, const std::string& digest,
              const std::string& sig) {
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(digest.data()),
             digest.size()) == 1;
}

// The r of a DER ECDSA signature: it is (k*G).x, so equal r means equal k.
std::string R(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return "";
  const BIGNUM* r = ECDSA_SIG_get0_r(sig);
  std::string out(static_cast<size_t>(BN_num_bytes(r)), '\0');
  BN_bn2bin(r, reinterpret_cast<unsigned char*>(out.data()));
  ECDSA_SIG_free(sig);
  return out;
}

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class KeydPresignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateP256Key();
    ASSERT_TRUE(key.ok());
    key_ = *std::move(key);
  }
  pki::EvpPkeyPtr key_;
};

TEST_F(KeydPresignerTest, EmptyPoolSignsNothing) {
  auto pool = EcdsaPresigner::Create(key_.get(), 4);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ((*pool)->Ready(), 0u);
  EXPECT_EQ((*pool)->Missing(), 4u);
  EXPECT_FALSE((*pool)->TrySign(Digest("x")).has_value());
}

TEST_F(KeydPresignerTest, EachNonceSignsOnceAndTheSignaturesVerify) {
  auto pool = EcdsaPresigner::Create(key_.get(), 8);
  ASSERT_TRUE(pool.ok());
  while ((*pool)->AddOne()) {
  }
  EXPECT_EQ((*pool)->Ready(), 8u);
  EXPECT_FALSE((*pool)->AddOne());  // full
  std::string digest = Digest("the same digest each time");
  std::set<std::string> rs;
  for (int i = 0; i < 8; ++i) {
    auto sig = (*pool)->TrySign(digest);
    ASSERT_TRUE(sig.has_value()) << i;
    ASSERT_TRUE(sig->ok()) << sig->status();
    EXPECT_TRUE(Verifies(key_.get(), digest, **sig)) << i;
    rs.insert(R(**sig));
  }
  EXPECT_EQ(rs.size(), 8u);  // eight different nonces
  // Used up: the ninth signature has no nonce left.
  EXPECT_EQ((*pool)->Ready(), 0u);
  EXPECT_FALSE((*pool)->TrySign(digest).has_value());
}

// A batch shares one inversion among its nonces (Montgomery's trick): a
// wrong peeling order or product would give wrong inverses, and the
// signatures would not verify. Batches of 1, 2, 3 and the largest are
// checked, each nonce once, and a batch never overfills the pool.
TEST_F(KeydPresignerTest, EveryNonceOfABatchSignsOnceAndVerifies) {
  const size_t most = EcdsaPresigner::kMaxBatch;
  auto pool = EcdsaPresigner::Create(key_.get(), most + 6);
  ASSERT_TRUE(pool.ok());
  std::string digest = Digest("one digest for every nonce");
  std::set<std::string> rs;
  size_t signed_count = 0;
  for (size_t batch : {size_t{1}, size_t{2}, size_t{3}, most}) {
    ASSERT_EQ((*pool)->AddBatch(batch), batch);
    ASSERT_EQ((*pool)->Ready(), batch);
    for (size_t i = 0; i < batch; ++i) {
      auto sig = (*pool)->TrySign(digest);
      ASSERT_TRUE(sig.has_value()) << batch << "/" << i;
      ASSERT_TRUE(sig->ok()) << sig->status();
      EXPECT_TRUE(Verifies(key_.get(), digest, **sig)) << batch << "/" << i;
      rs.insert(R(**sig));
      ++signed_count;
    }
    EXPECT_EQ((*pool)->Ready(), 0u);
  }
  EXPECT_EQ(rs.size(), signed_count);  // no nonce twice, within or across
  // Asked for more than a batch or than is missing: only what fits.
  EXPECT_EQ((*pool)->AddBatch(1000), most);
  EXPECT_EQ((*pool)->AddBatch(1000), 6u);
  EXPECT_EQ((*pool)->Ready(), most + 6);
  EXPECT_EQ((*pool)->AddBatch(1000), 0u);
}

// Edge values of k: the smallest, the largest, numbers whose top 64-bit
// words are zero (the BIGNUM functions take another path for them), the top
// bit set, and a random one, in one batch, reversed, and in every prefix.
TEST_F(KeydPresignerTest, ABatchGivesTheInverseAndROfEachChosenNonce) {
  auto pool = EcdsaPresigner::Create(key_.get(), 64);
  ASSERT_TRUE(pool.ok());
  const EC_GROUP* group = EcdsaPresignerTestPeer::Group(**pool);
  const BIGNUM* n = EC_GROUP_get0_order(group);
  std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> ctx(BN_CTX_new(),
                                                      &BN_CTX_free);
  std::vector<pki::BignumPtr> values;
  auto add = [&](const std::function<bool(BIGNUM*)>& set) {
    values.emplace_back(BN_new());
    ASSERT_TRUE(set(values.back().get()));
  };
  add([](BIGNUM* k) { return BN_one(k) == 1; });
  add([](BIGNUM* k) { return BN_set_word(k, 2) == 1; });
  add([&](BIGNUM* k) { return BN_copy(k, n) && BN_sub_word(k, 1); });
  add([&](BIGNUM* k) { return BN_copy(k, n) && BN_sub_word(k, 2); });
  add([](BIGNUM* k) { return BN_set_bit(k, 190) && BN_add_word(k, 12345); });
  add([](BIGNUM* k) { return BN_set_word(k, (uint64_t{1} << 60) - 1) == 1; });
  add([](BIGNUM* k) { return BN_set_bit(k, 255) && BN_add_word(k, 7); });
  add([&](BIGNUM* k) { return BN_rand_range(k, n) == 1; });

  auto check = [&](const std::vector<const BIGNUM*>& ks) {
    std::optional<std::vector<EcdsaPresignerTestPeer::Made>> made =
        EcdsaPresignerTestPeer::Compute(**pool, ks);
    ASSERT_TRUE(made.has_value());
    ASSERT_EQ(made->size(), ks.size());
    for (size_t i = 0; i < ks.size(); ++i) {
      const pki::BignumPtr& kinv = (*made)[i].kinv;
      const pki::BignumPtr& r = (*made)[i].r;
      ASSERT_NE(kinv, nullptr);
      ASSERT_NE(r, nullptr);
      EXPECT_TRUE((*made)[i].in_secure_heap) << i;
      EXPECT_LT(BN_cmp(kinv.get(), n), 0) << i;
      pki::BignumPtr product(BN_new());
      ASSERT_EQ(BN_mod_mul(product.get(), ks[i], kinv.get(), n, ctx.get()), 1);
      EXPECT_TRUE(BN_is_one(product.get())) << "k * k^-1 != 1 at " << i;
      std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)> point(
          EC_POINT_new(group), &EC_POINT_free);
      pki::BignumPtr x(BN_new());
      pki::BignumPtr want_r(BN_new());
      ASSERT_EQ(
          EC_POINT_mul(group, point.get(), ks[i], nullptr, nullptr, ctx.get()),
          1);
      ASSERT_EQ(EC_POINT_get_affine_coordinates(group, point.get(), x.get(),
                                                nullptr, ctx.get()),
                1);
      ASSERT_EQ(BN_nnmod(want_r.get(), x.get(), n, ctx.get()), 1);
      EXPECT_EQ(BN_cmp(r.get(), want_r.get()), 0) << "r != (k*G).x at " << i;
    }
  };
  std::vector<const BIGNUM*> all;
  all.reserve(values.size());
  for (const pki::BignumPtr& v : values) all.push_back(v.get());
  check(all);
  check(std::vector<const BIGNUM*>(all.rbegin(), all.rend()));
  for (size_t size = 1; size < all.size(); ++size) {
    check(std::vector<const BIGNUM*>(
        all.begin(), all.begin() + static_cast<std::ptrdiff_t>(size)));
  }
}

TEST_F(KeydPresignerTest, AFailedOrInvalidDrawMakesNoNonce) {
  auto pool = EcdsaPresigner::Create(key_.get(), 8);
  ASSERT_TRUE(pool.ok());
  pki::BignumPtr one(BN_dup(BN_value_one()));
  pki::BignumPtr zero(BN_new());
  BN_zero(zero.get());
  pki::BignumPtr order(
      BN_dup(EC_GROUP_get0_order(EcdsaPresignerTestPeer::Group(**pool))));
  std::vector<const BIGNUM*> ks = {one.get(), one.get(), one.get()};
  // A draw that fails midway: nothing of the batch comes out.
  EXPECT_FALSE(EcdsaPresignerTestPeer::Compute(**pool, ks, 2).has_value());
  // Out of [1, n-1]: refused, not used.
  EXPECT_FALSE(EcdsaPresignerTestPeer::Compute(**pool, {zero.get()}));
  EXPECT_FALSE(EcdsaPresignerTestPeer::Compute(**pool, {order.get()}));
  EXPECT_EQ((*pool)->Ready(), 0u);
}

TEST_F(KeydPresignerTest, RefusesDigestsOfTheWrongLengthWithoutUsingANonce) {
  auto pool = EcdsaPresigner::Create(key_.get(), 2);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->AddOne());
  auto sig = (*pool)->TrySign("short");
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*pool)->Ready(), 1u);
}

TEST_F(KeydPresignerTest, RefusesKeysThatAreNotP256Private) {
  pki::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_EQ(EcdsaPresigner::Create(ed.get(), 4).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EcdsaPresigner::Create(nullptr, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KeydPresignerTest, TheWorkerFillsPoolsOnlyOnceStarted) {
  auto made = EcdsaPresigner::Create(key_.get(), 16);
  ASSERT_TRUE(made.ok());
  std::shared_ptr<EcdsaPresigner> pool = *std::move(made);
  PresignWorker worker;
  worker.Request(pool);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(worker.started());
  EXPECT_EQ(pool->Ready(), 0u);  // no thread before Start()
  worker.Start();
  EXPECT_TRUE(worker.started());
  EXPECT_TRUE(WaitFor([&] { return pool->Ready() == 16; }));
}

// A nonce alone costs about three of a batch: the worker waits until a
// whole batch (half the pool here) is missing, then refills it.
TEST_F(KeydPresignerTest, TheWorkerRefillsInWholeBatches) {
  auto made = EcdsaPresigner::Create(key_.get(), 16);
  ASSERT_TRUE(made.ok());
  std::shared_ptr<EcdsaPresigner> pool = *std::move(made);
  ASSERT_EQ(pool->RefillBatch(), 8u);
  PresignWorker worker;
  worker.Start();
  worker.Request(pool);
  ASSERT_TRUE(WaitFor([&] { return pool->Ready() == 16; }));
  std::string digest = Digest("refill");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool->TrySign(digest).has_value());
  EXPECT_FALSE(pool->NeedsRefill());
  worker.Request(pool);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(pool->Ready(), 13u);  // 3 missing: less than a batch
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool->TrySign(digest).has_value());
  EXPECT_TRUE(pool->NeedsRefill());
  worker.Request(pool);
  EXPECT_TRUE(WaitFor([&] { return pool->Ready() == 16; }));
}

TEST_F(KeydPresignerTest, APoolDestroyedWhileQueuedIsSkipped) {
  PresignWorker worker;
  {
    auto made = EcdsaPresigner::Create(key_.get(), 4);
    ASSERT_TRUE(made.ok());
    std::shared_ptr<EcdsaPresigner> gone = *std::move(made);
    worker.Request(gone);
  }
  auto made = EcdsaPresigner::Create(key_.get(), 4);
  ASSERT_TRUE(made.ok());
  std::shared_ptr<EcdsaPresigner> kept = *std::move(made);
  worker.Request(kept);
  worker.Start();
  EXPECT_TRUE(WaitFor([&] { return kept->Ready() == 4; }));
}

// Four signers drain the pool while the worker refills it: every signature
// verifies and no nonce serves twice.
TEST_F(KeydPresignerTest, ConcurrentSignersNeverShareANonce) {
  auto made = EcdsaPresigner::Create(key_.get(), 8);
  ASSERT_TRUE(made.ok());
  std::shared_ptr<EcdsaPresigner> pool = *std::move(made);
  PresignWorker worker;
  worker.Request(pool);
  worker.Start();
  // A full pool first, so that signatures come from it even when a loaded
  // machine gives the worker no time while the signers run.
  ASSERT_TRUE(WaitFor([&] { return pool->Ready() == 8; }));
  std::string digest = Digest("concurrent");
  std::vector<std::vector<std::string>> rs(4);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        worker.Request(pool);
        auto sig = pool->TrySign(digest);
        if (!sig.has_value()) continue;  // empty for the moment
        if (!sig->ok() || !Verifies(key_.get(), digest, **sig)) {
          ++failures[t];
          continue;
        }
        rs[t].push_back(R(**sig));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> all;
  size_t total = 0;
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(failures[t], 0);
    total += rs[t].size();
    all.insert(rs[t].begin(), rs[t].end());
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(all.size(), total);
}

// The soft backend with presigning: signatures verify whether or not a
// nonce was ready, before and after its worker started.
TEST(KeydSoftPresigningTest, SignsBeforeAndAfterTheWorkerStarts) {
  SoftBackendOptions options;
  options.presign_nonces = 4;
  std::unique_ptr<KeyBackend> backend = NewSoftBackend(options);
  absl::StatusOr<SecretBytes> handle =
      backend->Generate(Algorithm::kEcP256, "presign.v1");
  ASSERT_TRUE(handle.ok());
  auto key = backend->Open(Algorithm::kEcP256, *handle);
  ASSERT_TRUE(key.ok());
  absl::StatusOr<std::string> der = (*key)->PublicKeyDer();
  ASSERT_TRUE(der.ok());
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  pki::EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_NE(pub, nullptr);
  std::string digest = Digest("soft");
  std::set<std::string> rs;
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      backend->StartWorkers();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<std::string> sig =
          (*key)->Sign(SignatureScheme::kEcdsaP256Sha256, digest);
      ASSERT_TRUE(sig.ok()) << sig.status();
      EXPECT_TRUE(Verifies(pub.get(), digest, *sig));
      rs.insert(R(*sig));
    }
  }
  EXPECT_EQ(rs.size(), 40u);
  // A wrong digest length is still refused.
  EXPECT_EQ(
      (*key)->Sign(SignatureScheme::kEcdsaP256Sha256, "short").status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rustiq::keyd
