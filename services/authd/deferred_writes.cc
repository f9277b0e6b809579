#include "services/authd/deferred_writes.h"

#include <utility>

namespace rustiq::authd {

DeferredWrites::~DeferredWrites() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void DeferredWrites::Post(std::function<void()> write) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(write));
  if (!worker_.joinable()) worker_ = std::thread([this] { Run(); });
}

void DeferredWrites::Run() {
  while (true) {
    std::function<void()> write;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](DeferredWrites* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return !self->queue_.empty() || self->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping, and everything ran
      write = std::move(queue_.front());
      queue_.pop_front();
    }
    write();
  }
}

}  // namespace rustiq::authd
