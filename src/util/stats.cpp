// LatencyHistogram: log-linear buckets (HdrHistogram's layout with 32 sub-buckets per power of
// two), recorded with relaxed atomics and read as a summary.
#include "rediscache/util/stats.hpp"

#include <cstddef>
#include <cstdint>

namespace rediscache {
namespace {

constexpr int kSubBucketBits = 5;  // log2(LatencyHistogram::kSubBuckets)
static_assert((1 << kSubBucketBits) == LatencyHistogram::kSubBuckets,
              "kSubBucketBits must match kSubBuckets");

// Bucket layout. Group 0 holds the values 0..31 exactly (width 1). Group g >= 1 holds
// [32 * 2^(g-1), 32 * 2^g) in 32 buckets of width 2^(g-1), so every bucket's width is at most
// 1/32 of its lower bound (about 3 % relative error). The last group ends at 2^41 ns (about
// 36 minutes); anything longer is counted in the last bucket, and `max` still reports it exactly.
int bucket_index(std::uint64_t ns) noexcept {
  if (ns < static_cast<std::uint64_t>(LatencyHistogram::kSubBuckets)) {
    return static_cast<int>(ns);
  }
  const int log2 = 63 - __builtin_clzll(ns);  // >= kSubBucketBits
  const int group = log2 - kSubBucketBits + 1;
  if (group >= LatencyHistogram::kPowers) {
    return LatencyHistogram::kBuckets - 1;
  }
  const int shift = group - 1;
  const auto sub = static_cast<int>((ns >> shift) - LatencyHistogram::kSubBuckets);
  return group * LatencyHistogram::kSubBuckets + sub;
}

// The largest value that maps to bucket `index`: percentiles report it, so they never
// understate a latency (HdrHistogram's "highest equivalent value").
std::uint64_t bucket_upper(int index) noexcept {
  const int group = index / LatencyHistogram::kSubBuckets;
  const int sub = index % LatencyHistogram::kSubBuckets;
  if (group == 0) {
    return static_cast<std::uint64_t>(sub);
  }
  const int shift = group - 1;
  const auto lower = static_cast<std::uint64_t>(LatencyHistogram::kSubBuckets + sub) << shift;
  return lower + (std::uint64_t{1} << shift) - 1;
}

}  // namespace

void LatencyHistogram::record(std::chrono::nanoseconds latency) noexcept {
  const auto ns = latency.count() > 0 ? static_cast<std::uint64_t>(latency.count()) : 0U;
  buckets_[static_cast<std::size_t>(bucket_index(ns))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  // The max rarely changes, so the common case is one relaxed load and no write.
  std::uint64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::summary() const noexcept {
  // Copy the buckets once; percentiles are computed from this copy, so they agree with each
  // other even while other threads keep recording.
  std::array<std::uint64_t, kBuckets> counts{};
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }

  LatencySummary out;
  out.count = total;
  out.sum = std::chrono::nanoseconds(
      static_cast<std::chrono::nanoseconds::rep>(sum_ns_.load(std::memory_order_relaxed)));
  const std::uint64_t max_ns = max_ns_.load(std::memory_order_relaxed);
  out.max = std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(max_ns));
  if (total == 0) {
    return out;
  }

  // Rank of the q-th quantile, 1-based: the smallest rank r with r >= q * total.
  auto rank_of = [total](std::uint64_t per_mille) {
    const std::uint64_t rank = (total * per_mille + 999) / 1000;
    return rank == 0 ? std::uint64_t{1} : rank;
  };
  const std::uint64_t ranks[3] = {rank_of(500), rank_of(900), rank_of(990)};
  std::chrono::nanoseconds* targets[3] = {&out.p50, &out.p90, &out.p99};

  std::uint64_t cumulative = 0;
  int next = 0;
  for (int i = 0; i < kBuckets && next < 3; ++i) {
    cumulative += counts[static_cast<std::size_t>(i)];
    while (next < 3 && cumulative >= ranks[next]) {
      std::uint64_t value = bucket_upper(i);
      // A bucket's upper bound can exceed the largest value actually seen, and the last bucket
      // also holds everything beyond the range: the exact max is the better answer for both.
      if (value > max_ns || i == kBuckets - 1) {
        value = max_ns;
      }
      *targets[next] = std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(value));
      ++next;
    }
  }
  return out;
}

}  // namespace rediscache
