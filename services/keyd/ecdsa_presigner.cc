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

// k^-1 mod n and r = (k*G).x mod n of one unused nonce k. Both are secret
// until the signature is made; kinv is in the secure heap.
struct EcdsaPresigner::Nonce {
  BIGNUM* kinv = nullptr;
  BIGNUM* r = nullptr;
  ~Nonce() {
    BN_clear_free(kinv);
    BN_clear_free(r);
  }
};

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
  return std::unique_ptr<EcdsaPresigner>(
      new EcdsaPresigner(ec, std::max<size_t>(capacity, 1)));
}

EcdsaPresigner::EcdsaPresigner(EC_KEY* key, size_t capacity)
    : key_(key), capacity_(capacity) {
  ready_.reserve(capacity_);
}

EcdsaPresigner::~EcdsaPresigner() {
  for (Nonce* n : ready_) delete n;
  ready_.clear();
  EC_KEY_free(key_);
}

bool EcdsaPresigner::AddOne() {
  if (Missing() == 0) return false;
  // Computed outside the lock: signers never wait for a scalar
  // multiplication.
  BIGNUM* kinv = nullptr;
  BIGNUM* r = nullptr;
  if (ECDSA_sign_setup(key_, nullptr, &kinv, &r) != 1) {
    BN_clear_free(kinv);
    BN_clear_free(r);
    ERR_clear_error();
    return false;
  }
  // Wherever OpenSSL put k^-1, keep it in the secure heap.
  auto nonce = std::make_unique<Nonce>();
  nonce->kinv = BN_secure_new();
  nonce->r = r;
  bool copied = nonce->kinv != nullptr && BN_copy(nonce->kinv, kinv) != nullptr;
  BN_clear_free(kinv);
  if (!copied) {
    ERR_clear_error();
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_.size() >= capacity_) return false;  // cleansed by ~Nonce
  ready_.push_back(nonce.release());
  return true;
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
    // Fill it up, checking for a stop between nonces (each is ~20 µs).
    while (pool->AddOne()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
  }
}

}  // namespace rustiq::keyd
