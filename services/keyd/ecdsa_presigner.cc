// OpenSSL 3.0 deprecates the EC_KEY functions used here without an EVP
// replacement for precomputed nonces (see the header).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "services/keyd/ecdsa_presigner.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <sys/prctl.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyd {

namespace {

using SecretBn =
    std::unique_ptr<BIGNUM, pki::OpenSslDeleter<BIGNUM, BN_clear_free>>;
using BnCtxPtr =
    std::unique_ptr<BN_CTX, pki::OpenSslDeleter<BN_CTX, BN_CTX_free>>;
using SecretPoint =
    std::unique_ptr<EC_POINT,
                    pki::OpenSslDeleter<EC_POINT, EC_POINT_clear_free>>;

// A number in the secure heap, flagged for constant-time arithmetic.
SecretBn NewSecretBn() {
  SecretBn b(BN_secure_new());
  if (b != nullptr) BN_set_flags(b.get(), BN_FLG_CONSTTIME);
  return b;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EcdsaPresigner>> EcdsaPresigner::Create(
    EVP_PKEY* key, size_t capacity) {
  if (key == nullptr || !pki::IsP256Key(key)) {
    return absl::InvalidArgumentError("presigning needs an EC P-256 key");
  }
  EC_KEY* ec = EVP_PKEY_get1_EC_KEY(key);
  if (ec == nullptr || EC_KEY_get0_private_key(ec) == nullptr) {
    EC_KEY_free(ec);
    ERR_clear_error();
    return absl::InvalidArgumentError("presigning needs the private key");
  }
  // The group's own Montgomery arithmetic mod n, which OpenSSL's signing
  // uses too; a named curve always has it.
  BN_MONT_CTX* order_mont = EC_GROUP_get_mont_data(EC_KEY_get0_group(ec));
  if (order_mont == nullptr) {
    EC_KEY_free(ec);
    return absl::InternalError(
        "the P-256 group has no Montgomery arithmetic for its order");
  }
  return std::unique_ptr<EcdsaPresigner>(
      new EcdsaPresigner(ec, order_mont, std::max<size_t>(capacity, 1)));
}

EcdsaPresigner::EcdsaPresigner(EC_KEY* key, BN_MONT_CTX* order_mont,
                               size_t capacity)
    : key_(key), order_mont_(order_mont), capacity_(capacity) {
  ready_.reserve(capacity_);
}

EcdsaPresigner::~EcdsaPresigner() {
  for (Nonce* n : ready_) delete n;
  ready_.clear();
  EC_KEY_free(key_);
}

std::vector<std::unique_ptr<EcdsaPresigner::Nonce>>
EcdsaPresigner::ComputeNonces(size_t count, const DrawK& draw) const {
  if (count == 0) return {};
  const EC_GROUP* group = EC_KEY_get0_group(key_);
  const BIGNUM* n = EC_GROUP_get0_order(group);
  BnCtxPtr ctx(BN_CTX_secure_new());
  SecretPoint point(EC_POINT_new(group));
  SecretBn x = NewSecretBn();
  SecretBn inverse = NewSecretBn();
  pki::BignumPtr n_minus_2(BN_dup(n));
  if (ctx == nullptr || point == nullptr || x == nullptr ||
      inverse == nullptr || n_minus_2 == nullptr ||
      BN_sub_word(n_minus_2.get(), 2) != 1) {
    return {};
  }
  // Per nonce: k (in Montgomery form: k*R mod n), the running product
  // k_0*...*k_i*R, and r = (k*G).x mod n.
  std::vector<SecretBn> k_mont(count);
  std::vector<SecretBn> products(count);
  std::vector<std::unique_ptr<Nonce>> out(count);
  SecretBn k = NewSecretBn();
  if (k == nullptr) return {};
  for (size_t i = 0; i < count; ++i) {
    out[i] = std::make_unique<Nonce>();
    out[i]->r = BN_secure_new();
    k_mont[i] = NewSecretBn();
    products[i] = NewSecretBn();
    if (out[i]->r == nullptr || k_mont[i] == nullptr ||
        products[i] == nullptr) {
      return {};
    }
    // A fresh k again if r came out 0, as in ECDSA_sign_setup.
    do {
      if (!draw(k.get(), ctx.get()) || BN_is_zero(k.get()) ||
          BN_cmp(k.get(), n) >= 0) {
        return {};
      }
      if (EC_POINT_mul(group, point.get(), k.get(), nullptr, nullptr,
                       ctx.get()) != 1 ||
          EC_POINT_get_affine_coordinates(group, point.get(), x.get(), nullptr,
                                          ctx.get()) != 1 ||
          BN_nnmod(out[i]->r, x.get(), n, ctx.get()) != 1) {
        return {};
      }
    } while (BN_is_zero(out[i]->r));
    if (BN_to_montgomery(k_mont[i].get(), k.get(), order_mont_, ctx.get()) !=
        1) {
      return {};
    }
    bool multiplied =
        i == 0 ? BN_copy(products[0].get(), k_mont[0].get()) != nullptr
               : BN_mod_mul_montgomery(products[i].get(), products[i - 1].get(),
                                       k_mont[i].get(), order_mont_,
                                       ctx.get()) == 1;
    if (!multiplied) return {};
  }
  // inverse = (k_0*...*k_last)^-1 * R: out of Montgomery form, raised to
  // n-2 (constant time), back into it.
  if (BN_from_montgomery(inverse.get(), products[count - 1].get(), order_mont_,
                         ctx.get()) != 1 ||
      BN_mod_exp_mont_consttime(inverse.get(), inverse.get(), n_minus_2.get(),
                                n, ctx.get(), order_mont_) != 1 ||
      BN_to_montgomery(inverse.get(), inverse.get(), order_mont_, ctx.get()) !=
          1) {
    return {};
  }
  // Peel off the last factor each time: with inverse = (k_0*...*k_i)^-1 * R,
  // k_i^-1 = inverse * (k_0*...*k_(i-1)), then inverse *= k_i.
  for (size_t i = count; i-- > 0;) {
    BIGNUM* kinv = out[i]->kinv = BN_secure_new();
    if (kinv == nullptr) return {};
    if (i > 0 &&
        (BN_mod_mul_montgomery(kinv, inverse.get(), products[i - 1].get(),
                               order_mont_, ctx.get()) != 1 ||
         BN_mod_mul_montgomery(inverse.get(), inverse.get(), k_mont[i].get(),
                               order_mont_, ctx.get()) != 1)) {
      return {};
    }
    if (BN_from_montgomery(kinv, i > 0 ? kinv : inverse.get(), order_mont_,
                           ctx.get()) != 1) {
      return {};
    }
  }
  return out;
}

size_t EcdsaPresigner::AddBatch(size_t most) {
  size_t count = std::min({most, kMaxBatch, Missing()});
  if (count == 0) return 0;
  // Computed outside the lock: signers never wait for a scalar
  // multiplication.
  // k uniform in [1, n-1], from OpenSSL's private DRBG.
  const BIGNUM* n = EC_GROUP_get0_order(EC_KEY_get0_group(key_));
  std::vector<std::unique_ptr<Nonce>> nonces =
      ComputeNonces(count, [n](BIGNUM* k, BN_CTX* ctx) {
        do {
          if (BN_priv_rand_range_ex(k, n, 0, ctx) != 1) return false;
        } while (BN_is_zero(k));
        return true;
      });
  if (nonces.empty()) {
    ERR_clear_error();
    return 0;
  }
  size_t added = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::unique_ptr<Nonce>& nonce : nonces) {
    if (ready_.size() >= capacity_) break;  // the rest cleansed by ~Nonce
    ready_.push_back(nonce.release());
    ++added;
  }
  return added;
}

std::optional<absl::StatusOr<std::string>> EcdsaPresigner::TrySign(
    absl::string_view digest) {
  if (digest.size() != 32) {
    return absl::StatusOr<std::string>(absl::InvalidArgumentError(
        absl::StrCat("a SHA-256 digest is 32 bytes, got ", digest.size())));
  }
  std::unique_ptr<Nonce> nonce;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_.empty()) return std::nullopt;
    // Out of the pool before it is used: no other signature can get it.
    nonce.reset(ready_.back());
    ready_.pop_back();
  }
  ECDSA_SIG* sig = ECDSA_do_sign_ex(
      reinterpret_cast<const unsigned char*>(digest.data()),
      static_cast<int>(digest.size()), nonce->kinv, nonce->r, key_);
  nonce.reset();  // used once, cleansed now
  if (sig == nullptr) {
    // s == 0 (probability 2^-256) or an OpenSSL failure: the caller signs
    // the ordinary way.
    ERR_clear_error();
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig, nullptr);
  std::string der(len > 0 ? static_cast<size_t>(len) : 0, '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  bool encoded = len > 0 && i2d_ECDSA_SIG(sig, &out) == len;
  ECDSA_SIG_free(sig);
  if (!encoded) {
    return absl::StatusOr<std::string>(absl::InternalError(
        absl::StrCat("cannot encode the signature: ", pki::OpenSslErrors())));
  }
  return absl::StatusOr<std::string>(std::move(der));
}

size_t EcdsaPresigner::RefillBatch() const {
  return std::clamp<size_t>(capacity_ / 2, 1, kMaxBatch);
}

bool EcdsaPresigner::NeedsRefill() const { return Missing() >= RefillBatch(); }

size_t EcdsaPresigner::Missing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return capacity_ - ready_.size();
}

size_t EcdsaPresigner::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_.size();
}

PresignWorker::~PresignWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PresignWorker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

bool PresignWorker::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

void PresignWorker::Request(const std::shared_ptr<EcdsaPresigner>& pool) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::weak_ptr<EcdsaPresigner>& queued : queue_) {
      if (!queued.owner_before(pool) && !pool.owner_before(queued)) return;
    }
    queue_.push_back(pool);
  }
  wake_.notify_one();
}

void PresignWorker::Run() {
  prctl(PR_SET_NAME, "keyd-presign", 0, 0, 0);
  // At the priority of the threads that answer requests, not below: when
  // the CPU is saturated a starved worker would leave every signature to
  // be made inline, which costs more CPU than making nonces in a batch.
  while (true) {
    std::shared_ptr<EcdsaPresigner> pool;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      pool = queue_.front().lock();
      queue_.pop_front();
    }
    if (pool == nullptr) continue;  // the key went away meanwhile
    // Whole batches only (a few nonces alone would cost more each), with a
    // check for a stop between them (each is well under a millisecond).
    while (pool->NeedsRefill() && pool->AddBatch(pool->RefillBatch()) > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
  }
}

}  // namespace rustiq::keyd
