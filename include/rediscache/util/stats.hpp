// Statistics primitives every component reports to: lock-free counters and latency histograms,
// read as snapshots. Exporters only format snapshots.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "rediscache/export.hpp"

namespace rediscache {

/// Percentiles of a latency distribution.
struct LatencySummary {
  std::uint64_t count = 0;
  std::chrono::nanoseconds p50{0};
  std::chrono::nanoseconds p90{0};
  std::chrono::nanoseconds p99{0};
  std::chrono::nanoseconds max{0};
  std::chrono::nanoseconds sum{0};
};

/// A lock-free log-linear latency histogram (about 3 % relative error, 1 ns to ~36 minutes).
/// `record` is a few relaxed atomic adds: cheap enough to stay on in hot paths. Thread-safe.
class REDISCACHE_EXPORT LatencyHistogram {
 public:
  LatencyHistogram() noexcept = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void record(std::chrono::nanoseconds latency) noexcept;
  /// Percentiles over everything recorded so far (a consistent-enough snapshot: concurrent
  /// records may or may not be included).
  [[nodiscard]] LatencySummary summary() const noexcept;

  /// Sub-buckets per power of two; 32 gives ~3 % resolution.
  static constexpr int kSubBuckets = 32;
  static constexpr int kPowers = 37;  // up to 2^41 ns ~ 36 min; larger land in the last bucket
  static constexpr int kBuckets = kSubBuckets * kPowers;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
  std::atomic<std::uint64_t> max_ns_{0};
};

/// A relaxed atomic event counter. Thread-safe.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace rediscache
