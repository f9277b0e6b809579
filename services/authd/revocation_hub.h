// The revoked tokens still in force, and their delivery: authd's own
// verifier learns of each revocation at once (`apply`), and every daemon
// follows them over Auth/WatchRevocations (a snapshot, then each new one as
// it happens), so that a logged-out or deleted person's token is refused
// everywhere within moments rather than at its expiry.
#ifndef RUSTIQ_SERVICES_AUTHD_REVOCATION_HUB_H_
#define RUSTIQ_SERVICES_AUTHD_REVOCATION_HUB_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rustiq/v1/auth.pb.h"
#include "services/authd/user_store.h"

namespace rustiq::authd {

class RevocationHub {
 public:
  using Apply = std::function<void(const std::vector<Revocation>&)>;
  // `apply` (may be empty) is called with every published batch, and first
  // with `active` (the store's revocations still in force).
  RevocationHub(std::vector<Revocation> active, Apply apply);

  void Publish(const std::vector<Revocation>& revoked);

  // Serves one watcher: `write` gets the snapshot, then each later batch;
  // returns when `write` fails, `cancelled` says so (checked every
  // `poll`), or Shutdown() was called.
  void Follow(
      const std::function<bool(const v1::WatchRevocationsResponse&)>& write,
      const std::function<bool()>& cancelled,
      absl::Duration poll = absl::Seconds(1));
  // Ends every Follow().
  void Shutdown();

  // Drops revocations of tokens that have expired anyway.
  void Prune(absl::Time now);
  size_t size() const;

 private:
  static void Fill(const Revocation& r, v1::Revocation* out);

  Apply apply_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  // (sequence, revocation), in sequence order.
  std::vector<std::pair<uint64_t, Revocation>> active_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_REVOCATION_HUB_H_
