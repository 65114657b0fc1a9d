// Unit tests of LatencyHistogram and Counter: bucket accuracy, percentiles, and concurrent use.
#include "rediscache/util/stats.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rediscache {
namespace {

using std::chrono::nanoseconds;

TEST(LatencyHistogram, Summary_NothingRecorded_AllZero) {
  LatencyHistogram h;
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 0U);
  EXPECT_EQ(s.p50, nanoseconds(0));
  EXPECT_EQ(s.p90, nanoseconds(0));
  EXPECT_EQ(s.p99, nanoseconds(0));
  EXPECT_EQ(s.max, nanoseconds(0));
  EXPECT_EQ(s.sum, nanoseconds(0));
}

TEST(LatencyHistogram, Record_SmallValues_ReportedExactly) {
  for (std::int64_t v = 0; v < 32; ++v) {
    LatencyHistogram h;
    h.record(nanoseconds(v));
    const LatencySummary s = h.summary();
    EXPECT_EQ(s.count, 1U);
    EXPECT_EQ(s.p50, nanoseconds(v));
    EXPECT_EQ(s.p99, nanoseconds(v));
    EXPECT_EQ(s.max, nanoseconds(v));
  }
}

TEST(LatencyHistogram, Record_AnyValueInRange_PercentileWithinThreePercentAbove) {
  // One value per histogram: every percentile is that value's bucket, which must not be below
  // the value (percentiles never understate) nor more than 1/32 above it.
  for (std::uint64_t v = 1; v < (std::uint64_t{1} << 40); v = v * 3 / 2 + 1) {
    LatencyHistogram h;
    h.record(nanoseconds(static_cast<std::int64_t>(v)));
    h.record(nanoseconds(static_cast<std::int64_t>(v) * 4));  // keeps max away from v
    const LatencySummary s = h.summary();
    const auto p50 = static_cast<std::uint64_t>(s.p50.count());
    EXPECT_GE(p50, v) << "value " << v;
    EXPECT_LE(static_cast<double>(p50), static_cast<double>(v) * (1.0 + 1.0 / 32)) << "value " << v;
  }
}

TEST(LatencyHistogram, Summary_UniformMicroseconds_PercentilesNearTrueValues) {
  LatencyHistogram h;
  std::int64_t sum = 0;
  for (std::int64_t us = 1; us <= 1000; ++us) {
    h.record(std::chrono::microseconds(us));
    sum += us * 1000;
  }
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1000U);
  EXPECT_EQ(s.sum, nanoseconds(sum));
  EXPECT_EQ(s.max, std::chrono::microseconds(1000));
  auto near = [](nanoseconds got, double want_us) {
    const double got_us = static_cast<double>(got.count()) / 1000.0;
    return got_us >= want_us && got_us <= want_us * 1.035;
  };
  EXPECT_TRUE(near(s.p50, 500)) << s.p50.count();
  EXPECT_TRUE(near(s.p90, 900)) << s.p90.count();
  EXPECT_TRUE(near(s.p99, 990)) << s.p99.count();
}

TEST(LatencyHistogram, Summary_PercentileAboveMax_ClampedToMax) {
  LatencyHistogram h;
  h.record(nanoseconds(1000));  // bucket [992, 1023]: its upper bound exceeds the max
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.p50, nanoseconds(1000));
  EXPECT_EQ(s.p99, nanoseconds(1000));
  EXPECT_EQ(s.max, nanoseconds(1000));
}

TEST(LatencyHistogram, Summary_SkewedDistribution_TailPercentilesSeeOutliers) {
  LatencyHistogram h;
  for (int i = 0; i < 980; ++i) h.record(std::chrono::microseconds(10));
  for (int i = 0; i < 20; ++i) h.record(std::chrono::milliseconds(5));
  const LatencySummary s = h.summary();
  EXPECT_LT(s.p50, std::chrono::microseconds(11));
  EXPECT_LT(s.p90, std::chrono::microseconds(11));
  EXPECT_GE(s.p99, std::chrono::milliseconds(5));
  EXPECT_EQ(s.max, std::chrono::milliseconds(5));
}

TEST(LatencyHistogram, Record_NegativeLatency_CountedAsZero) {
  LatencyHistogram h;
  h.record(nanoseconds(-5));
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1U);
  EXPECT_EQ(s.p50, nanoseconds(0));
  EXPECT_EQ(s.sum, nanoseconds(0));
}

TEST(LatencyHistogram, Record_BeyondRange_CountedAndMaxExact) {
  LatencyHistogram h;
  const auto huge = std::chrono::hours(24 * 365);
  h.record(huge);
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1U);
  EXPECT_EQ(s.max, huge);
  EXPECT_EQ(s.p99, huge);
}

TEST(LatencyHistogram, Record_ConcurrentThreads_NothingLost) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) {
        h.record(nanoseconds(1000 * (t + 1) + i % 7));
      }
    });
  }
  // Summaries taken while threads record must stay self-consistent.
  for (int i = 0; i < 20; ++i) {
    const LatencySummary s = h.summary();
    EXPECT_LE(s.p50, s.p90);
    EXPECT_LE(s.p90, s.p99);
  }
  for (auto& th : threads) th.join();

  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads) * kPerThread);
  std::int64_t want_sum = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) want_sum += 1000 * (t + 1) + i % 7;
  }
  EXPECT_EQ(s.sum, nanoseconds(want_sum));
  EXPECT_EQ(s.max, nanoseconds(1000 * kThreads + 6));
  EXPECT_GE(s.p99, nanoseconds(1000 * kThreads));
}

TEST(Counter, Add_ConcurrentThreads_TotalExact) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.add();
      c.add(5);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.value(), 4U * 10005U);
}

}  // namespace
}  // namespace rediscache
