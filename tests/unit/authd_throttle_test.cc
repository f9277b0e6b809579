// Unit tests of rustiq-authd's brute-force throttle (login_throttle.h): the
// exponential delay and lockout per name, the delay per source without a
// lockout, and the bounded memory under a flood. Time is injected.
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authd/login_throttle.h"

namespace rustiq::authd {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
constexpr char kSource[] = "client/rustiqctl";

// The throttle's API has no input saying whether an account exists: it
// cannot answer differently for an unknown name than for a known one.
static_assert(std::is_same_v<decltype(&LoginThrottle::Check),
                             absl::Status (LoginThrottle::*)(
                                 absl::string_view, absl::string_view,
                                 absl::Time, RetryAfter*)>);
static_assert(
    std::is_same_v<decltype(&LoginThrottle::RecordFailure),
                   FailureResult (LoginThrottle::*)(
                       absl::string_view, absl::string_view, absl::Time)>);

TEST(AuthdThrottle, FreshNameIsAllowed) {
  LoginThrottle throttle;
  EXPECT_TRUE(throttle.Check("alice", kSource, kT0).ok());
}

TEST(AuthdThrottle, WaitsDoubleAfterEachFailure) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  const absl::Duration expected[] = {absl::Seconds(1), absl::Seconds(2),
                                     absl::Seconds(4), absl::Seconds(8)};
  for (absl::Duration wait : expected) {
    ASSERT_TRUE(throttle.Check("alice", kSource, now).ok());
    FailureResult r = throttle.RecordFailure("alice", kSource, now);
    EXPECT_EQ(r.until, now + wait);
    EXPECT_FALSE(r.locked_now);
    EXPECT_EQ(r.locked_until, absl::InfinitePast());
    RetryAfter retry;
    absl::Status s = throttle.Check("alice", kSource, now, &retry);
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(s.message(),
              absl::StrCat("too many failed logins for this account; try "
                           "again in ",
                           absl::ToInt64Seconds(wait), " s"));
    EXPECT_EQ(retry.reason, ThrottleReason::kAccountDelayed);
    EXPECT_EQ(retry.wait, wait);
    EXPECT_EQ(retry.at, now + wait);
    // Just before the end still refused; at the end allowed.
    EXPECT_FALSE(
        throttle.Check("alice", kSource, now + wait - absl::Milliseconds(1))
            .ok());
    now += wait;
  }
  EXPECT_EQ(throttle.Failures("alice", now), 4u);
}

TEST(AuthdThrottle, WaitIsCappedAtMaxDelay) {
  ThrottleOptions options;
  options.lockout_failures = 0;  // no lockout: see the cap alone
  LoginThrottle throttle(options);
  absl::Time now = kT0;
  std::vector<int64_t> waits;
  for (int i = 0; i < 9; ++i) {
    FailureResult r = throttle.RecordFailure("alice", kSource, now);
    waits.push_back(absl::ToInt64Seconds(r.until - now));
    now = r.until;
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 60, 60, 60}));
}

TEST(AuthdThrottle, RefusedAttemptsDoNotExtendTheWait) {
  LoginThrottle throttle;
  FailureResult r = throttle.RecordFailure("alice", kSource, kT0);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(
        throttle.Check("alice", kSource, kT0 + absl::Milliseconds(i)).ok());
  }
  EXPECT_TRUE(throttle.Check("alice", kSource, r.until).ok());
  EXPECT_EQ(throttle.Failures("alice", r.until), 1u);
}

TEST(AuthdThrottle, FifthFailureLocksUntilTheLockoutEnds) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  FailureResult r;
  for (int i = 0; i < 4; ++i) {
    r = throttle.RecordFailure("alice", kSource, now);
    EXPECT_FALSE(r.locked_now);
    now = r.until;
  }
  r = throttle.RecordFailure("alice", kSource, now);
  EXPECT_TRUE(r.locked_now);
  EXPECT_EQ(r.failures, 5u);
  EXPECT_EQ(r.until, now + absl::Minutes(15));
  EXPECT_EQ(r.locked_until, now + absl::Minutes(15));

  RetryAfter retry;
  absl::Status s =
      throttle.Check("alice", kSource, now + absl::Minutes(1), &retry);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "this account is locked after 5 failed logins; try again in 14 "
            "min or ask an admin to reset it");
  EXPECT_EQ(retry.reason, ThrottleReason::kAccountLocked);
  EXPECT_EQ(retry.wait, absl::Minutes(14));
  EXPECT_FALSE(
      throttle.Check("alice", kSource, r.locked_until - absl::Seconds(1)).ok());
  EXPECT_TRUE(throttle.Check("alice", kSource, r.locked_until).ok());

  // Past the threshold every failure locks again: one guess per lockout.
  now = r.locked_until;
  r = throttle.RecordFailure("alice", kSource, now);
  EXPECT_TRUE(r.locked_now);
  EXPECT_EQ(r.failures, 6u);
  EXPECT_EQ(r.locked_until, now + absl::Minutes(15));
}

// Each attempt on an unknown name and on a known one gets the same answer;
// "known" here is an account the daemon restored with no failures.
TEST(AuthdThrottle, UnknownAndKnownNamesBehaveIdentically) {
  LoginThrottle known_throttle;
  LoginThrottle unknown_throttle;
  known_throttle.Restore("alice", 0, absl::InfinitePast(), kT0);
  absl::Time now = kT0;
  for (int i = 0; i < 7; ++i) {
    absl::Status a = known_throttle.Check("alice", kSource, now);
    absl::Status b = unknown_throttle.Check("mallory", kSource, now);
    EXPECT_EQ(a, b);
    FailureResult ra = known_throttle.RecordFailure("alice", kSource, now);
    FailureResult rb = unknown_throttle.RecordFailure("mallory", kSource, now);
    EXPECT_EQ(ra.failures, rb.failures);
    EXPECT_EQ(ra.until, rb.until);
    EXPECT_EQ(ra.locked_now, rb.locked_now);
    EXPECT_EQ(ra.locked_until, rb.locked_until);
    RetryAfter wa, wb;
    EXPECT_EQ(known_throttle.Check("alice", kSource, now, &wa),
              unknown_throttle.Check("mallory", kSource, now, &wb));
    EXPECT_EQ(wa.wait, wb.wait);
    now = ra.until;
  }
}

TEST(AuthdThrottle, SourceIsDelayedAfterItsFreeFailures) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  // Ten failures on ten names: free for the source.
  for (int i = 0; i < 10; ++i) {
    FailureResult r =
        throttle.RecordFailure(absl::StrCat("user", i), "client/x", now);
    EXPECT_EQ(r.source_failures, static_cast<uint32_t>(i + 1));
    EXPECT_EQ(r.source_until, absl::InfinitePast());
  }
  EXPECT_TRUE(throttle.Check("fresh", "client/x", now).ok());
  FailureResult r = throttle.RecordFailure("user10", "client/x", now);
  EXPECT_EQ(r.source_until, now + absl::Seconds(1));

  RetryAfter retry;
  absl::Status s = throttle.Check("fresh", "client/x", now, &retry);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "too many failed logins from client/x; try again in 1 s");
  EXPECT_EQ(retry.reason, ThrottleReason::kSourceDelayed);
  EXPECT_EQ(retry.wait, absl::Seconds(1));
  // Another client is not slowed down by this one.
  EXPECT_TRUE(throttle.Check("fresh", "client/y", now).ok());
}

TEST(AuthdThrottle, SourceDelayIsCappedAndNeverALockout) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  std::vector<int64_t> waits;
  for (int i = 0; i < 200; ++i) {
    const std::string name = absl::StrCat("user", i);
    ASSERT_TRUE(throttle.Check(name, "client/x", now).ok()) << i;
    FailureResult r = throttle.RecordFailure(name, "client/x", now);
    if (r.source_until != absl::InfinitePast()) {
      waits.push_back(absl::ToInt64Seconds(r.source_until - now));
      now = r.source_until;
    }
  }
  ASSERT_EQ(waits.size(), 190u);
  EXPECT_EQ(std::vector<int64_t>(waits.begin(), waits.begin() + 7),
            (std::vector<int64_t>{1, 2, 4, 8, 16, 30, 30}));
  EXPECT_EQ(waits.back(), 30);
  // After at most source_max_delay the shared client may try again.
  EXPECT_TRUE(throttle.Check("admin", "client/x", now).ok());
}

TEST(AuthdThrottle, TheLongestWaitIsReported) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  for (int i = 0; i < 15; ++i) {
    throttle.RecordFailure(absl::StrCat("user", i), "client/x", now);
  }
  // The source's 15th failure: 16 s; "user14"'s own wait is 1 s.
  RetryAfter retry;
  EXPECT_FALSE(throttle.Check("user14", "client/x", now, &retry).ok());
  EXPECT_EQ(retry.reason, ThrottleReason::kSourceDelayed);
  EXPECT_EQ(retry.wait, absl::Seconds(16));
}

TEST(AuthdThrottle, SuccessResetsTheNameAndLowersTheSource) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  for (int i = 0; i < 3; ++i) {
    now = throttle.RecordFailure("alice", kSource, now).until;
  }
  throttle.RecordSuccess("alice", kSource, now);
  EXPECT_EQ(throttle.Failures("alice", now), 0u);
  EXPECT_TRUE(throttle.Check("alice", kSource, now).ok());
  EXPECT_EQ(throttle.RecordFailure("alice", kSource, now).until,
            now + absl::Seconds(1));

  // The source: 11 failures (one delayed), a success takes one off.
  LoginThrottle other;
  for (int i = 0; i < 11; ++i) {
    other.RecordFailure(absl::StrCat("u", i), "client/x", kT0);
  }
  absl::Time later = kT0 + absl::Seconds(1);
  other.RecordSuccess("bob", "client/x", later);
  FailureResult r = other.RecordFailure("u99", "client/x", later);
  EXPECT_EQ(r.source_failures, 11u);
  EXPECT_EQ(r.source_until, later + absl::Seconds(1));
}

TEST(AuthdThrottle, RestoreKeepsALockoutAcrossARestart) {
  LoginThrottle throttle;
  const absl::Time locked_until = kT0 + absl::Minutes(10);
  throttle.Restore("alice", 5, locked_until, kT0);
  RetryAfter retry;
  absl::Status s = throttle.Check("alice", kSource, kT0, &retry);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("locked after 5 failed logins"));
  EXPECT_EQ(retry.at, locked_until);
  EXPECT_TRUE(throttle.Check("alice", kSource, locked_until).ok());

  // Failures without a lockout: the delay of the last one applies again.
  throttle.Restore("bob", 3, absl::InfinitePast(), kT0);
  EXPECT_FALSE(throttle.Check("bob", kSource, kT0, &retry).ok());
  EXPECT_EQ(retry.wait, absl::Seconds(4));
  EXPECT_EQ(
      throttle.RecordFailure("bob", kSource, kT0 + absl::Seconds(4)).failures,
      4u);
}

TEST(AuthdThrottle, ClearLiftsALockout) {
  LoginThrottle throttle;
  throttle.Restore("alice", 7, kT0 + absl::Minutes(15), kT0);
  throttle.Clear("alice");
  EXPECT_TRUE(throttle.Check("alice", kSource, kT0).ok());
  EXPECT_EQ(throttle.RecordFailure("alice", kSource, kT0).failures, 1u);
}

TEST(AuthdThrottle, OldFailuresAreForgotten) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  for (int i = 0; i < 3; ++i) {
    now = throttle.RecordFailure("alice", kSource, now).until;
  }
  now += absl::Hours(1);
  EXPECT_EQ(throttle.Failures("alice", now), 0u);
  EXPECT_EQ(throttle.RecordFailure("alice", kSource, now).until,
            now + absl::Seconds(1));
}

TEST(AuthdThrottle, EvictsFinishedWaitsFirstThenTheOldestUnlocked) {
  ThrottleOptions options;
  options.max_entries = 3;
  LoginThrottle throttle(options);
  throttle.RecordFailure("a", kSource, kT0);  // waits until kT0 + 1 s
  throttle.RecordFailure("b", kSource, kT0 + absl::Seconds(5));
  throttle.Restore("c", 5, kT0 + absl::Minutes(15), kT0);  // locked
  const absl::Time now = kT0 + absl::Seconds(5);
  throttle.RecordFailure("d", kSource, now);  // "a"'s wait is over: it goes
  EXPECT_EQ(throttle.TrackedNames(), 3u);
  EXPECT_EQ(throttle.Failures("a", now), 0u);
  EXPECT_EQ(throttle.Failures("b", now), 1u);
  throttle.RecordFailure("e", kSource, now);  // all waiting: "b" is oldest
  EXPECT_EQ(throttle.Failures("b", now), 0u);
  EXPECT_EQ(throttle.Failures("c", now), 5u);
  EXPECT_EQ(throttle.Failures("d", now), 1u);
  EXPECT_EQ(throttle.Failures("e", now), 1u);
}

// 100k distinct names fail at once: memory stays bounded and the locked
// name keeps its lockout.
TEST(AuthdThrottle, FloodOfDistinctNamesStaysBounded) {
  LoginThrottle throttle;
  absl::Time now = kT0;
  for (int i = 0; i < 4; ++i) {
    now = throttle.RecordFailure("victim", "client/victim", now).until;
  }
  ASSERT_TRUE(
      throttle.RecordFailure("victim", "client/victim", now).locked_now);
  ASSERT_FALSE(throttle.Check("victim", "client/victim", now).ok());
  for (int i = 0; i < 100000; ++i) {
    throttle.RecordFailure(absl::StrCat("flood", i),
                           absl::StrCat("client/flood", i % 20000), now);
    if (i % 10000 == 0) {
      ASSERT_LE(throttle.TrackedNames(), throttle.options().max_entries);
      ASSERT_LE(throttle.TrackedSources(), throttle.options().max_entries);
    }
  }
  EXPECT_EQ(throttle.TrackedNames(), throttle.options().max_entries);
  EXPECT_LE(throttle.TrackedSources(), throttle.options().max_entries);
  RetryAfter retry;
  EXPECT_FALSE(throttle.Check("victim", "client/other", now, &retry).ok());
  EXPECT_EQ(retry.reason, ThrottleReason::kAccountLocked);
  EXPECT_EQ(throttle.Failures("victim", now), 5u);
}

// Eight threads fail on one shared name and their own: no update is lost.
TEST(AuthdThrottle, ConcurrentUseFromEightThreads) {
  ThrottleOptions options;
  options.lockout_failures = 0;
  LoginThrottle throttle(options);
  constexpr int kThreads = 8;
  constexpr int kIterations = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&throttle, t] {
      const std::string source = absl::StrCat("client/t", t);
      for (int i = 0; i < kIterations; ++i) {
        const absl::Time now = kT0 + absl::Milliseconds(i);
        throttle.Check("shared", source, now).IgnoreError();
        throttle.RecordFailure("shared", "client/common", now);
        const std::string own = absl::StrCat("own", t, "-", i % 50);
        throttle.RecordFailure(own, source, now);
        if (i % 3 == 0) throttle.RecordSuccess(own, source, now);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const absl::Time end = kT0 + absl::Milliseconds(kIterations);
  EXPECT_EQ(throttle.Failures("shared", end),
            static_cast<uint32_t>(kThreads * kIterations));
  EXPECT_LE(throttle.TrackedNames(), 1u + kThreads * 50u);
  EXPECT_LE(throttle.TrackedSources(), 1u + kThreads);
}

}  // namespace
}  // namespace rustiq::authd
