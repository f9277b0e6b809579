// daemon::UseReleaseMutexes(): the daemons run without Abseil's deadlock
// detection, which Debian's Abseil (built without NDEBUG) turns on and
// which costs every absl::Mutex lock a walk of the lock graph.
#include "absl/synchronization/mutex.h"
#include "common/daemon/daemon.h"
#include "gtest/gtest.h"

namespace rustiq::daemon {
namespace {

// Takes two mutexes in one order, then in the other: a potential deadlock
// that detection reports (and, in kAbort mode, aborts on).
void LockInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
  }
  {
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
  }
}

TEST(DaemonMutexDeathTest, DetectionInAbortModeCatchesTheInversion) {
  // Shows that the check below can fail: with detection on, the inversion
  // aborts the process.
  EXPECT_DEATH(
      {
        absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);
        LockInBothOrders();
      },
      "Potential Mutex deadlock");
}

TEST(DaemonMutexDeathTest, ReleaseMutexesDoNotWalkTheLockGraph) {
  EXPECT_EXIT(
      {
        absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);
        UseReleaseMutexes();
        LockInBothOrders();
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace rustiq::daemon
