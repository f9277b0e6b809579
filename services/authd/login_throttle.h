// Slows down password guessing (ETSI EN 303 645 provision 5.1-5): per
// account name, an exponentially growing wait after each failed login and a
// lockout after a few; per source (the caller's mTLS client ID, e.g.
// "client/rustiqctl"), a growing wait once it has failed more than a free
// allowance, across every name it tries.
//
// Names are tracked as given, whether or not an account of that name
// exists: the throttle has no notion of existence (no method takes one), so
// its answers are the same for an unknown name and a known one and cannot
// reveal which accounts exist. The caller bounds the length of names and
// sources (auth.proto: names are at most 32 bytes).
//
// A source is delayed but never locked out: a client ID is shared by every
// person using that client (rustiqctl on the device), and a lockout per
// source would let one attacker lock every administrator out. The wait of a
// source is capped at source_max_delay instead.
//
// Memory is bounded: at most max_entries names and max_entries sources.
// When a new one must be tracked and the table is full, an entry whose wait
// is over goes first (the one over longest ago); if every entry is still
// waiting, the oldest one that is not locked goes; only if every entry is
// locked does the lockout that ends first go. The trade-off: a flood of
// distinct names (itself slowed down by the source's delay) can push out
// the short delay of some name, giving back at most a minute of waiting,
// but not a lockout, which is what bounds the guesses on an account. An
// entry with no lock whose last failure is forget_after old is forgotten.
//
// In memory only. The daemon persists the count and lockout of existing
// accounts (UserStore::SetFailures, from FailureResult) and seeds them back
// with Restore() at start, so a lockout survives a restart.
//
// Thread-safe. Time is injected: every call takes `now`. Check() and
// RecordFailure() are separate calls around the (slow) password check, so
// attempts admitted at the same moment are all evaluated; each of their
// failures still counts, so at most lockout_failures plus the attempts in
// flight are evaluated before a name is locked.
#ifndef RUSTIQ_SERVICES_AUTHD_LOGIN_THROTTLE_H_
#define RUSTIQ_SERVICES_AUTHD_LOGIN_THROTTLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rustiq::authd {

struct ThrottleOptions {
  // The k-th consecutive failure of a name delays its next attempt by
  // min(base_delay * 2^(k-1), max_delay).
  absl::Duration base_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Seconds(60);
  // The lockout_failures-th consecutive failure (and every later one)
  // locks the name for `lockout`.
  uint32_t lockout_failures = 5;
  absl::Duration lockout = absl::Minutes(15);
  // The k-th failure of a source beyond source_free_failures delays it by
  // min(base_delay * 2^(k-source_free_failures-1), source_max_delay).
  uint32_t source_free_failures = 10;
  absl::Duration source_max_delay = absl::Seconds(30);
  // A name or source whose last failure is this old, and which is not
  // locked, starts again from zero.
  absl::Duration forget_after = absl::Hours(1);
  // At most this many names, and this many sources, are tracked.
  size_t max_entries = 10000;
};

// Why Check() refused an attempt.
enum class ThrottleReason {
  kAccountDelayed,  // the name failed recently: wait before the next try
  kAccountLocked,   // the name is locked out
  kSourceDelayed,   // the source failed too often, whatever the name
};

// The wait behind a refusal, as numbers for the caller's event.
struct RetryAfter {
  ThrottleReason reason = ThrottleReason::kAccountDelayed;
  absl::Duration wait = absl::ZeroDuration();  // from `now` to `at`
  absl::Time at = absl::InfinitePast();        // first moment allowed
};

// What a failed login did to the name and the source.
struct FailureResult {
  uint32_t failures = 0;    // consecutive failures of the name, this included
  bool locked_now = false;  // this failure locked the name (it was not)
  // When the name may be tried next (the end of the lockout when locked).
  absl::Time until = absl::InfinitePast();
  // The end of the name's lockout; InfinitePast when it is not locked. The
  // value to persist with `failures` (UserStore::SetFailures).
  absl::Time locked_until = absl::InfinitePast();
  uint32_t source_failures = 0;  // recent failures of the source
  // When the source may try again; InfinitePast when it is not delayed.
  absl::Time source_until = absl::InfinitePast();
};

class LoginThrottle {
 public:
  explicit LoginThrottle(const ThrottleOptions& options = {});
  ~LoginThrottle();
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  // OK when an attempt on `name` from `source` may be evaluated now;
  // otherwise RESOURCE_EXHAUSTED saying how long to wait, and the wait in
  // `*retry_after` (when not null). A refused attempt must not be
  // evaluated, and it does not extend the wait.
  absl::Status Check(absl::string_view name, absl::string_view source,
                     absl::Time now, RetryAfter* retry_after = nullptr);
  // Records a wrong password (or unknown name: the caller does the same for
  // both) for an attempt Check() allowed.
  FailureResult RecordFailure(absl::string_view name, absl::string_view source,
                              absl::Time now);
  // A successful login: the name starts again from zero, and the source's
  // count goes down by one (a shared client that mostly succeeds does not
  // accumulate a delay, yet one success does not wipe an attacker's tally).
  void RecordSuccess(absl::string_view name, absl::string_view source,
                     absl::Time now);
  // Seeds the state of an existing account from the store at start:
  // `failures` consecutive failures, locked until `locked_until`
  // (InfinitePast: not locked). The delay of the last failure applies again
  // from `now`: a restart gives no free attempt.
  void Restore(absl::string_view name, uint32_t failures,
               absl::Time locked_until, absl::Time now);
  // An admin's reset: the name starts again from zero, lockout lifted.
  void Clear(absl::string_view name);

  // What is tracked (for tests and metrics).
  size_t TrackedNames() const;
  size_t TrackedSources() const;
  // Consecutive failures of `name` as of `now` (0 when forgotten).
  uint32_t Failures(absl::string_view name, absl::Time now) const;

  const ThrottleOptions& options() const { return options_; }

 private:
  class FailureTable;

  const ThrottleOptions options_;
  mutable absl::Mutex mu_;
  const std::unique_ptr<FailureTable> names_ ABSL_PT_GUARDED_BY(mu_);
  const std::unique_ptr<FailureTable> sources_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_LOGIN_THROTTLE_H_
