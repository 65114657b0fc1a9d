// Unit tests of the one backoff schedule (util/backoff.hpp): doubling, the cap, equal jitter's
// range, reset, and the stateless step_for; no server, no sleeping except one bounded check.
#include "util/backoff.hpp"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(Backoff, NoJitter_DoublesUpToTheCap) {
  Backoff backoff(milliseconds(5), milliseconds(30), Backoff::Jitter::kNone);
  EXPECT_EQ(backoff.next(), milliseconds(5));
  EXPECT_EQ(backoff.next(), milliseconds(10));
  EXPECT_EQ(backoff.next(), milliseconds(20));
  EXPECT_EQ(backoff.next(), milliseconds(30));
  EXPECT_EQ(backoff.next(), milliseconds(30));
}

TEST(Backoff, EqualJitter_EachPauseIsWithinHalfStepToStep) {
  Backoff backoff(milliseconds(8), milliseconds(64), Backoff::Jitter::kEqual, 42);
  microseconds step = milliseconds(8);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(backoff.step(), step);
    const microseconds pause = backoff.next();
    EXPECT_GE(pause, step / 2);
    EXPECT_LE(pause, step);
    step = std::min<microseconds>(step * 2, milliseconds(64));
  }
}

TEST(Backoff, EqualJitter_SpreadsWaitersApart) {
  std::set<long long> firsts;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Backoff backoff(milliseconds(100), milliseconds(100), Backoff::Jitter::kEqual, seed);
    firsts.insert(backoff.next().count());
  }
  EXPECT_GT(firsts.size(), 10U);  // 50001 possible values: twenty seeds rarely collide
}

TEST(Backoff, SameSeed_SamePauses) {
  Backoff a(milliseconds(1), milliseconds(1000), Backoff::Jitter::kEqual, 7);
  Backoff b(milliseconds(1), milliseconds(1000), Backoff::Jitter::kEqual, 7);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Backoff, Reset_StartsAgainFromInitial) {
  Backoff backoff(milliseconds(2), milliseconds(100), Backoff::Jitter::kNone);
  (void)backoff.next();
  (void)backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(2));
}

TEST(Backoff, StepFor_IsInitialTimesTwoToTheAttemptCapped) {
  EXPECT_EQ(Backoff::step_for(milliseconds(5), milliseconds(200), 0), milliseconds(5));
  EXPECT_EQ(Backoff::step_for(milliseconds(5), milliseconds(200), 1), milliseconds(10));
  EXPECT_EQ(Backoff::step_for(milliseconds(5), milliseconds(200), 5), milliseconds(160));
  EXPECT_EQ(Backoff::step_for(milliseconds(5), milliseconds(200), 6), milliseconds(200));
  EXPECT_EQ(Backoff::step_for(milliseconds(5), milliseconds(200), 1000), milliseconds(200));
}

TEST(Backoff, HugeCap_DoesNotOverflow) {
  Backoff backoff(microseconds(1), microseconds::max(), Backoff::Jitter::kNone);
  microseconds last{0};
  for (int i = 0; i < 100; ++i) {
    const microseconds pause = backoff.next();
    EXPECT_GE(pause, last);
    last = pause;
  }
  EXPECT_EQ(last, microseconds::max());
}

TEST(SleepBefore, PastDeadline_ReturnsAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  sleep_before(std::chrono::seconds(10), start - milliseconds(1));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(SleepBefore, DeadlineBeforePause_SleepsOnlyUntilDeadline) {
  const auto start = std::chrono::steady_clock::now();
  sleep_before(std::chrono::seconds(10), start + milliseconds(20));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(15));
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace rediscache::detail
