// supervisord's health probe (GrpcHealthProbe) against a real
// rustiq-testserver over mTLS as svc/supervisord: a daemon is unreachable
// at once while it has no socket, serving as soon as it listens, and again
// after a restart on a new socket; a stopped one fails at the deadline.
#include <signal.h>
#include <sys/wait.h>

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/supervisord/health_probe.h"
#include "tests/support/test_device.h"

namespace rustiq::supervisord {
namespace {

using testing::ServerProcess;
using testing::TestDevice;

// Long enough that a check which waits for it is unmistakable.
constexpr absl::Duration kLongDeadline = absl::Seconds(30);
// Failing at once takes milliseconds; waiting for the daemon took seconds
// (gRPC 1.51, wait-for-ready: 3.8 s per check here).
constexpr absl::Duration kNoWait = absl::Milliseconds(1500);

// Whether the group stop of the child `pid` is complete. kill(SIGSTOP)
// returns before that: the kernel wakes one thread, which then stops the
// others, and on a loaded machine another thread can still answer a call in
// between (CI saw one answered 3.6 ms after the kill). The parent is told
// of the stop only once every thread has stopped; WNOWAIT leaves the report
// for anyone else who waits.
bool Stopped(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info,
                WSTOPPED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

bool WaitStopped(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Stopped(pid)) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

class HealthProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_unique<TestDevice>();
    probe_ = std::make_unique<GrpcHealthProbe>(
        device_->ClientFor("svc/supervisord"));
  }

  // The probe's verdict and how long it took.
  Health CheckTimed(absl::Duration deadline, absl::Duration* took) {
    const absl::Time start = absl::Now();
    Health h = probe_->Check("testserver", deadline);
    *took = absl::Now() - start;
    return h;
  }

  std::unique_ptr<TestDevice> device_;
  std::unique_ptr<GrpcHealthProbe> probe_;
};

TEST_F(HealthProbeTest, NoSocketIsUnreachableWithoutWaitingForTheDeadline) {
  absl::Duration took;
  EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kUnreachable);
  EXPECT_LT(took, kNoWait);
  // And again, on the channel the first check left behind.
  EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kUnreachable);
  EXPECT_LT(took, kNoWait);
}

TEST_F(HealthProbeTest, ServingOnceItListensAndAgainAfterARestart) {
  absl::Duration took;
  // Probed before it exists, as supervisord does while a daemon starts.
  ASSERT_EQ(CheckTimed(kLongDeadline, &took), Health::kUnreachable);
  {
    ServerProcess server(*device_);
    ASSERT_TRUE(server.WaitServing(absl::Seconds(15))) << server.Log();
    EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kServing);
    kill(server.pid(), SIGKILL);
    server.Stop();
  }
  // Gone: its socket file is left behind, nobody accepts on it.
  EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kUnreachable);
  EXPECT_LT(took, kNoWait);
  ServerProcess again(*device_);
  ASSERT_TRUE(again.WaitServing(absl::Seconds(15))) << again.Log();
  EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kServing);
}

TEST_F(HealthProbeTest, AStoppedDaemonFailsAtTheDeadlineAndServesWhenResumed) {
  ServerProcess server(*device_);
  ASSERT_TRUE(server.WaitServing(absl::Seconds(15))) << server.Log();
  absl::Duration took;
  ASSERT_EQ(CheckTimed(kLongDeadline, &took), Health::kServing);
  ASSERT_EQ(kill(server.pid(), SIGSTOP), 0);
  ASSERT_TRUE(WaitStopped(server.pid(), absl::Seconds(10)));
  EXPECT_EQ(CheckTimed(absl::Milliseconds(300), &took), Health::kUnreachable);
  EXPECT_GE(took, absl::Milliseconds(300));
  ASSERT_EQ(kill(server.pid(), SIGCONT), 0);
  EXPECT_EQ(CheckTimed(kLongDeadline, &took), Health::kServing);
}

}  // namespace
}  // namespace rustiq::supervisord
