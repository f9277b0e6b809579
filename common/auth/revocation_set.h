// The token IDs that must no longer be accepted, each until the token would
// have expired anyway, and whether this copy of the list can be trusted now.
//
// authd is the source. Every other daemon holds a copy fed by a
// RevocationFollower, and the copy is "fresh" while the follower is in sync,
// and for `stale_after` after it lost authd: a short blip of authd does not
// turn everyone away, a long outage fails closed (a revocation made
// meanwhile would be missed). authd builds its set with always_fresh.
//
// Thread-safe; IsRevoked and Fresh take a reader lock only.
#ifndef RUSTIQ_COMMON_AUTH_REVOCATION_SET_H_
#define RUSTIQ_COMMON_AUTH_REVOCATION_SET_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace rustiq::auth {

struct Revocation {
  std::string token_id;
  absl::Time expires;  // the token's own expiry: forgotten after it
};

class RevocationSet {
 public:
  struct Options {
    // How long after losing authd the set still counts as fresh.
    absl::Duration stale_after = absl::Seconds(10);
    // Always fresh, from the start: for authd, which is the source.
    bool always_fresh = false;
  };

  // Where the set stands with respect to authd, for an error message.
  struct Freshness {
    bool fresh = false;
    bool ever_synced = false;
    // Since when authd has not been reachable; nullopt while connected (or
    // before any attempt to reach it).
    std::optional<absl::Time> unreachable_since;
  };

  RevocationSet();
  explicit RevocationSet(Options options);
  RevocationSet(const RevocationSet&) = delete;
  RevocationSet& operator=(const RevocationSet&) = delete;

  // The snapshot authd sends first: replaces everything known.
  void ReplaceAll(absl::Span<const Revocation> snapshot)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Revocations made since.
  void Add(absl::Span<const Revocation> revocations) ABSL_LOCKS_EXCLUDED(mu_);
  bool IsRevoked(absl::string_view token_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets revocations of tokens expired by `now` (they are refused for
  // their expiry anyway); returns how many.
  size_t Prune(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // In sync with authd as of `now` (after its snapshot).
  void MarkSynced(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // The stream from authd ended, or an attempt to reach it failed. Repeated
  // calls keep the first time.
  void MarkDisconnected(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Synced, and not disconnected for longer than stale_after.
  bool Fresh(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);
  Freshness FreshnessAt(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool FreshLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> revoked_ ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Time> disconnected_since_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_REVOCATION_SET_H_
