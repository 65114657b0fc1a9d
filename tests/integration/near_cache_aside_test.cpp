// CacheAside with its optional near tier (CacheOptions::near_cache) against a real Redis: hot
// reads served from process memory, and set / invalidate / invalidate_all / plain writes seen
// by every instance.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "eventually.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/client/client.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using StringCache = CacheAside<std::string>;

using test::eventually;

// The shared test support (tests/support/client_factory.hpp).
using test::make_client;
using test::unique_namespace;

CacheOptions near_options(const std::string& name, InvalidationMode mode) {
  CacheOptions o;
  o.name = name;
  o.ttl = std::chrono::seconds(60);
  NearTierOptions near;
  near.cache.max_entries = 1000;
  near.invalidation.mode = mode;
  near.invalidation.channel = name + ":near-invalidate";
  near.invalidation.initial_backoff = milliseconds(10);
  o.near_cache = near;
  return o;
}

bool near_enabled(const StringCache& cache) { return cache.stats().near.enabled; }

class NearCacheAsideTest : public ::testing::TestWithParam<InvalidationMode> {};

TEST_P(NearCacheAsideTest, HotRead_ServedFromNearTier_LoaderAndRedisSkipped) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), near_options(unique_namespace(), GetParam()));
  ASSERT_TRUE(eventually([&] { return near_enabled(cache); }));
  std::atomic<int> loads{0};
  const auto loader = [&](std::string_view id) -> std::optional<std::string> {
    ++loads;
    return "value-" + std::string(id);
  };
  EXPECT_EQ(cache.get_or_load("42", loader), "value-42");  // loads and stores
  // The store's own invalidation may drop the first local copy; within a few reads the key is
  // held locally and reads stop reaching Redis.
  ASSERT_TRUE(eventually([&] {
    const std::uint64_t before = cache.stats().near.hits;
    return cache.get_or_load("42", loader) == "value-42" && cache.stats().near.hits > before;
  }));
  const CacheStats before = cache.stats();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cache.get_or_load("42", loader), "value-42");
  const CacheStats after = cache.stats();
  EXPECT_EQ(after.near.hits - before.near.hits, 100u);
  EXPECT_EQ(after.bytes_read, before.bytes_read);  // counts Redis reads only
  EXPECT_EQ(after.hits - before.hits, 100u);
  EXPECT_EQ(loads.load(), 1);
  cache.invalidate("42");
}

TEST_P(NearCacheAsideTest, SetAndInvalidateInOneInstance_SeenByAnother) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_namespace();
  StringCache a(make_client(ep), near_options(name, GetParam()));
  StringCache b(make_client(ep), near_options(name, GetParam()));
  ASSERT_TRUE(eventually([&] { return near_enabled(a) && near_enabled(b); }));
  std::atomic<int> loads{0};
  const auto loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string("loaded");
  };
  a.set("7", "v1");
  ASSERT_TRUE(eventually([&] {
    const std::uint64_t before = b.stats().near.hits;
    return b.get_or_load("7", loader) == "v1" && b.stats().near.hits > before;
  }));

  a.set("7", "v2");
  EXPECT_TRUE(eventually([&] { return b.get_or_load("7", loader) == "v2"; }));

  a.invalidate("7");
  EXPECT_TRUE(eventually([&] { return b.get_or_load("7", loader) == "loaded"; }));
  EXPECT_GE(loads.load(), 1);
  b.invalidate("7");
}

TEST_P(NearCacheAsideTest, GetMany_HotIdsServedFromNearTier_InvalidationsStillSeen) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_namespace();
  StringCache a(make_client(ep), near_options(name, GetParam()));
  StringCache b(make_client(ep), near_options(name, GetParam()));
  ASSERT_TRUE(eventually([&] { return near_enabled(a) && near_enabled(b); }));
  std::atomic<int> loader_calls{0};
  const StringCache::BatchLoader loader = [&](const std::vector<std::string>& ids) {
    ++loader_calls;
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "db-" + id);
    return out;
  };
  const std::vector<std::string> ids{"1", "2", "3", "4"};
  const std::vector<std::optional<std::string>> loaded{"db-1", "db-2", "db-3", "db-4"};
  EXPECT_EQ(b.get_many(ids, loader), loaded);
  // Within a few batches every id is held locally: a whole batch then never reaches Redis.
  ASSERT_TRUE(eventually([&] {
    const CacheStats before = b.stats();
    const bool same = b.get_many(ids, loader) == loaded;
    const CacheStats after = b.stats();
    return same && after.near.hits - before.near.hits == ids.size() &&
           after.bytes_read == before.bytes_read;
  }));
  EXPECT_EQ(loader_calls.load(), 1);

  a.set("3", "new-3");  // another instance writes: b's batch sees it
  EXPECT_TRUE(eventually([&] {
    return b.get_many(ids, loader) ==
           std::vector<std::optional<std::string>>{"db-1", "db-2", "new-3", "db-4"};
  }));
  a.invalidate("2");
  EXPECT_TRUE(eventually([&] { return b.get_many(ids, loader)[1] == "db-2" && loader_calls > 1; }));
}

TEST_P(NearCacheAsideTest, InvalidateAll_DropsOtherInstancesNearEntries) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_namespace();
  StringCache a(make_client(ep), near_options(name, GetParam()));
  StringCache b(make_client(ep), near_options(name, GetParam()));
  ASSERT_TRUE(eventually([&] { return near_enabled(a) && near_enabled(b); }));
  const auto loader = [](std::string_view id) -> std::optional<std::string> {
    return std::string(id);
  };
  for (int i = 0; i < 20; ++i) b.get_or_load(std::to_string(i), loader);
  ASSERT_TRUE(eventually([&] {
    for (int i = 0; i < 20; ++i) b.get_or_load(std::to_string(i), loader);
    return b.stats().near.entries >= 10;
  }));
  a.invalidate_all();
  EXPECT_TRUE(eventually([&] { return b.stats().near.entries == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Modes, NearCacheAsideTest,
                         ::testing::Values(InvalidationMode::kServerAssisted,
                                           InvalidationMode::kPubSub),
                         [](const ::testing::TestParamInfo<InvalidationMode>& info) {
                           return info.param == InvalidationMode::kPubSub ? "PubSub"
                                                                          : "ServerAssisted";
                         });

TEST(NearCacheAsideServerAssistedTest, PlainWriteToEntryKey_DropsNearCopy) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep),
                    near_options(unique_namespace(), InvalidationMode::kServerAssisted));
  ASSERT_TRUE(eventually([&] { return near_enabled(cache); }));
  const auto loader = [](std::string_view) -> std::optional<std::string> {
    return std::string("v1");
  };
  ASSERT_TRUE(eventually([&] {
    const std::uint64_t before = cache.stats().near.hits;
    return cache.get_or_load("1", loader) == "v1" && cache.stats().near.hits > before;
  }));
  const std::string key = cache.key_for("1");
  const std::uint64_t dropped = cache.stats().near.invalidations;
  // Another program deletes the entry; only tracking can tell this instance.
  ASSERT_EQ(test::raw_key_command(ep, {"DEL", key}), "1");
  EXPECT_TRUE(eventually([&] { return cache.stats().near.invalidations > dropped; }));
  cache.invalidate("1");
}

TEST(NearCacheAsideOptionsTest, InvalidNearOptions_NameTheField) {
  CacheOptions o = near_options("ns", InvalidationMode::kAuto);
  o.near_cache->cache.max_entries = 0;
  try {
    o.validate();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("NearCacheOptions::max_entries"), std::string::npos);
  }
}

}  // namespace
}  // namespace rediscache
