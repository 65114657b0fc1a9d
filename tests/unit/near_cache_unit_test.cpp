// Unit tests of NearCache: the fetch protocol, expiry, bounds under concurrency, and the hit
// ratio of W-TinyLFU against LRU on skewed and scan-polluted workloads, and the adaptive window
// (alone and under concurrent access).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/near/near_cache.hpp"

namespace rediscache {
namespace {

using std::chrono::milliseconds;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kWorkScale = 4;  // sanitizer builds run several times slower: do less work
#else
constexpr int kWorkScale = 1;
#endif

/// A manual monotonic clock shared by the cache and the test.
struct FakeClock {
  std::atomic<std::int64_t> now_ms{1000000};
  std::function<NearCache::Clock::time_point()> fn() {
    return [this] { return NearCache::Clock::time_point(milliseconds(now_ms.load())); };
  }
  void advance(milliseconds d) { now_ms += d.count(); }
};

bool store(NearCache& cache, const std::string& key, const std::string& value,
           std::optional<milliseconds> ttl = std::nullopt) {
  NearCache::Fetch fetch = cache.begin_fetch(key);
  return cache.complete(fetch, value, ttl);
}

TEST(NearCacheOptionsTest, Validate_InvalidFields_NameTheField) {
  auto message_of = [](NearCacheOptions o) -> std::string {
    try {
      NearCache cache(std::move(o));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  NearCacheOptions o;
  o.max_entries = 0;
  EXPECT_NE(message_of(o).find("NearCacheOptions::max_entries"), std::string::npos);
  o = {};
  o.max_bytes = 0;
  EXPECT_NE(message_of(o).find("NearCacheOptions::max_bytes"), std::string::npos);
  o = {};
  o.max_lifetime = milliseconds(0);
  EXPECT_NE(message_of(o).find("NearCacheOptions::max_lifetime"), std::string::npos);
  o = {};
  o.shards = 3;
  EXPECT_NE(message_of(o).find("NearCacheOptions::shards"), std::string::npos);
  o.shards = 2048;
  EXPECT_NE(message_of(o).find("NearCacheOptions::shards"), std::string::npos);
  o = {};
  o.window_fraction = 0.0;
  EXPECT_NE(message_of(o).find("NearCacheOptions::window_fraction"), std::string::npos);
}

std::size_t shard_count(std::size_t max_entries, std::size_t shards) {
  NearCacheOptions o;
  o.max_entries = max_entries;
  o.shards = shards;
  return NearCache(o).shard_count();
}

// Automatic (the default): 16 shards, or fewer so that each holds at least 128 entries.
TEST(NearCacheTest, ShardsAutomatic_SixteenOrFewerOfAtLeast128Entries) {
  EXPECT_EQ(NearCacheOptions{}.shards, 0u);
  EXPECT_EQ(NearCache(NearCacheOptions{}).shard_count(), 16u);  // 10,000 entries
  EXPECT_EQ(shard_count(std::size_t{16} * 128, 0), 16u);
  EXPECT_EQ(shard_count(std::size_t{16} * 128 - 1, 0), 8u);
  EXPECT_EQ(shard_count(1000, 0), 4u);
  EXPECT_EQ(shard_count(256, 0), 2u);
  EXPECT_EQ(shard_count(255, 0), 1u);
  EXPECT_EQ(shard_count(1, 0), 1u);
  EXPECT_EQ(shard_count(std::size_t{1} << 20, 0), 16u);
}

// A count set by the user is kept, unless there are fewer entries than shards.
TEST(NearCacheTest, ShardsExplicit_UsedAsGivenWhileEachHoldsAnEntry) {
  EXPECT_EQ(shard_count(100, 16), 16u);
  EXPECT_EQ(shard_count(1u << 20, 1024), 1024u);
  EXPECT_EQ(shard_count(5, 16), 4u);
  EXPECT_EQ(shard_count(1, 8), 1u);
}

TEST(NearCacheTest, Complete_ThenGet_ReturnsValue) {
  NearCache cache(NearCacheOptions{});
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_TRUE(store(cache, "k", std::string("v\0x", 3)));
  ASSERT_TRUE(cache.get("k").has_value());
  EXPECT_EQ(*cache.get("k"), std::string("v\0x", 3));
  const NearCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, NearCache::charge(1, 3));
}

TEST(NearCacheTest, Expiry_RedisTtlShorterThanMaxLifetime_EntryExpiresWithRedisTtl) {
  FakeClock clock;
  NearCacheOptions o;
  o.max_lifetime = milliseconds(10000);
  o.clock = clock.fn();
  NearCache cache(o);
  ASSERT_TRUE(store(cache, "k", "v", milliseconds(300)));
  clock.advance(milliseconds(299));
  EXPECT_TRUE(cache.get("k").has_value());
  clock.advance(milliseconds(1));
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.stats().expired, 1u);
}

TEST(NearCacheTest, Expiry_NoRedisTtl_CappedByMaxLifetime) {
  FakeClock clock;
  NearCacheOptions o;
  o.max_lifetime = milliseconds(500);
  o.clock = clock.fn();
  NearCache cache(o);
  ASSERT_TRUE(store(cache, "a", "v"));
  ASSERT_TRUE(store(cache, "b", "v", milliseconds(100000)));
  clock.advance(milliseconds(500));
  EXPECT_FALSE(cache.get("a").has_value());
  EXPECT_FALSE(cache.get("b").has_value());
}

TEST(NearCacheTest, Expiry_CountsFromBeginFetch_NotFromComplete) {
  FakeClock clock;
  NearCacheOptions o;
  o.clock = clock.fn();
  NearCache cache(o);
  NearCache::Fetch fetch = cache.begin_fetch("k");
  clock.advance(milliseconds(80));  // the Redis round trip
  ASSERT_TRUE(cache.complete(fetch, "v", milliseconds(100)));
  clock.advance(milliseconds(20));
  EXPECT_FALSE(cache.get("k").has_value());
}

TEST(NearCacheTest, Complete_NonPositiveTtl_StoresNothing) {
  NearCache cache(NearCacheOptions{});
  EXPECT_FALSE(store(cache, "k", "v", milliseconds(0)));
  EXPECT_FALSE(store(cache, "k", "v", milliseconds(-5)));
  EXPECT_FALSE(cache.get("k").has_value());
}

TEST(NearCacheTest, FetchRace_InvalidationBetweenGetAndInsert_ValueDropped) {
  NearCache cache(NearCacheOptions{});
  NearCache::Fetch fetch = cache.begin_fetch("k");
  // The Redis GET returned "old"; an invalidation for k arrives before the value is stored.
  cache.invalidate("k");
  EXPECT_FALSE(cache.complete(fetch, "old", std::nullopt));
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.stats().stale_fetches, 1u);
  // A fetch begun after the invalidation is stored normally.
  EXPECT_TRUE(store(cache, "k", "new"));
  EXPECT_EQ(*cache.get("k"), "new");
}

TEST(NearCacheTest, FetchRace_ConcurrentFetchesOfOneKey_InvalidationPoisonsBoth) {
  NearCache cache(NearCacheOptions{});
  NearCache::Fetch first = cache.begin_fetch("k");
  NearCache::Fetch second = cache.begin_fetch("k");
  cache.invalidate("k");
  NearCache::Fetch third = cache.begin_fetch("k");
  EXPECT_FALSE(cache.complete(first, "a", std::nullopt));
  EXPECT_FALSE(cache.complete(second, "b", std::nullopt));
  EXPECT_TRUE(cache.complete(third, "c", std::nullopt));
  EXPECT_EQ(*cache.get("k"), "c");
}

TEST(NearCacheTest, FetchRace_ClearOrPrefixDuringFetch_ValueDropped) {
  NearCache cache(NearCacheOptions{});
  NearCache::Fetch a = cache.begin_fetch("user:1");
  NearCache::Fetch b = cache.begin_fetch("order:1");
  cache.invalidate_prefix("user:");
  EXPECT_FALSE(cache.complete(a, "x", std::nullopt));
  EXPECT_TRUE(cache.complete(b, "y", std::nullopt));
  NearCache::Fetch c = cache.begin_fetch("order:2");
  cache.clear();
  EXPECT_FALSE(cache.complete(c, "z", std::nullopt));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(NearCacheTest, Fetch_DestroyedWithoutComplete_LeavesNoPendingState) {
  NearCache cache(NearCacheOptions{});
  { NearCache::Fetch abandoned = cache.begin_fetch("k"); }
  cache.invalidate("k");
  EXPECT_TRUE(store(cache, "k", "v"));
  NearCache::Fetch moved_from = cache.begin_fetch("j");
  NearCache::Fetch moved = std::move(moved_from);
  EXPECT_TRUE(cache.complete(moved, "w", std::nullopt));
  EXPECT_FALSE(cache.complete(moved, "w2", std::nullopt));  // already ended
  EXPECT_EQ(*cache.get("j"), "w");
}

TEST(NearCacheTest, Disabled_GetMissesAndCompleteDrops) {
  NearCache cache(NearCacheOptions{});
  ASSERT_TRUE(store(cache, "k", "v"));
  cache.set_enabled(false);
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_FALSE(store(cache, "j", "v"));
  NearCache::Fetch during = cache.begin_fetch("i");
  cache.set_enabled(true);
  EXPECT_TRUE(cache.get("k").has_value());
  EXPECT_FALSE(cache.get("j").has_value());
  EXPECT_TRUE(cache.complete(during, "v", std::nullopt));  // no clear() happened in between
}

TEST(NearCacheTest, InvalidatePrefix_DropsOnlyMatchingKeys) {
  NearCache cache(NearCacheOptions{});
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store(cache, "user:" + std::to_string(i), "u"));
    ASSERT_TRUE(store(cache, "order:" + std::to_string(i), "o"));
  }
  cache.invalidate_prefix("user:");
  EXPECT_EQ(cache.size(), 50u);
  EXPECT_FALSE(cache.get("user:7").has_value());
  EXPECT_TRUE(cache.get("order:7").has_value());
  EXPECT_EQ(cache.stats().invalidations, 50u);
}

TEST(NearCacheTest, Oversize_ValueLargerThanShardBudget_Rejected) {
  NearCacheOptions o;
  o.shards = 4;
  o.max_bytes = 4 * 1000;
  NearCache cache(o);
  EXPECT_FALSE(store(cache, "big", std::string(1000, 'x')));
  EXPECT_TRUE(store(cache, "small", std::string(100, 'x')));
  EXPECT_LE(cache.bytes(), o.max_bytes);
}

TEST(NearCacheTest, Bounds_EntriesAndBytes_HoldUnderRandomMultiThreadedWorkload) {
  for (NearCachePolicy policy :
       {NearCachePolicy::kWTinyLfu, NearCachePolicy::kSegmentedLru, NearCachePolicy::kLru}) {
    NearCacheOptions o;
    o.max_entries = 500;
    o.max_bytes = 64 * 1024;
    o.shards = 8;
    o.policy = policy;
    NearCache cache(o);
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> worst_entries{0}, worst_bytes{0};
    std::thread checker([&] {
      while (!stop.load()) {
        const NearCacheStats s = cache.stats();
        worst_entries = std::max(worst_entries.load(), s.entries);
        worst_bytes = std::max(worst_bytes.load(), s.bytes);
        std::this_thread::yield();
      }
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&, t] {
        std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7919 + 1);
        std::uniform_int_distribution<int> key_dist(0, 4999), size_dist(0, 600), op(0, 99);
        for (int i = 0; i < 20000 / kWorkScale; ++i) {
          const std::string key = "k" + std::to_string(key_dist(rng));
          const int what = op(rng);
          if (what < 60) {
            if (!cache.get(key)) {
              NearCache::Fetch fetch = cache.begin_fetch(key);
              cache.complete(fetch, std::string(static_cast<std::size_t>(size_dist(rng)), 'v'),
                             milliseconds(1 + key_dist(rng)));
            }
          } else if (what < 95) {
            NearCache::Fetch fetch = cache.begin_fetch(key);
            if (op(rng) < 20) cache.invalidate(key);
            cache.complete(fetch, std::string(static_cast<std::size_t>(size_dist(rng)), 'w'),
                           std::nullopt);
          } else if (what < 99) {
            cache.invalidate(key);
          } else {
            cache.invalidate_prefix("k1");
          }
        }
      });
    }
    for (auto& w : workers) w.join();
    stop = true;
    checker.join();
    const NearCacheStats s = cache.stats();
    EXPECT_LE(worst_entries.load(), o.max_entries);
    EXPECT_LE(worst_bytes.load(), o.max_bytes);
    EXPECT_LE(s.entries, o.max_entries);
    EXPECT_LE(s.bytes, o.max_bytes);
    EXPECT_GT(s.inserts, 0u);
    EXPECT_GT(s.evictions, 0u);
    // Every counted byte belongs to a live entry: clearing brings both to zero.
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
  }
}

// --- Hit ratio ---------------------------------------------------------------------------

/// Zipf(s) over ranks 0..n-1, by inverse CDF.
class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
      cdf_[i] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
  template <class Rng>
  std::size_t operator()(Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

/// Replays `requests` (a scan key is negative: never repeated) through a cache of `capacity`
/// entries and returns the hit ratio over the non-scan requests.
double hit_ratio(NearCachePolicy policy, std::size_t capacity, const std::vector<long>& requests) {
  NearCacheOptions o;
  o.max_entries = capacity;
  o.max_bytes = std::size_t{1} << 30;
  o.max_lifetime = std::chrono::hours(1);
  o.shards = 1;
  o.policy = policy;
  NearCache cache(o);
  std::size_t hits = 0, counted = 0;
  for (long r : requests) {
    const std::string key = (r < 0 ? "scan:" : "key:") + std::to_string(r);
    const bool hit = cache.get(key).has_value();
    if (!hit) store(cache, key, "v");
    if (r >= 0) {
      ++counted;
      hits += hit ? 1 : 0;
    }
  }
  return counted == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(counted);
}

TEST(NearCacheHitRatioTest, WTinyLfu_BeatsLru_OnZipfAndScanWorkloads) {
  constexpr std::size_t kKeys = 100000;
  constexpr std::size_t kCapacity = 1000;
  constexpr std::size_t kRequests = 200000 / kWorkScale;
  Zipf zipf(kKeys, 1.1);
  std::mt19937_64 rng(42);

  std::vector<long> skewed(kRequests);
  for (long& r : skewed) r = static_cast<long>(zipf(rng));

  // Scan-polluted: every 10,000 requests, 7,000 Zipf requests then a scan of 3,000 keys that
  // are never read again (a batch job walking the table).
  std::vector<long> polluted;
  polluted.reserve(kRequests);
  long scan_key = -1;
  while (polluted.size() < kRequests) {
    for (int i = 0; i < 7000; ++i) polluted.push_back(static_cast<long>(zipf(rng)));
    for (int i = 0; i < 3000; ++i) polluted.push_back(scan_key--);
  }

  const double zipf_lru = hit_ratio(NearCachePolicy::kLru, kCapacity, skewed);
  const double zipf_slru = hit_ratio(NearCachePolicy::kSegmentedLru, kCapacity, skewed);
  const double zipf_tiny = hit_ratio(NearCachePolicy::kWTinyLfu, kCapacity, skewed);
  const double scan_lru = hit_ratio(NearCachePolicy::kLru, kCapacity, polluted);
  const double scan_slru = hit_ratio(NearCachePolicy::kSegmentedLru, kCapacity, polluted);
  const double scan_tiny = hit_ratio(NearCachePolicy::kWTinyLfu, kCapacity, polluted);
  std::printf(
      "hit ratio, %zu keys, capacity %zu, %zu requests\n"
      "  Zipf s=1.1:        LRU %.3f  SLRU %.3f  W-TinyLFU %.3f\n"
      "  Zipf + 30%% scans: LRU %.3f  SLRU %.3f  W-TinyLFU %.3f\n",
      kKeys, kCapacity, kRequests, zipf_lru, zipf_slru, zipf_tiny, scan_lru, scan_slru, scan_tiny);
  RecordProperty("zipf_lru", std::to_string(zipf_lru));
  RecordProperty("zipf_wtinylfu", std::to_string(zipf_tiny));
  RecordProperty("scan_lru", std::to_string(scan_lru));
  RecordProperty("scan_wtinylfu", std::to_string(scan_tiny));
  EXPECT_GT(zipf_tiny, zipf_lru);
  EXPECT_GT(scan_tiny, scan_lru);
  EXPECT_GT(scan_slru, scan_lru);
}

// --- Adaptive window ----------------------------------------------------------------------

/// Keys that are read a few times in a burst and then never again (sessions, a news feed):
/// recency predicts the next read, frequency does not, so the window should grow.
std::vector<long> recency_workload(std::size_t requests, long reach) {
  std::vector<long> out;
  out.reserve(requests);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<long> back(0, reach);
  long newest = 0;
  while (out.size() < requests) {
    out.push_back(newest++);
    // Re-read a recent key, one of the last `reach` new ones.
    for (int i = 0; i < 2; ++i) out.push_back(std::max<long>(0, newest - 1 - back(rng)));
  }
  return out;
}

/// Replays `requests` and returns the hit ratio over their second half (once the window has
/// had time to adapt).
double late_hit_ratio(NearCache& cache, const std::vector<long>& requests) {
  std::size_t hits = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::string key = "key:" + std::to_string(requests[i]);
    const bool hit = cache.get(key).has_value();
    if (!hit) store(cache, key, "v");
    if (i >= requests.size() / 2 && hit) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(requests.size() - requests.size() / 2);
}

TEST(NearCacheAdaptiveWindowTest, RecencyWorkload_WindowGrows_HitRatioNearLru) {
  // Not scaled down for sanitizers: the window moves by a fraction of an entry per ghost hit.
  const std::vector<long> requests = recency_workload(80000, 75);
  NearCacheOptions o;
  o.max_entries = 100;
  o.max_bytes = std::size_t{1} << 30;
  o.shards = 1;
  NearCache adaptive(o);
  const double tiny = late_hit_ratio(adaptive, requests);
  o.adaptive_window = false;
  NearCache fixed(o);
  const double tiny_fixed = late_hit_ratio(fixed, requests);
  o.policy = NearCachePolicy::kLru;
  NearCache lru_cache(o);
  const double lru = late_hit_ratio(lru_cache, requests);
  std::printf(
      "recency workload, capacity 100, second half: LRU %.3f, W-TinyLFU fixed 1 %% %.3f, "
      "adaptive %.3f (window %zu)\n",
      lru, tiny_fixed, tiny, adaptive.window_entries());
  EXPECT_GT(adaptive.window_entries(), o.max_entries / 4);
  EXPECT_GT(tiny, tiny_fixed);
  EXPECT_GE(tiny, lru - 0.02);
}

TEST(NearCacheAdaptiveWindowTest, FixedWindow_AdaptiveOff_KeepsItsSize) {
  const std::vector<long> requests = recency_workload(100000 / kWorkScale, 300);
  NearCacheOptions o;
  o.max_entries = 400;
  o.shards = 1;
  o.adaptive_window = false;
  o.window_fraction = 0.05;
  NearCache fixed(o);
  EXPECT_EQ(fixed.window_entries(), 20u);
  for (long r : requests) {
    const std::string key = "key:" + std::to_string(r);
    if (!fixed.get(key)) store(fixed, key, "v");
  }
  EXPECT_EQ(fixed.window_entries(), 20u);
  o.policy = NearCachePolicy::kLru;
  EXPECT_EQ(NearCache(o).window_entries(), 0u);
}

// Many threads, a skewed key mix, small shards so that every shard's ghosts move its window
// many times while others read and write: the bounds hold, every get() is counted once, and the
// windows stay within their shards. Run under TSan as well (build-tsan).
TEST(NearCacheAdaptiveWindowTest, ConcurrentSkewedAccess_WindowsAdaptWithinBounds) {
  NearCacheOptions o;
  o.max_entries = 1024;
  o.max_bytes = 256 * 1024;
  o.shards = 16;  // 64 entries each
  NearCache cache(o);
  const std::size_t initial_window = cache.window_entries();
  constexpr int kThreads = 8;
  const int per_thread = 40000 / kWorkScale;
  Zipf zipf(20000, 0.9);
  std::atomic<std::uint64_t> gets{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> worst_entries{0}, worst_window{0};
  std::thread checker([&] {
    while (!stop.load()) {
      worst_entries = std::max(worst_entries.load(), cache.size());
      worst_window = std::max(worst_window.load(), cache.window_entries());
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 100);
      std::uniform_int_distribution<int> op(0, 99), size(0, 200);
      Zipf local = zipf;
      for (int i = 0; i < per_thread; ++i) {
        // Half of the threads turn recency-heavy halfway through, so windows move both ways.
        const bool fresh = t % 2 == 1 && i > per_thread / 2 && op(rng) < 50;
        const std::string key = fresh ? "new:" + std::to_string(t) + ":" + std::to_string(i / 3)
                                      : "k" + std::to_string(local(rng));
        gets.fetch_add(1, std::memory_order_relaxed);
        if (!cache.get(key)) {
          NearCache::Fetch fetch = cache.begin_fetch(key);
          if (op(rng) < 2) cache.invalidate(key);
          cache.complete(fetch, std::string(static_cast<std::size_t>(size(rng)), 'v'),
                         std::nullopt);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  checker.join();
  const NearCacheStats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, gets.load());
  EXPECT_LE(worst_entries.load(), o.max_entries);
  EXPECT_LE(s.entries, o.max_entries);
  EXPECT_LE(s.bytes, o.max_bytes);
  EXPECT_GT(s.hits, 0u);
  // Each of the 16 shards keeps its window in [1, 63].
  EXPECT_GE(cache.window_entries(), 16u);
  EXPECT_LE(worst_window.load(), 16u * 63);
  EXPECT_NE(cache.window_entries(), initial_window);
  cache.clear();
  EXPECT_EQ(cache.bytes(), 0u);
}

// --- Values held decoded (what CacheAside's near tier keeps) -------------------------------

struct Decoded {
  explicit Decoded(std::string v) : value(std::move(v)) {}
  std::string value;
};

bool store_decoded(NearCache& cache, const std::string& key, std::shared_ptr<const Decoded> value,
                   std::size_t bytes) {
  NearCache::Fetch fetch = cache.begin_fetch(key);
  return cache.complete_decoded(fetch, std::move(value), bytes, std::nullopt);
}

TEST(NearCacheDecodedTest, Hit_SharesTheStoredObject_NeverACopy) {
  NearCache cache(NearCacheOptions{});
  auto value = std::make_shared<const Decoded>("v");
  ASSERT_TRUE(store_decoded(cache, "k", value, 10));
  for (int i = 0; i < 3; ++i) {
    const NearCache::Decoded hit = cache.get_decoded("k");
    EXPECT_EQ(hit.get(), value.get());  // the same object every time
  }
  EXPECT_EQ(cache.stats().hits, 3u);
  // The stored kind only: the bytes API misses a decoded entry (and the other way round).
  EXPECT_FALSE(cache.get("k").has_value());
  ASSERT_TRUE(store(cache, "b", "bytes"));
  EXPECT_EQ(cache.get_decoded("b"), nullptr);
  EXPECT_EQ(cache.get("b"), "bytes");
}

TEST(NearCacheDecodedTest, Charge_IsTheEstimateGiven_NotTheBytes) {
  NearCacheOptions o;
  o.shards = 1;
  o.max_bytes = 10000;
  NearCache cache(o);
  ASSERT_TRUE(store_decoded(cache, "k", std::make_shared<const Decoded>("v"), 500));
  EXPECT_EQ(cache.bytes(), NearCache::charge(1, 500));
  // An estimate above the budget is never held.
  EXPECT_FALSE(store_decoded(cache, "big", std::make_shared<const Decoded>("v"), 20000));
  EXPECT_EQ(cache.get_decoded("big"), nullptr);
  // The byte bound holds over estimates: 30 entries of 500 + overhead fit 10000 only in part.
  for (int i = 0; i < 30; ++i) {
    store_decoded(cache, "e" + std::to_string(i), std::make_shared<const Decoded>("v"), 500);
  }
  EXPECT_LE(cache.bytes(), 10000u);
  // A null value is not stored, and the fetch ends.
  NearCache::Fetch fetch = cache.begin_fetch("null");
  EXPECT_FALSE(cache.complete_decoded(fetch, nullptr, 1, std::nullopt));
}

TEST(NearCacheDecodedTest, InvalidatedDuringFetch_DecodedValueDropped) {
  NearCache cache(NearCacheOptions{});
  NearCache::Fetch fetch = cache.begin_fetch("k");
  cache.invalidate("k");
  EXPECT_FALSE(
      cache.complete_decoded(fetch, std::make_shared<const Decoded>("old"), 10, std::nullopt));
  EXPECT_EQ(cache.get_decoded("k"), nullptr);
  EXPECT_EQ(cache.stats().stale_fetches, 1u);
}

TEST(NearCacheDecodedTest, EvictedWhileReaderHoldsIt_ReaderKeepsAValidObject) {
  NearCacheOptions o;
  o.max_entries = 1;
  o.shards = 1;
  NearCache cache(o);
  ASSERT_TRUE(store_decoded(cache, "k", std::make_shared<const Decoded>("held"), 10));
  const NearCache::Decoded held = cache.get_decoded("k");
  cache.invalidate("k");
  cache.clear();
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(static_cast<const Decoded*>(held.get())->value, "held");
}

// Readers share decoded objects while writers replace and invalidate them (run under TSan: the
// shared objects are immutable, only their reference counts move).
TEST(NearCacheDecodedTest, ConcurrentReadersAndWriters_EveryHitIsAWholeValue) {
  NearCacheOptions o;
  o.max_entries = 64;
  NearCache cache(o);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!stop.load()) {
        const std::string key = "k" + std::to_string(rng() % 100);
        if (const NearCache::Decoded hit = cache.get_decoded(key)) {
          // Each value names its key: never another key's object, never a torn one.
          EXPECT_EQ(static_cast<const Decoded*>(hit.get())->value, "value of " + key);
          ++hits;
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(100 + t));
      for (int i = 0; i < 20000 / kWorkScale; ++i) {
        const std::string key = "k" + std::to_string(rng() % 100);
        if (rng() % 4 == 0) {
          cache.invalidate(key);
        } else {
          store_decoded(cache, key, std::make_shared<const Decoded>("value of " + key), 64);
        }
      }
    });
  }
  threads[4].join();
  threads[5].join();
  stop = true;
  for (int t = 0; t < 4; ++t) threads[static_cast<std::size_t>(t)].join();
  EXPECT_GT(hits.load(), 0u);
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace rediscache
