// The TokenKeySource of every daemon but keyd: Keys/GetPublicKey
// {name: "token-signing", version} over a channel to keyd.
//
// A version's key never changes, so each is kept for the life of the
// process. A failed fetch is remembered for a second (keyd being down is
// not asked again by every call in flight), and fetches are made one at a
// time, so a burst of first calls costs keyd one request.
#ifndef RUSTIQ_COMMON_AUTH_KEYD_TOKEN_KEY_SOURCE_H_
#define RUSTIQ_COMMON_AUTH_KEYD_TOKEN_KEY_SOURCE_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/public_key_source.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::auth {

class KeydTokenKeySource final : public TokenKeySource {
 public:
  struct Options {
    absl::Duration deadline = absl::Seconds(2);  // of each GetPublicKey
    // How long a failed fetch is answered from memory.
    absl::Duration retry_after = absl::Seconds(1);
    std::function<absl::Time()> now = [] { return absl::Now(); };
    // In the background (StartBackground): how often the current version
    // is asked again, so that a rotation is known before tokens name it.
    absl::Duration refresh_every = absl::Seconds(30);
  };

  // `keyd`: a channel to keyd presenting this daemon's identity (shared).
  explicit KeydTokenKeySource(std::shared_ptr<grpc::Channel> keyd);
  KeydTokenKeySource(std::shared_ptr<grpc::Channel> keyd, Options options);

  // UNAUTHENTICATED when keyd has no such version (NOT_FOUND) or `version`
  // is 0; UNAVAILABLE "cannot fetch the token-signing public key from keyd:
  // ..." for every other failure (keyd down, policy, a key that is not
  // Ed25519).
  absl::StatusOr<SharedPublicKey> Key(uint32_t version) override;

  // From now on keyd is asked from a thread of this source's own: the
  // current version at once and every `refresh_every`, and any version a
  // token names that is not known yet. Key() then never calls keyd itself:
  // it runs on gRPC's transport threads (the enforcement point), which must
  // not wait on another RPC. A version still being fetched is answered
  // UNAVAILABLE ("retry in a moment"). Without it (tests), Key() fetches
  // inline.
  void StartBackground() ABSL_LOCKS_EXCLUDED(bg_mu_);
  // Stops the thread; returns promptly. Idempotent.
  void StopBackground() ABSL_LOCKS_EXCLUDED(bg_mu_);
  ~KeydTokenKeySource() override;

 private:
  void RunBackground() ABSL_LOCKS_EXCLUDED(bg_mu_);
  // From memory: the key, a remembered failure, or a null key when keyd
  // must be asked.
  absl::StatusOr<SharedPublicKey> Remembered(uint32_t version, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Version 0: the current one, whose number goes to `*got_version`.
  absl::StatusOr<SharedPublicKey> Fetch(uint32_t version,
                                        uint32_t* got_version = nullptr);
  void Remember(uint32_t version, const absl::StatusOr<SharedPublicKey>& got,
                absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  struct Failure {
    absl::Status status;
    absl::Time until;
  };

  std::unique_ptr<v1::Keys::Stub> stub_;
  const Options options_;
  absl::Mutex fetch_mu_;  // held across one fetch; taken before mu_
  absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, SharedPublicKey> keys_ ABSL_GUARDED_BY(mu_);
  // Versions keyd said it does not have. Bounded: the versions come from
  // unauthenticated footers.
  absl::flat_hash_map<uint32_t, Failure> unknown_versions_ ABSL_GUARDED_BY(mu_);
  // The last failure to reach keyd, for any version.
  Failure unreachable_ ABSL_GUARDED_BY(mu_){absl::OkStatus(),
                                            absl::InfinitePast()};

  absl::Mutex bg_mu_;
  bool background_ ABSL_GUARDED_BY(bg_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(bg_mu_) = false;
  // Versions tokens named that are not known yet; bounded (footers are
  // unauthenticated).
  absl::flat_hash_set<uint32_t> wanted_ ABSL_GUARDED_BY(bg_mu_);
  std::thread worker_;
};

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_KEYD_TOKEN_KEY_SOURCE_H_
