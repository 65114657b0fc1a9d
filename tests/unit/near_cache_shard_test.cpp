// Unit tests of one near-cache shard, with no server and an explicit clock: LRU and W-TinyLFU
// eviction, the byte bound, expiry, and fetches invalidated while in flight.
#include "near/near_cache_shard.hpp"

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

using Clock = NearCacheShard::Clock;

struct Shard {
  Shard(std::size_t max_entries, std::size_t max_bytes, NearCachePolicy policy)
      : shard(max_entries, max_bytes, options_for(policy)) {}

  static NearCacheOptions options_for(NearCachePolicy policy) {
    NearCacheOptions options;
    options.policy = policy;
    options.window_fraction = 0.2;
    return options;
  }
  static std::uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  bool put(const std::string& key, const std::string& value,
           std::chrono::milliseconds ttl = std::chrono::hours(1)) {
    const std::uint64_t generation = shard.begin_fetch(key);
    return shard.complete(key, hash(key), generation, 0, epoch, enabled, value, now + ttl);
  }
  std::optional<std::string> get(const std::string& key) {
    return shard.get(key, hash(key), now, true);
  }

  NearCacheShard shard;
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<bool> enabled{true};
  Clock::time_point now = Clock::time_point(std::chrono::hours(1000));
};

TEST(NearCacheShard, Lru_FullShard_EvictsTheLeastRecentlyUsed) {
  Shard s(3, 1 << 20, NearCachePolicy::kLru);
  ASSERT_TRUE(s.put("a", "1"));
  ASSERT_TRUE(s.put("b", "2"));
  ASSERT_TRUE(s.put("c", "3"));
  ASSERT_TRUE(s.get("a"));  // b is now the least recently used
  ASSERT_TRUE(s.put("d", "4"));
  EXPECT_EQ(s.shard.size(), 3U);
  EXPECT_FALSE(s.get("b"));
  EXPECT_EQ(s.get("a"), "1");
  EXPECT_EQ(s.get("c"), "3");
  EXPECT_EQ(s.get("d"), "4");
}

TEST(NearCacheShard, ByteBound_NeverExceededAndOversizeRejected) {
  const std::size_t one = NearCache::charge(2, 100);
  Shard s(100, 3 * one, NearCachePolicy::kLru);
  for (int i = 0; i < 10; ++i) {
    s.put("k" + std::to_string(i), std::string(100, 'x'));
    EXPECT_LE(s.shard.bytes(), 3 * one);
  }
  EXPECT_EQ(s.shard.size(), 3U);
  EXPECT_FALSE(s.put("huge", std::string(4 * one, 'x')));
}

TEST(NearCacheShard, PastExpiry_MissAndEntryDropped) {
  Shard s(10, 1 << 20, NearCachePolicy::kLru);
  ASSERT_TRUE(s.put("a", "1", std::chrono::milliseconds(50)));
  s.now += std::chrono::milliseconds(49);
  EXPECT_EQ(s.get("a"), "1");
  s.now += std::chrono::milliseconds(1);
  EXPECT_FALSE(s.get("a"));
  EXPECT_EQ(s.shard.size(), 0U);
}

TEST(NearCacheShard, InvalidatedDuringFetch_ValueNotStored) {
  Shard s(10, 1 << 20, NearCachePolicy::kLru);
  const std::uint64_t generation = s.shard.begin_fetch("a");
  s.shard.invalidate("a");  // the value being fetched may predate this write
  EXPECT_FALSE(
      s.shard.complete("a", Shard::hash("a"), generation, 0, s.epoch, s.enabled, "old", s.now));
  EXPECT_FALSE(s.get("a"));
}

TEST(NearCacheShard, InvalidatePrefix_DropsOnlyThatPrefix) {
  Shard s(10, 1 << 20, NearCachePolicy::kLru);
  s.put("ns:1", "a");
  s.put("ns:2", "b");
  s.put("other", "c");
  s.shard.invalidate_prefix("ns:");
  EXPECT_FALSE(s.get("ns:1"));
  EXPECT_FALSE(s.get("ns:2"));
  EXPECT_EQ(s.get("other"), "c");
}

TEST(NearCacheShard, WTinyLfu_FrequentKeySurvivesAScan) {
  Shard s(20, 1 << 20, NearCachePolicy::kWTinyLfu);
  ASSERT_TRUE(s.put("hot", "h"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(s.get("hot"));
  for (int i = 0; i < 500; ++i) s.put("scan" + std::to_string(i), "s");  // each seen once
  EXPECT_EQ(s.get("hot"), "h");
  EXPECT_LE(s.shard.size(), 20U);
}

TEST(NearCacheShard, Lru_ScanEvictsEvenAFrequentKey) {
  Shard s(20, 1 << 20, NearCachePolicy::kLru);
  ASSERT_TRUE(s.put("hot", "h"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(s.get("hot"));
  for (int i = 0; i < 500; ++i) s.put("scan" + std::to_string(i), "s");
  EXPECT_FALSE(s.get("hot"));  // what W-TinyLFU's admission is for
}

}  // namespace
}  // namespace rediscache::detail
