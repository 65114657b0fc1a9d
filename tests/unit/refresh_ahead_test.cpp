// Unit tests of refresh-ahead's decisions (XFetch and threshold), with no server: the clock, the
// entry's expiry and load time and the random draw are all arguments.
#include "cache/refresh_ahead.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

constexpr std::int64_t kExpiry = 1'000'000;

TEST(XFetch, DrawOfOne_NeverRefreshesBeforeExpiry) {
  EXPECT_FALSE(xfetch_due(kExpiry - 1, kExpiry, 5'000'000, 10.0, 1.0));
  EXPECT_TRUE(xfetch_due(kExpiry, kExpiry, 5'000'000, 10.0, 1.0));
}

TEST(XFetch, AtOrPastExpiry_AlwaysRefreshes) {
  EXPECT_TRUE(xfetch_due(kExpiry, kExpiry, 0, 1.0, 0.999));
  EXPECT_TRUE(xfetch_due(kExpiry + 50, kExpiry, 1000, 1.0, 0.5));
}

TEST(XFetch, EarlyGap_IsLoadTimeTimesBetaTimesMinusLnU) {
  // delta = 20 ms, beta = 2, u = e^-1: refreshes from 40 ms before expiry on, not earlier.
  const double u = std::exp(-1.0);
  EXPECT_TRUE(xfetch_due(kExpiry - 39, kExpiry, 20'000, 2.0, u));
  EXPECT_FALSE(xfetch_due(kExpiry - 41, kExpiry, 20'000, 2.0, u));
}

TEST(XFetch, LoadTimeBelowOneMillisecond_CountsAsOne) {
  // delta floors at 1 ms: with beta 1 and u = e^-3 the gap is 3 ms, whatever the load time.
  const double u = std::exp(-3.0);
  EXPECT_TRUE(xfetch_due(kExpiry - 2, kExpiry, 10, 1.0, u));
  EXPECT_FALSE(xfetch_due(kExpiry - 4, kExpiry, 10, 1.0, u));
}

TEST(XFetch, SlowerLoads_RefreshEarlier) {
  const double u = 0.5;
  const std::int64_t now = kExpiry - 100;
  EXPECT_FALSE(xfetch_due(now, kExpiry, 50'000, 1.0, u));  // gap 34.7 ms
  EXPECT_TRUE(xfetch_due(now, kExpiry, 200'000, 1.0, u));  // gap 138.6 ms
}

TEST(RefreshThreshold, LessThanThresholdOfTtlLeft_Refreshes) {
  const std::chrono::milliseconds ttl(10'000);
  EXPECT_FALSE(threshold_due(kExpiry - 2'000, kExpiry, ttl, 0.2));  // exactly 20% left
  EXPECT_TRUE(threshold_due(kExpiry - 1'999, kExpiry, ttl, 0.2));
  EXPECT_FALSE(threshold_due(kExpiry - 9'000, kExpiry, ttl, 0.2));
  EXPECT_TRUE(threshold_due(kExpiry + 5, kExpiry, ttl, 0.2));
}

}  // namespace
}  // namespace rediscache::detail
