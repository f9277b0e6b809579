// ECDSA P-256 signing with nonces computed ahead of time, so that a
// signature request costs a few modular multiplications instead of a scalar
// multiplication: the expensive half of ECDSA (k, k^-1 and r = (k*G).x) does
// not depend on the message, and a background thread computes it while keyd
// waits for requests. This is how the signature "hides behind the RPC".
//
// Nonces are computed in batches: each k costs its scalar multiplication
// k*G and the conversion of that point to affine x, but the inverses
// k^-1 mod n of a whole batch come from one inversion (Montgomery's trick:
// invert the product of the batch, then peel each factor off with two
// multiplications), which is what makes a batch of 32 cost about a quarter
// less CPU than 32 calls of OpenSSL's ECDSA_sign_setup (bench/RESULTS.md).
// The inversion is a constant-time exponentiation (Fermat, n is prime) and
// every intermediate number lives in the secure heap and is cleansed. The
// public BIGNUM functions used here (BN_priv_rand_range_ex, BN_to_montgomery,
// BN_mod_mul_montgomery, the exponentiation's input) can take a different
// time only for a value whose top 64-bit word is zero (about 2^-64 per
// value), where OpenSSL's own ECDSA_sign_setup (3.0.16 and later) keeps k at
// full width with internal functions; BN_mod_mul_montgomery is also what
// OpenSSL's signing uses for its last multiplication.
//
// Safety rules, each enforced here:
// - a precomputed nonce is used for exactly one signature: it is taken out
//   of the pool under the lock before it is used and cleansed right after;
//   nonce reuse would reveal the private key;
// - nonces are as secret as the key: k^-1 lives in OpenSSL's secure heap
//   (BN_secure_new in ComputeNonces) and every unused nonce is
//   cleansed when the pool is destroyed (key retired, deleted, zeroized);
// - k is drawn uniformly from [1, n-1] with OpenSSL's private DRBG
//   (BN_priv_rand_range_ex), the distribution of OpenSSL's own
//   ECDSA_sign_setup without a digest; unlike OpenSSL's inline signing it is
//   not additionally hedged with the digest, since the digest is not known
//   yet;
// - the worker thread is started only by PresignWorker::Start(), which keyd
//   calls after it confined itself: a thread created before confinement
//   would run unconfined.
//
// Built on OpenSSL's EC_KEY and BIGNUM APIs (EC_POINT_mul,
// BN_mod_mul_montgomery, BN_mod_exp_mont_consttime, ECDSA_do_sign_ex): the EVP
// interface of OpenSSL 3.0 has no way to pass precomputed values.
#ifndef RUSTIQ_SERVICES_KEYD_ECDSA_PRESIGNER_H_
#define RUSTIQ_SERVICES_KEYD_ECDSA_PRESIGNER_H_

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyd {

// The pool of precomputed nonces of one P-256 key version. Thread-safe.
class EcdsaPresigner {
 public:
  // `key` is an EC P-256 private key; the presigner keeps its own reference.
  // `capacity` is the most nonces kept ready (at least 1).
  static absl::StatusOr<std::unique_ptr<EcdsaPresigner>> Create(
      EVP_PKEY* key, size_t capacity);
  ~EcdsaPresigner();  // cleanses every unused nonce
  EcdsaPresigner(const EcdsaPresigner&) = delete;
  EcdsaPresigner& operator=(const EcdsaPresigner&) = delete;

  // A DER-encoded ECDSA signature of the 32-byte `digest` made with a
  // precomputed nonce, or nullopt when none is ready (the caller signs the
  // ordinary way). An error only for a failure of OpenSSL itself.
  std::optional<absl::StatusOr<std::string>> TrySign(absl::string_view digest);

  // The most nonces one AddBatch() computes.
  static constexpr size_t kMaxBatch = 32;

  // Computes up to `most` nonces (at most kMaxBatch, never more than the
  // pool lacks) in one batch and adds them. Returns how many were added: 0
  // when the pool was full or OpenSSL failed (nothing added then). The
  // batch's one inversion is paid whatever its size: a nonce alone costs
  // about three times one of a batch of 32 (bench/RESULTS.md), so the
  // worker refills in batches of RefillBatch().
  size_t AddBatch(size_t most);
  bool AddOne() { return AddBatch(1) == 1; }

  // The batch the worker computes: kMaxBatch, or half the capacity of a
  // smaller pool.
  size_t RefillBatch() const;
  // Whether a whole RefillBatch() is missing: the signer asks the worker
  // for a refill then, and the worker refills while it holds.
  bool NeedsRefill() const;

  // How many nonces the pool lacks.
  size_t Missing() const;
  size_t Ready() const;
  size_t capacity() const { return capacity_; }

 private:
  friend class EcdsaPresignerTestPeer;
  // k^-1 mod n and r = (k*G).x mod n of one unused nonce k. Both are secret
  // until the signature is made; both are in the secure heap (k itself is
  // not kept).
  struct Nonce {
    BIGNUM* kinv = nullptr;
    BIGNUM* r = nullptr;
    ~Nonce() {
      BN_clear_free(kinv);
      BN_clear_free(r);
    }
  };
  // Sets `k` to a fresh nonce in [1, n-1]; false on failure.
  using DrawK = std::function<bool(BIGNUM* k, BN_CTX* ctx)>;

  EcdsaPresigner(EC_KEY* key, BN_MONT_CTX* order_mont, size_t capacity);
  // `count` nonces whose k come from `draw`, or none if it or OpenSSL
  // failed. Tests give their own `draw` (EcdsaPresignerTestPeer).
  std::vector<std::unique_ptr<Nonce>> ComputeNonces(size_t count,
                                                    const DrawK& draw) const;

  EC_KEY* const key_;  // owned reference
  // The group's (owned by key_): Montgomery arithmetic mod n.
  BN_MONT_CTX* const order_mont_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Nonce*> ready_;  // guarded by mu_; owned
};

// One background thread that keeps the pools of every presigning key full.
// Thread-safe. Until Start() is called (after confinement), Request() only
// notes which pools want nonces.
class PresignWorker {
 public:
  PresignWorker() = default;
  ~PresignWorker();  // stops and joins the thread
  PresignWorker(const PresignWorker&) = delete;
  PresignWorker& operator=(const PresignWorker&) = delete;

  // Starts the thread (once); later calls do nothing.
  void Start();
  bool started() const;
  // Asks for `pool` to be refilled. The worker keeps only a weak reference:
  // a pool destroyed meanwhile is skipped.
  void Request(const std::shared_ptr<EcdsaPresigner>& pool);

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::weak_ptr<EcdsaPresigner>> queue_;  // guarded by mu_
  bool started_ = false;                             // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_
  std::thread thread_;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_ECDSA_PRESIGNER_H_
