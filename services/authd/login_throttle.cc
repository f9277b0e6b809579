#include "services/authd/login_throttle.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/container/node_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace rustiq::authd {
namespace {

// At most this many forgotten entries are dropped per insertion: enough to
// keep up with the insertions themselves, without a long pause on one call.
constexpr int kSweepPerInsert = 4;

// min(base * 2^(k-1), cap) for k >= 1, without overflowing for a large k.
absl::Duration Backoff(absl::Duration base, uint32_t k, absl::Duration cap) {
  absl::Duration d = base;
  for (uint32_t i = 1; i < k && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

// "8 s" under two minutes, else "14 min"; rounded up, so that trying again
// after the time said is never refused.
std::string FormatWait(absl::Duration wait) {
  int64_t seconds = absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1)));
  if (seconds < 120) return absl::StrCat(seconds, " s");
  return absl::StrCat((seconds + 59) / 60, " min");
}

}  // namespace

// The failures of one kind of key (names or sources), bounded in number.
// Not thread-safe: LoginThrottle's mutex guards it.
//
// Two ordered indexes make every operation O(log n) even when full and
// under a flood: by the end of each entry's wait (to find one whose wait is
// over, or whose lockout ends first), and by the order of last update of
// the entries that are not locked (to forget and to evict the oldest).
class LoginThrottle::FailureTable {
 public:
  struct Entry {
    uint32_t failures = 0;
    absl::Time last_failure = absl::InfinitePast();
    absl::Time next_allowed = absl::InfinitePast();  // end of the delay
    absl::Time locked_until = absl::InfinitePast();  // end of the lockout
  };

  FailureTable(size_t max_entries, absl::Duration forget_after)
      : max_entries_(std::max<size_t>(max_entries, 1)),
        forget_after_(forget_after) {}

  // The state of `key` at `now`: empty when untracked or forgotten.
  Entry Peek(absl::string_view key, absl::Time now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || Forgotten(it->second.entry, now)) return {};
    return it->second.entry;
  }

  // Stores the state of `key`, making room first if it is new.
  void Put(absl::string_view key, const Entry& entry, absl::Time now) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      SweepForgotten(now);
      if (entries_.size() >= max_entries_) EvictOne(now);
      it = entries_.emplace(std::string(key), Slot{}).first;
    } else {
      Unindex(it->second);
    }
    it->second.entry = entry;
    Index(&it->first, &it->second, now);
  }

  void Erase(absl::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    Unindex(it->second);
    entries_.erase(it);
  }

  size_t size() const { return entries_.size(); }

 private:
  // Where an entry sits in the indexes. `seq` orders updates and makes
  // every index key unique.
  struct Slot {
    Entry entry;
    uint64_t seq = 0;
    absl::Time wait_end = absl::InfinitePast();
    bool locked = false;  // at the last update: not in by_age_
  };
  struct WaitKey {
    absl::Time wait_end;
    uint64_t seq;
    const std::string* key;
    bool operator<(const WaitKey& o) const {
      return wait_end != o.wait_end ? wait_end < o.wait_end : seq < o.seq;
    }
  };

  bool Forgotten(const Entry& e, absl::Time now) const {
    return e.locked_until <= now && e.last_failure + forget_after_ <= now;
  }

  void Index(const std::string* key, Slot* slot, absl::Time now) {
    slot->seq = next_seq_++;
    slot->wait_end =
        std::max(slot->entry.next_allowed, slot->entry.locked_until);
    slot->locked = slot->entry.locked_until > now;
    by_wait_end_.insert(WaitKey{slot->wait_end, slot->seq, key});
    if (!slot->locked) by_age_.emplace(slot->seq, key);
  }

  void Unindex(const Slot& slot) {
    by_wait_end_.erase(WaitKey{slot.wait_end, slot.seq, nullptr});
    if (!slot.locked) by_age_.erase(slot.seq);
  }

  // The oldest unlocked entries first, so the forgotten ones are at the
  // front (an entry's age follows its last failure).
  void SweepForgotten(absl::Time now) {
    for (int i = 0; i < kSweepPerInsert && !by_age_.empty(); ++i) {
      const std::string* key = by_age_.begin()->second;
      if (!Forgotten(entries_.find(*key)->second.entry, now)) return;
      Erase(*key);
    }
  }

  // Makes room for one entry: one whose wait is over (the longest over
  // first); else the oldest that is not locked; else the lockout that ends
  // first.
  void EvictOne(absl::Time now) {
    const WaitKey& soonest = *by_wait_end_.begin();
    if (soonest.wait_end <= now || by_age_.empty()) {
      Erase(*soonest.key);
    } else {
      Erase(*by_age_.begin()->second);
    }
  }

  const size_t max_entries_;
  const absl::Duration forget_after_;
  // node_hash_map: the indexes point at its keys, which must not move.
  absl::node_hash_map<std::string, Slot> entries_;
  std::set<WaitKey> by_wait_end_;
  std::map<uint64_t, const std::string*> by_age_;  // unlocked entries only
  uint64_t next_seq_ = 0;
};

LoginThrottle::LoginThrottle(const ThrottleOptions& options)
    : options_(options),
      names_(std::make_unique<FailureTable>(options.max_entries,
                                            options.forget_after)),
      sources_(std::make_unique<FailureTable>(options.max_entries,
                                              options.forget_after)) {}

LoginThrottle::~LoginThrottle() = default;

absl::Status LoginThrottle::Check(absl::string_view name,
                                  absl::string_view source, absl::Time now,
                                  RetryAfter* retry_after) {
  absl::MutexLock lock(&mu_);
  const FailureTable::Entry n = names_->Peek(name, now);
  const FailureTable::Entry s = sources_->Peek(source, now);
  // Of every wait that applies, the one that ends last is reported: an
  // answer "try again in 2 s" must not be followed by another refusal.
  RetryAfter worst;
  bool refused = false;
  auto consider = [&](ThrottleReason reason, absl::Time at) {
    if (at <= now || (refused && at <= worst.at)) return;
    refused = true;
    worst.reason = reason;
    worst.at = at;
  };
  consider(ThrottleReason::kAccountLocked, n.locked_until);
  consider(ThrottleReason::kAccountDelayed, n.next_allowed);
  consider(ThrottleReason::kSourceDelayed, s.next_allowed);
  if (!refused) return absl::OkStatus();
  worst.wait = worst.at - now;
  if (retry_after != nullptr) *retry_after = worst;
  const std::string wait = FormatWait(worst.wait);
  switch (worst.reason) {
    case ThrottleReason::kAccountLocked:
      return absl::ResourceExhaustedError(
          absl::StrCat("this account is locked after ", n.failures,
                       " failed logins; try again in ", wait,
                       " or ask an admin to reset it"));
    case ThrottleReason::kAccountDelayed:
      return absl::ResourceExhaustedError(absl::StrCat(
          "too many failed logins for this account; try again in ", wait));
    case ThrottleReason::kSourceDelayed:
      break;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("too many failed logins from ", absl::CHexEscape(source),
                   "; try again in ", wait));
}

FailureResult LoginThrottle::RecordFailure(absl::string_view name,
                                           absl::string_view source,
                                           absl::Time now) {
  absl::MutexLock lock(&mu_);
  FailureResult result;

  FailureTable::Entry n = names_->Peek(name, now);
  const bool was_locked = n.locked_until > now;
  if (n.failures < std::numeric_limits<uint32_t>::max()) ++n.failures;
  n.last_failure = now;
  n.next_allowed =
      now + Backoff(options_.base_delay, n.failures, options_.max_delay);
  // Every failure from the lockout_failures-th on locks again: once past
  // the threshold, a name gets one guess per lockout period, not a new
  // round of cheap ones. (0 disables the lockout.)
  if (options_.lockout_failures > 0 &&
      n.failures >= options_.lockout_failures) {
    n.locked_until = std::max(n.locked_until, now + options_.lockout);
  }
  names_->Put(name, n, now);
  result.failures = n.failures;
  result.locked_now = !was_locked && n.locked_until > now;
  result.until = std::max(n.next_allowed, n.locked_until);
  result.locked_until =
      n.locked_until > now ? n.locked_until : absl::InfinitePast();

  FailureTable::Entry s = sources_->Peek(source, now);
  if (s.failures < std::numeric_limits<uint32_t>::max()) ++s.failures;
  s.last_failure = now;
  if (s.failures > options_.source_free_failures) {
    s.next_allowed = now + Backoff(options_.base_delay,
                                   s.failures - options_.source_free_failures,
                                   options_.source_max_delay);
    result.source_until = s.next_allowed;
  }
  sources_->Put(source, s, now);
  result.source_failures = s.failures;
  return result;
}

void LoginThrottle::RecordSuccess(absl::string_view name,
                                  absl::string_view source, absl::Time now) {
  absl::MutexLock lock(&mu_);
  names_->Erase(name);
  FailureTable::Entry s = sources_->Peek(source, now);
  if (s.failures <= 1) {
    sources_->Erase(source);
    return;
  }
  --s.failures;
  sources_->Put(source, s, now);
}

void LoginThrottle::Restore(absl::string_view name, uint32_t failures,
                            absl::Time locked_until, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (failures == 0 && locked_until <= now) {
    names_->Erase(name);
    return;
  }
  FailureTable::Entry n;
  n.failures = failures;
  // Counted as of now: the time of the last failure is not stored, and
  // forgetting it early would hand out free attempts after a restart.
  n.last_failure = now;
  if (failures > 0) {
    n.next_allowed =
        now + Backoff(options_.base_delay, failures, options_.max_delay);
  }
  n.locked_until = locked_until;
  names_->Put(name, n, now);
}

void LoginThrottle::Clear(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  names_->Erase(name);
}

size_t LoginThrottle::TrackedNames() const {
  absl::MutexLock lock(&mu_);
  return names_->size();
}

size_t LoginThrottle::TrackedSources() const {
  absl::MutexLock lock(&mu_);
  return sources_->size();
}

uint32_t LoginThrottle::Failures(absl::string_view name, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return names_->Peek(name, now).failures;
}

}  // namespace rustiq::authd
