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
#include <future>
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

#include "cache/entry.hpp"
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
  // JSON-like records: compressible, within the ratio a reader accepts (kMaxCompressionRatio).
  std::string big;
  for (int i = 0; big.size() < 200'000; ++i) {
    big += R"({"id":)" + std::to_string(i * 7919 % 100003) + R"(,"name":"user-)" +
           std::to_string(i) + R"("},)";
  }
  plain.set("p", big);
  compressed.set("c", big);
  Client client = make_client(ep);
  EXPECT_GT(client.get(plain.key_for("p"))->size(), big.size());
  EXPECT_LT(client.get(compressed.key_for("c"))->size(), big.size() / 3);
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
  EXPECT_EQ(raw_key_command(ep, {"GETRANGE", cache.key_for("1"), "24", "-1"}),
            R"({"email":"ada@example.org","name":"Ada"})");
}

TEST(CacheAside, GetOrLoad_StoreFails_LeaseGivenBackAtOnce) {
  RedisServer server;  // private: the test makes it run out of memory
  CacheOptions options = base_options();
  StringCache cache(make_client(server.endpoint(), {}, 500ms), options);
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    // Holding the lease, Redis now refuses every write: the store fails with an OOM error.
    EXPECT_EQ(server.command({"CONFIG", "SET", "maxmemory", "1"}), "OK");
    return std::string("value");
  };
  EXPECT_EQ(cache.get_or_load("s", loader), "value");
  const std::string key = cache.key_for("s");
  const std::string lock_key = std::string(key).replace(options.name.size(), 0, ":lock");
  EXPECT_EQ(server.command({"EXISTS", key}), "0");  // not stored
  EXPECT_EQ(server.command({"EXISTS", lock_key}), "0")
      << "the lease outlived the failed store: readers would wait lock.max_wait for it";
  EXPECT_EQ(server.command({"CONFIG", "SET", "maxmemory", "0"}), "OK");
}

TEST(CacheAside, GetOrLoad_WrongTypeUnderKey_CorruptEntryDeletedAndReloaded) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string("good");
  };
  cache.get_or_load("w", loader);  // learn the version
  const std::string key = cache.key_for("w");
  raw_key_command(ep, {"DEL", key});
  raw_key_command(ep, {"RPUSH", key, "a", "list"});
  EXPECT_EQ(cache.get_or_load("w", loader), "good");
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.stats().decode_errors, 1u);
  EXPECT_EQ(cache.stats().breaker_opens, 0u);
  EXPECT_EQ(raw_key_command(ep, {"TYPE", key}), "string");  // repaired: reloaded and stored
  EXPECT_EQ(cache.get_or_load("w", loader), "good");
  EXPECT_EQ(loads, 2);  // now a hit
}

TEST(CacheAside, GetOrLoad_TruncatedOrDeepEntry_CorruptNotServed) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.compress_above.reset();
  StringCache cache(make_client(ep), options);
  CacheAside<nlohmann::json> json_cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string("a value of some length");
  };
  cache.get_or_load("t", loader);
  const std::string key = cache.key_for("t");
  const std::string stored = *make_client(ep).get(key);
  raw_key_command(ep, {"SET", key, stored.substr(0, stored.size() - 3), "PX", "60000"});
  EXPECT_EQ(cache.get_or_load("t", loader), "a value of some length");
  EXPECT_EQ(loads, 2);  // the truncated entry was a miss, not a hit on a shorter string
  EXPECT_EQ(cache.stats().decode_errors, 1u);

  // A million-deep array planted as a well-formed entry: a CodecError, not a crash.
  const std::size_t depth = 1'000'000;
  const std::string planted =
      rediscache::detail::encode_entry({}, std::string(depth, '[') + std::string(depth, ']'), {});
  const std::string json_key = json_cache.key_for("deep");
  raw_key_command(ep, {"SET", json_key, planted, "PX", "60000"});
  int json_loads = 0;
  const auto json_loader = [&](std::string_view) -> std::optional<nlohmann::json> {
    ++json_loads;
    return nlohmann::json{{"ok", true}};
  };
  EXPECT_EQ(json_cache.get_or_load("deep", json_loader), (nlohmann::json{{"ok", true}}));
  EXPECT_EQ(json_loads, 1);
  EXPECT_EQ(json_cache.stats().decode_errors, 1u);
}

TEST(CacheAside, Invalidate_ReadStartedAfterIt_DoesNotJoinTheEarlierLoad) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::mutex mu;
  std::condition_variable cv;
  bool loading = false;
  bool release = false;
  std::thread early([&] {
    const auto value = cache.get_or_load("y", [&](std::string_view) -> std::optional<std::string> {
      std::unique_lock<std::mutex> lock(mu);
      loading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return std::string("before-invalidate");
    });
    EXPECT_EQ(value, "before-invalidate");  // its own caller started before the invalidation
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return loading; });
  }
  cache.invalidate("y");  // the database changed; invalidate() has returned
  auto late = std::async(std::launch::async, [&] {
    return cache.get_or_load(
        "y", [](std::string_view) -> std::optional<std::string> { return "after-invalidate"; });
  });
  // Joining the earlier load would block until it is released, and then return its old value.
  const bool done = late.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  early.join();
  ASSERT_TRUE(done) << "a read started after invalidate() joined a load that began before it";
  EXPECT_EQ(late.get(), "after-invalidate");
  EXPECT_EQ(cache.get_or_load(
                "y", [](std::string_view) -> std::optional<std::string> { return "reloaded"; }),
            "after-invalidate");  // the later load was cached; the earlier one was not
}

}  // namespace
