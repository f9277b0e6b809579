// Key uses, recorded without flooding the event log: each successful use
// (sign, verify, decrypt, seal, unseal) is counted per caller, key and
// operation, and every `window` the counts become one "key.used" event each
// (attributes key, operation, count, window_seconds; actor: the caller).
// A signing-heavy daemon thus costs the log a few events a minute, and
// every key use still shows who used which key, how often and when.
// Denials are not counted here: each one is an event of its own.
#ifndef RUSTIQ_SERVICES_KEYD_KEY_USE_COUNTER_H_
#define RUSTIQ_SERVICES_KEYD_KEY_USE_COUNTER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"

namespace rustiq::keyd {

class KeyUseCounter {
 public:
  // `sink` is not owned; may be null (nothing is recorded).
  KeyUseCounter(audit::SecurityEventSink* sink, absl::Duration window)
      : sink_(sink), window_(window), window_start_(absl::Now()) {}
  ~KeyUseCounter() { Flush(); }

  // Counts one use; records the window's counts once it has passed.
  void Count(absl::string_view caller, absl::string_view key,
             absl::string_view operation);
  // Records what is counted now (at a clean stop, or before zeroize).
  void Flush();

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  void FlushLocked(absl::Time now);

  audit::SecurityEventSink* const sink_;
  const absl::Duration window_;
  std::mutex mu_;
  std::map<Key, uint64_t> counts_;  // guarded by mu_
  absl::Time window_start_;         // guarded by mu_
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEY_USE_COUNTER_H_
