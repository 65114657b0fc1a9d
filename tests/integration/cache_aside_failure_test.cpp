// CacheAside when something fails: Redis stopped, unreachable or paused (the circuit
// breaker), a loader that throws (stale serving), and corrupt entries.
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
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)

TEST(CacheAside, GetOrLoad_RedisStoppedAndRestarted_BreakerKeepsServingAndRecovers) {
  RedisServer server;
  CacheOptions options = base_options();
  options.breaker.failure_threshold = 3;
  options.breaker.cool_down = 500ms;
  StringCache cache(make_client(server.endpoint(), {}, 200ms), options);
  std::atomic<int> loads{0};
  const StringCache::Loader loader = [&](std::string_view id) -> std::optional<std::string> {
    ++loads;
    return "db-" + std::string(id);
  };
  EXPECT_EQ(cache.get_or_load("warm", loader), "db-warm");
  EXPECT_EQ(cache.get_or_load("warm", loader), "db-warm");
  EXPECT_EQ(loads.load(), 1);

  server.stop();
  // Redis down: every read is still served, by the loader.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(cache.get_or_load("d" + std::to_string(i), loader), "db-d" + std::to_string(i));
  }
  EXPECT_GE(cache.stats().breaker_opens, 1u);
  const auto started = std::chrono::steady_clock::now();
  constexpr int kCalls = 50;
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(cache.get_or_load("x" + std::to_string(i), loader), "db-x" + std::to_string(i));
  }
  const auto per_call = (std::chrono::steady_clock::now() - started) / kCalls;
  EXPECT_LT(per_call, 5ms) << "an open breaker must not pay a Redis timeout per call";
  EXPECT_GT(cache.stats().breaker_rejections, 0u);

  server.start();
  // After the cool-down a probe finds Redis back, and caching resumes by itself.
  bool cached = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!cached && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    cache.get_or_load("back", loader);
    const int before = loads.load();
    cache.get_or_load("back", loader);
    cached = loads.load() == before;
  }
  EXPECT_TRUE(cached) << "caching did not resume after Redis came back";
}

TEST(CacheAside, GetOrLoad_RedisNeverReachable_LoaderServesEveryRead) {
  ConnectionOptions nowhere;
  nowhere.port = 1;  // refused at once
  nowhere.connect_timeout = 200ms;
  StringCache cache(Client(nowhere), base_options());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(
        cache.get_or_load("a", [](std::string_view) { return std::optional<std::string>("x"); }),
        "x");
  }
  const auto values = cache.get_many({"a", "b"}, [](const std::vector<std::string>& ids) {
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "m" + id);
    return out;
  });
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"ma", "mb"}));
  EXPECT_GT(cache.stats().redis_errors, 0u);
  // Writes: invalidate() queues what Redis missed (CacheOptions::recovery); invalidate_now()
  // reports the failure.
  EXPECT_EQ(cache.invalidate("a"), rediscache::WriteResult::kQueued);
  EXPECT_THROW(cache.invalidate_now("a"), rediscache::IoError);
}

TEST(CacheAside, GetOrLoad_RedisPaused_CommandTimeoutThenLoader) {
  RedisServer server;
  CacheOptions options = base_options();
  StringCache cache(make_client(server.endpoint(), {}, 150ms), options);
  const StringCache::Loader loader = [](std::string_view) {
    return std::optional<std::string>("v");
  };
  EXPECT_EQ(cache.get_or_load("p", loader), "v");
  server.command({"CLIENT", "PAUSE", "1500", "ALL"});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(cache.get_or_load("q", loader), "v");  // slow Redis: timeout, then the loader
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1400ms);
  EXPECT_GE(cache.stats().redis_errors, 1u);
}

struct DbDown : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(CacheAside, GetOrLoad_LoaderThrows_StaleServedWithinWindowOnly) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 10s;
  options.ttl_jitter = 0;
  options.stale_window = 30s;
  options.clock = clock.fn();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  bool fail = false;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    if (fail) throw DbDown("database down");
    return std::string("v1");
  };
  EXPECT_EQ(cache.get_or_load("s", loader), "v1");
  // Redis keeps the entry for ttl + stale window.
  const long long pttl = std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("s")}));
  EXPECT_GT(pttl, 30'000);
  EXPECT_LE(pttl, 40'000);

  fail = true;
  clock.advance(5s);  // still fresh: no load at all
  EXPECT_EQ(cache.get_or_load("s", loader), "v1");
  clock.advance(10s);  // 15 s: expired, inside the 30 s stale window
  EXPECT_EQ(cache.get_or_load("s", loader), "v1");
  EXPECT_EQ(cache.stats().stale_served, 1u);
  clock.advance(30s);  // 45 s: beyond the window (the entry is still in Redis, logically dead)
  try {
    cache.get_or_load("s", loader);
    ADD_FAILURE() << "expected the loader's exception";
  } catch (const DbDown& e) {
    EXPECT_STREQ(e.what(), "database down");  // unchanged
  }
  EXPECT_EQ(cache.stats().stale_served, 1u);
  EXPECT_EQ(cache.stats().load_errors, 2u);
}

TEST(CacheAside, GetOrLoad_LoaderThrowsNoStale_ExceptionReachesEveryWaiter) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::atomic<int> loads{0};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    std::this_thread::sleep_for(100ms);
    throw DbDown("boom");
  };
  std::atomic<int> caught{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        cache.get_or_load("f", loader);
      } catch (const DbDown&) {
        ++caught;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(caught.load(), 8);
  EXPECT_LE(loads.load(), 2);  // single flight; a thread arriving after the failure may retry
  // The failed load left no lock behind: the next call loads at once.
  EXPECT_EQ(
      cache.get_or_load("f", [](std::string_view) { return std::optional<std::string>("ok"); }),
      "ok");
}

TEST(CacheAside, GetOrLoad_CorruptedValue_CountedDeletedAndMissed) {
  REDISCACHE_REQUIRE_REDIS(ep);
  struct User {
    int id = 0;
    std::string name;
  };
  CacheOptions options = base_options();
  StringCache raw_cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string("good");
  };
  raw_cache.get_or_load("x", loader);  // learn the version
  const std::string key = raw_cache.key_for("x");
  raw_key_command(ep, {"SET", key, "garbage that is no entry", "PX", "60000"});
  EXPECT_EQ(raw_cache.get_or_load("x", loader), "good");
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(raw_cache.stats().decode_errors, 1u);

  // A well-formed entry whose payload the codec rejects (an older schema): also a miss.
  CacheAside<std::vector<int>> typed(make_client(ep), options);
  int typed_loads = 0;
  const auto typed_loader = [&](std::string_view) -> std::optional<std::vector<int>> {
    ++typed_loads;
    return std::vector<int>{1, 2};
  };
  raw_cache.set("y", "{\"not\":\"a list\"}");
  EXPECT_EQ(typed.get_or_load("y", typed_loader), (std::vector<int>{1, 2}));
  EXPECT_EQ(typed_loads, 1);
  EXPECT_EQ(typed.stats().decode_errors, 1u);
  EXPECT_EQ(typed.get_or_load("y", typed_loader), (std::vector<int>{1, 2}));
  EXPECT_EQ(typed_loads, 1);  // rewritten, now a hit
}

}  // namespace
