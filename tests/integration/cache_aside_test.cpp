// CacheAside against a real redis-server: loading and caching, negative entries, TTLs and
// jitter, compression and size limits, invalidation and namespace versions, JSON values.
#include "rediscache/cache/cache_aside.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "cache_aside_support.hpp"
#include "client_factory.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)

TEST(CacheAside, GetOrLoad_Miss_LoadsThenHits) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::atomic<int> loads{0};
  const StringCache::Loader loader = [&](std::string_view id) -> std::optional<std::string> {
    ++loads;
    return "value-" + std::string(id);
  };
  EXPECT_EQ(cache.get_or_load("42", loader), "value-42");
  EXPECT_EQ(cache.get_or_load("42", loader), "value-42");
  EXPECT_EQ(loads.load(), 1);
  const rediscache::CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.loads, 1u);
  EXPECT_EQ(stats.writes, 1u);
  EXPECT_EQ(stats.get_latency.count, 2u);
  // The key has the documented layout and an expiry.
  const std::string key = cache.key_for("42");
  EXPECT_EQ(key.rfind(cache.options().name + ":v", 0), 0u) << key;
  EXPECT_EQ(key.substr(key.size() - 5), "{:42}");
  EXPECT_GT(std::stoll(raw_key_command(ep, {"PTTL", key})), 0);
}

TEST(CacheAside, GetOrLoad_EmptyValue_IsAHitNotAMiss) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  int loads = 0;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string();
  };
  EXPECT_EQ(cache.get_or_load("e", loader), "");
  EXPECT_EQ(cache.get_or_load("e", loader), "");
  EXPECT_EQ(loads, 1);  // the seed's `if cached:` would reload an empty value every time
}

TEST(CacheAside, GetOrLoad_NotFound_CachedWithNegativeTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.negative_ttl = 5s;
  options.ttl_jitter = 0;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::nullopt;
  };
  EXPECT_FALSE(cache.get_or_load("missing", loader).has_value());
  EXPECT_FALSE(cache.get_or_load("missing", loader).has_value());
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.stats().negative_hits, 1u);
  const long long pttl = std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("missing")}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 5000);

  CacheOptions no_negative = base_options();
  no_negative.negative_ttl.reset();
  StringCache uncached(make_client(ep), no_negative);
  const NamespaceCleanup cleanup2{ep, no_negative.name};
  EXPECT_FALSE(uncached.get_or_load("missing", loader).has_value());
  EXPECT_FALSE(uncached.get_or_load("missing", loader).has_value());
  EXPECT_EQ(loads, 3);
}

TEST(CacheAside, Set_EveryKeyHasTtl_JitterSpreadsExpiries) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.ttl = 100s;
  options.ttl_jitter = 0.2;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  const StringCache::Loader loader = [](std::string_view id) -> std::optional<std::string> {
    if (id.front() == 'n') return std::nullopt;
    return std::string(id);
  };
  const auto first_write = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) cache.get_or_load("k" + std::to_string(i), loader);
  for (int i = 0; i < 5; ++i) cache.get_or_load("n" + std::to_string(i), loader);
  cache.set("explicit", "v");
  cache.get_many({"m1", "m2", "n9"}, [](const std::vector<std::string>& ids) {
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) {
      if (id.front() != 'n') out.emplace(id, id);
    }
    return out;
  });
  Client client = make_client(ep);
  const std::vector<std::string> keys = namespace_keys(client, options.name);
  EXPECT_EQ(keys.size(), 40u + 5u + 1u + 3u + 1u);  // entries + the version key; no locks left
  std::vector<long long> entry_ttls;
  for (const std::string& key : keys) {
    const long long pttl = client.pttl(key);
    EXPECT_GT(pttl, 0) << key << " has no expiry";
    if (key.find(":vk") == std::string::npos && key.find(":k") != std::string::npos) {
      entry_ttls.push_back(pttl);
    }
  }
  ASSERT_EQ(entry_ttls.size(), 40u);
  // A PTTL has run down by the time since its key was written (seconds under TSan).
  const long long elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - first_write)
                                   .count();
  const auto [lo, hi] = std::minmax_element(entry_ttls.begin(), entry_ttls.end());
  EXPECT_GE(*lo, 80'000 - elapsed_ms);  // 100 s - 20 %
  EXPECT_LE(*hi, 120'000);
  EXPECT_GT(*hi - *lo, 10'000) << "jitter should spread 40 expiries over most of +-20 s";
  EXPECT_GT(std::set<long long>(entry_ttls.begin(), entry_ttls.end()).size(), 30u);
}

TEST(CacheAside, GetOrLoad_LargeValues_CompressedAndPlainCoexist) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions plain_options = base_options();
  plain_options.compress_above.reset();
  CacheOptions zstd_options = plain_options;
  zstd_options.compress_above = 1024;
  StringCache plain(make_client(ep), plain_options);
  StringCache compressed(make_client(ep), zstd_options);
  const NamespaceCleanup cleanup{ep, plain_options.name};
  const std::string big(200'000, 'z');
  plain.set("p", big);
  compressed.set("c", big);
  Client client = make_client(ep);
  EXPECT_GT(client.get(plain.key_for("p"))->size(), 200'000u);
  EXPECT_LT(client.get(compressed.key_for("c"))->size(), 2'000u);
  const StringCache::Loader never = [](std::string_view) -> std::optional<std::string> {
    throw std::logic_error("should hit");
  };
  EXPECT_EQ(plain.get_or_load("c", never), big);  // each reads the other's format
  EXPECT_EQ(compressed.get_or_load("p", never), big);
}

TEST(CacheAside, MaxValueBytes_GetOrLoadReturnsUncached_SetThrows) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.max_value_bytes = 1000;
  options.compress_above.reset();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const std::string huge(5000, 'h');
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return huge;
  };
  EXPECT_EQ(cache.get_or_load("h", loader), huge);  // the value is never lost
  EXPECT_EQ(cache.get_or_load("h", loader), huge);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.stats().oversize, 2u);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("h")}), "0");
  EXPECT_EQ(
      raw_key_command(ep, {"EXISTS", cache.key_for("h").replace(options.name.size(), 0, ":lock")}),
      "0");  // the lease was released
  try {
    cache.set("h", huge);
    ADD_FAILURE() << "expected std::length_error";
  } catch (const std::length_error& e) {
    EXPECT_NE(std::string(e.what()).find("max_value_bytes"), std::string::npos);
  }
}

TEST(CacheAside, Invalidate_DeletesEntry_NextReadLoads) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  int version = 1;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    return "v" + std::to_string(version);
  };
  EXPECT_EQ(cache.get_or_load("i", loader), "v1");
  version = 2;
  EXPECT_EQ(cache.get_or_load("i", loader), "v1");
  cache.invalidate("i");
  EXPECT_EQ(cache.get_or_load("i", loader), "v2");
  EXPECT_EQ(cache.stats().invalidations, 1u);
}

TEST(CacheAside, InvalidateAll_BumpsVersion_OtherInstancesFollowWithinInterval) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.version_check_interval = 200ms;
  StringCache a(make_client(ep), options);
  StringCache b(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int generation = 1;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    return "g" + std::to_string(generation);
  };
  EXPECT_EQ(a.get_or_load("k", loader), "g1");
  EXPECT_EQ(b.get_or_load("k", loader), "g1");
  const std::string old_key = a.key_for("k");
  generation = 2;
  a.invalidate_all();
  EXPECT_NE(a.key_for("k"), old_key);
  EXPECT_EQ(a.get_or_load("k", loader), "g2");  // at once in the instance that bumped
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(b.get_or_load("k", loader), "g2");  // within version_check_interval elsewhere
  // Versions come from the server clock, so a lost version key can never reuse an old version.
  const long long before = std::stoll(raw_key_command(ep, {"GET", options.name + ":version"}));
  EXPECT_GT(before, 1'700'000'000'000);
  raw_key_command(ep, {"DEL", options.name + ":version"});
  rediscache::KeySpace keys(make_client(ep), options.name);
  EXPECT_GT(keys.refresh(), before);  // restarts at the clock, above every earlier version
  const long long bumped = keys.bump();
  EXPECT_EQ(keys.cached_version(), bumped);
}

TEST(CacheAside, JsonStruct_RoundTripsThroughRedis) {
  REDISCACHE_REQUIRE_REDIS(ep);
  using Row = std::map<std::string, std::string>;
  CacheAside<Row> cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  const Row row{{"name", "Ada"}, {"email", "ada@example.org"}};
  EXPECT_EQ(cache.get_or_load("1", [&](std::string_view) { return std::optional<Row>(row); }), row);
  EXPECT_EQ(raw_key_command(ep, {"GETRANGE", cache.key_for("1"), "16", "-1"}),
            R"({"email":"ada@example.org","name":"Ada"})");
}

}  // namespace
