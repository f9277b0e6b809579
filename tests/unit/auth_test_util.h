// Shared pieces of the common/auth tests: Ed25519 keys, a fixed key source,
// a settable clock, token minting, and in-process fakes of keyd's Keys and
// authd's Auth (WatchRevocations) services on Unix sockets.
#ifndef RUSTIQ_TESTS_UNIT_AUTH_TEST_UTIL_H_
#define RUSTIQ_TESTS_UNIT_AUTH_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/public_key_source.h"
#include "common/auth/token_claims.h"
#include "common/auth/token_issuer.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/token_verifier.h"
#include "gtest/gtest.h"
#include "rustiq/v1/auth.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "tests/support/public_key_der.h"

namespace rustiq::auth::testing {

inline constexpr char kDevice[] = "dev-4711.example";

inline pki::EvpPkeyPtr NewEd25519Key() {
  return pki::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

inline pki::EvpPkeyPtr Ed25519FromSeed(const std::string& seed) {
  return pki::EvpPkeyPtr(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
}

inline pki::EvpPkeyPtr Ed25519Public(const std::string& raw) {
  return pki::EvpPkeyPtr(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
}

// The public half only, as a verifier would hold it.
inline SharedPublicKey PublicHalf(EVP_PKEY* key) {
  unsigned char raw[32];
  size_t len = sizeof(raw);
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(key, raw, &len), 1);
  return ShareKey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, len));
}

// A settable clock, safe to read from many threads.
class FakeClock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : now_(start) {}
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  std::function<absl::Time()> AsFunction() {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

// Versions mapped to public keys; anything else is "no such version". A
// status set with Fail() answers every call instead.
class FixedKeySource final : public TokenKeySource {
 public:
  void Put(uint32_t version, SharedPublicKey key) {
    absl::MutexLock lock(&mu_);
    keys_[version] = std::move(key);
  }
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  absl::StatusOr<SharedPublicKey> Key(uint32_t version) override {
    calls_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    auto it = keys_.find(version);
    if (it == keys_.end()) {
      return absl::UnauthenticatedError("no such token-signing key version");
    }
    return it->second;
  }
  int calls() const { return calls_.load(); }

 private:
  absl::Mutex mu_;
  std::map<uint32_t, SharedPublicKey> keys_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> calls_{0};
};

// alice, admin, a fresh token ID, valid for an hour from `now`.
inline rpc::TokenClaims AliceClaims(absl::Time now) {
  rpc::TokenClaims c;
  c.subject = "alice";
  c.token_id = NewTokenId();
  c.roles = {"admin"};
  c.permissions = {"auth.self", "users.manage", "users.read"};
  c.issued = now;
  c.expires = now + absl::Hours(1);
  return c;
}

inline std::string Mint(const rpc::TokenClaims& claims, EVP_PKEY* key,
                        uint32_t version = 1,
                        const std::string& device = kDevice) {
  absl::StatusOr<std::string> token =
      IssueToken(claims, device, version, LocalEd25519Signer(key));
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

// Polls `done` every 5 ms until it holds or `timeout` passes.
template <typename Pred>
bool Eventually(Pred done, absl::Duration timeout = absl::Seconds(2)) {
  absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

// A channel over a Unix socket without TLS (tests only), reconnecting fast.
inline std::shared_ptr<grpc::Channel> TestChannel(const std::string& socket) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket,
                                   grpc::InsecureChannelCredentials(), args);
}

inline std::unique_ptr<grpc::Server> StartServer(const std::string& socket,
                                                 grpc::Service* service) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  EXPECT_NE(server, nullptr);
  return server;
}

// keyd's GetPublicKey for "token-signing": the versions put in, NOT_FOUND
// for others, or a set failure.
class FakeKeys final : public v1::Keys::Service {
 public:
  void Put(uint32_t version, EVP_PKEY* key,
           v1::KeyAlgorithm algorithm = v1::KEY_ALGORITHM_ED25519) {
    absl::MutexLock lock(&mu_);
    keys_[version] = {::rustiq::testing::PublicKeyDer(key), algorithm};
  }
  void Fail(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  void Delay(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    delay_ = d;
  }
  int requests() const { return requests_.load(); }

  grpc::Status GetPublicKey(grpc::ServerContext*,
                            const v1::GetPublicKeyRequest* request,
                            v1::PublicKey* response) override {
    requests_.fetch_add(1);
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      delay = delay_;
    }
    if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    if (request->name() != "token-signing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no key named that");
    }
    // Version 0 is the current one, as keyd answers: the newest put in.
    auto it = request->version() == 0 && !keys_.empty()
                  ? std::prev(keys_.end())
                  : keys_.find(request->version());
    if (it == keys_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "key 'token-signing' has no version " +
                              std::to_string(request->version()));
    }
    response->set_name(request->name());
    response->set_version(it->first);
    response->set_algorithm(it->second.algorithm);
    response->set_der(it->second.der);
    return grpc::Status::OK;
  }

 private:
  struct Entry {
    std::string der;
    v1::KeyAlgorithm algorithm;
  };
  mutable absl::Mutex mu_;
  std::map<uint32_t, Entry> keys_ ABSL_GUARDED_BY(mu_);
  grpc::Status failure_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> requests_{0};
};

// authd's WatchRevocations: a snapshot of what was revoked when the stream
// opened (unless told to skip it), then each Publish()ed batch, until the
// client cancels or Close() is called.
class FakeAuth final : public v1::Auth::Service {
 public:
  explicit FakeAuth(std::vector<std::string> revoked = {})
      : revoked_(std::move(revoked)) {}

  void Publish(std::vector<std::string> token_ids) {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : token_ids) revoked_.push_back(id);
    batches_.push_back(std::move(token_ids));
  }
  // Ends the streams in flight (call before Shutdown, so it is quick).
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  void SkipSnapshot() {
    absl::MutexLock lock(&mu_);
    skip_snapshot_ = true;
  }
  int streams() const { return streams_.load(); }

  grpc::Status WatchRevocations(
      grpc::ServerContext* context, const v1::WatchRevocationsRequest*,
      grpc::ServerWriter<v1::WatchRevocationsResponse>* writer) override {
    streams_.fetch_add(1);
    size_t sent;
    v1::WatchRevocationsResponse first;
    {
      absl::MutexLock lock(&mu_);
      first.set_snapshot(!skip_snapshot_);
      for (const std::string& id : revoked_) Fill(id, first.add_revocations());
      sent = batches_.size();
    }
    if (!writer->Write(first)) return grpc::Status::OK;
    while (!context->IsCancelled()) {
      std::vector<std::vector<std::string>> due;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this, sent]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return closed_ || batches_.size() > sent;
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(20));
        if (closed_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye");
        for (; sent < batches_.size(); ++sent) due.push_back(batches_[sent]);
      }
      for (const auto& batch : due) {
        v1::WatchRevocationsResponse more;
        for (const std::string& id : batch) Fill(id, more.add_revocations());
        if (!writer->Write(more)) return grpc::Status::OK;
      }
    }
    return grpc::Status::OK;
  }

 private:
  static void Fill(const std::string& id, v1::Revocation* out) {
    out->set_token_id(id);
    out->set_expires_unix_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  }

  absl::Mutex mu_;
  std::vector<std::string> revoked_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> batches_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool skip_snapshot_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> streams_{0};
};

}  // namespace rustiq::auth::testing

#endif  // RUSTIQ_TESTS_UNIT_AUTH_TEST_UTIL_H_
