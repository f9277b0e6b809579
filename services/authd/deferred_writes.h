// Store writes taken off a login's answer: a failed login of an existing
// account persists its failure count (so that a lockout survives a
// restart), which costs a durable SQLite commit, while a failed login of an
// unknown account writes nothing. Done inline, that commit alone would tell
// an attacker which accounts exist. One worker thread runs the writes in
// order; the in-memory throttle decides meanwhile, so nothing waits for
// them.
#ifndef RUSTIQ_SERVICES_AUTHD_DEFERRED_WRITES_H_
#define RUSTIQ_SERVICES_AUTHD_DEFERRED_WRITES_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rustiq::authd {

class DeferredWrites {
 public:
  DeferredWrites() = default;
  // Runs what is queued, then stops the worker.
  ~DeferredWrites();
  DeferredWrites(const DeferredWrites&) = delete;
  DeferredWrites& operator=(const DeferredWrites&) = delete;

  // Queues `write`; the worker starts with the first one.
  void Post(std::function<void()> write);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_DEFERRED_WRITES_H_
