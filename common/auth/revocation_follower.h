// Keeps a RevocationSet in step with authd: one thread holds a
// rustiq.v1.Auth/WatchRevocations stream open, takes its first message (the
// snapshot) with ReplaceAll + MarkSynced and every later one with Add, and
// when the stream ends marks the set disconnected and calls again after an
// exponential back-off with jitter (100 ms doubling up to 5 s by default;
// back to 100 ms once a snapshot arrives).
#ifndef RUSTIQ_COMMON_AUTH_REVOCATION_FOLLOWER_H_
#define RUSTIQ_COMMON_AUTH_REVOCATION_FOLLOWER_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/revocation_set.h"
#include "rustiq/v1/auth.grpc.pb.h"

namespace rustiq::auth {

class RevocationFollower {
 public:
  struct Options {
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(1);
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  // `authd`: a channel to authd presenting this daemon's identity (shared).
  // `set` is not owned and must outlive the follower.
  RevocationFollower(std::shared_ptr<grpc::Channel> authd, RevocationSet* set);
  RevocationFollower(std::shared_ptr<grpc::Channel> authd, RevocationSet* set,
                     Options options);
  ~RevocationFollower();  // Stop()s
  RevocationFollower(const RevocationFollower&) = delete;
  RevocationFollower& operator=(const RevocationFollower&) = delete;

  // Starts the thread; a second call does nothing.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the stream in flight or the back-off wait and joins the thread;
  // returns promptly either way. Idempotent; the follower cannot be
  // restarted.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // One WatchRevocations call, until it ends; true when a snapshot arrived.
  bool FollowOnce(grpc::Status* ended);
  // Sleeps `d`, or less if Stop() is called; false when stopping.
  bool WaitFor(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Auth::Stub> stub_;
  RevocationSet* const set_;
  const Options options_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The call in flight, for Stop() to cancel.
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_REVOCATION_FOLLOWER_H_
