// Unit tests of the cache's circuit breaker, with no server: closed -> open after the threshold,
// rejecting while open, one probe when half-open, and what success and failure of it do.
#include "cache/circuit_breaker.hpp"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

using std::chrono::milliseconds;

BreakerOptions breaker(std::uint32_t threshold, milliseconds cool_down) {
  BreakerOptions options;
  options.failure_threshold = threshold;
  options.cool_down = cool_down;
  return options;
}

// Waits (bounded) until the cool-down has passed and the breaker lets a probe through.
bool wait_for_probe(CircuitBreaker& b) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (b.allow()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

TEST(CircuitBreaker, FailuresBelowThreshold_StaysClosed) {
  CircuitBreaker b(breaker(3, std::chrono::seconds(10)));
  EXPECT_FALSE(b.record_failure());
  EXPECT_FALSE(b.record_failure());
  EXPECT_FALSE(b.is_open());
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, ThresholdConsecutiveFailures_OpensAndRejects) {
  CircuitBreaker b(breaker(3, std::chrono::seconds(10)));
  EXPECT_FALSE(b.record_failure());
  EXPECT_FALSE(b.record_failure());
  EXPECT_TRUE(b.record_failure());  // this one opened it
  EXPECT_TRUE(b.is_open());
  EXPECT_FALSE(b.allow());
  EXPECT_FALSE(b.record_failure());  // a late failure of a call allowed earlier: no new opening
}

TEST(CircuitBreaker, SuccessBetweenFailures_ResetsTheCount) {
  CircuitBreaker b(breaker(2, std::chrono::seconds(10)));
  EXPECT_FALSE(b.record_failure());
  b.record_success();
  EXPECT_FALSE(b.record_failure());
  EXPECT_FALSE(b.is_open());
}

TEST(CircuitBreaker, AfterCoolDown_OneProbeAtATime) {
  CircuitBreaker b(breaker(1, milliseconds(20)));
  EXPECT_TRUE(b.record_failure());
  ASSERT_TRUE(wait_for_probe(b));  // the probe
  EXPECT_FALSE(b.allow());         // others wait while it is out
  EXPECT_TRUE(b.is_open());
}

TEST(CircuitBreaker, ProbeSucceeds_Closes) {
  CircuitBreaker b(breaker(1, milliseconds(20)));
  EXPECT_TRUE(b.record_failure());
  ASSERT_TRUE(wait_for_probe(b));
  b.record_success();
  EXPECT_FALSE(b.is_open());
  EXPECT_TRUE(b.allow());
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, ProbeFails_ReopensForAnotherCoolDown) {
  CircuitBreaker b(breaker(5, std::chrono::milliseconds(20)));
  for (int i = 0; i < 5; ++i) static_cast<void>(b.record_failure());
  ASSERT_TRUE(wait_for_probe(b));
  EXPECT_TRUE(b.record_failure());  // one failure of the probe re-opens, whatever the threshold
  EXPECT_TRUE(b.is_open());
}

TEST(CircuitBreaker, NeutralProbe_LetsAnotherCallerProbe) {
  CircuitBreaker b(breaker(1, milliseconds(20)));
  EXPECT_TRUE(b.record_failure());
  ASSERT_TRUE(wait_for_probe(b));
  b.record_neutral();      // the probe learned nothing (pool exhausted)
  EXPECT_TRUE(b.allow());  // so the next caller probes at once
}

TEST(CircuitBreaker, Disabled_AlwaysAllows) {
  BreakerOptions options = breaker(1, std::chrono::seconds(10));
  options.enabled = false;
  CircuitBreaker b(options);
  EXPECT_FALSE(b.record_failure());
  EXPECT_FALSE(b.record_failure());
  EXPECT_TRUE(b.allow());
  EXPECT_FALSE(b.is_open());
}

}  // namespace
}  // namespace rediscache::detail
