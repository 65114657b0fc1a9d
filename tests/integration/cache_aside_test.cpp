// CacheAside against a real redis-server: loading and caching, TTLs and jitter, stampede
// protection in one process and across forked processes, the circuit breaker with Redis stopped
// and restarted, stale serving, corrupt entries, size limits, batches, invalidation, leases and
// refresh-ahead. Logical time comes from an injected clock, so no test sleeps through a TTL.
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

#include "client_factory.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using rediscache::CacheAside;
using rediscache::CacheOptions;
using rediscache::Client;
using rediscache::ConnectionOptions;
using rediscache::RefreshMode;
using rediscache::test::Endpoint;
using rediscache::test::raw_key_command;
using rediscache::test::RedisServer;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

using StringCache = CacheAside<std::string>;

Client make_client(const Endpoint& ep, milliseconds timeout = 1000ms) {
  ConnectionOptions options = rediscache::test::connection_options(ep);
  options.connect_timeout = timeout;
  options.command_timeout = timeout;
  // The cluster rerun (REDISCACHE_TEST_TOPOLOGY=cluster) runs the shared server's tests on the
  // cluster; private servers stay single. Raw inspection goes through node_for_key().
  if (rediscache::test::is_shared_redis(ep) && rediscache::test::cluster_mode()) {
    rediscache::ClusterOptions cluster = rediscache::test::cluster_options();
    cluster.connection = options;
    return Client::cluster(cluster);
  }
  return Client(options);
}

// A namespace name unique to this test and process ([A-Za-z0-9_.-] only).
std::string unique_namespace() {
  std::string prefix = rediscache::test::unique_prefix();
  std::string name;
  for (const char c : prefix) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    name.push_back(ok ? c : '.');
  }
  return name;
}

CacheOptions base_options() {
  CacheOptions options;
  options.name = unique_namespace();
  options.ttl = 60s;
  return options;
}

// A wall clock the test moves by hand.
struct FakeClock {
  std::atomic<long long> ms{1'800'000'000'000};
  void advance(milliseconds d) { ms.fetch_add(d.count()); }
  std::function<std::chrono::system_clock::time_point()> fn() {
    return [this] { return std::chrono::system_clock::time_point(milliseconds(ms.load())); };
  }
};

// Deletes every key of a namespace when the test ends.
struct NamespaceCleanup {
  Endpoint ep;
  std::string name;
  ~NamespaceCleanup() {
    try {
      Client client = make_client(ep);
      rediscache::ScanOptions scan;
      scan.match = name + ":*";
      std::vector<std::string> keys;
      client.scan_each(scan, [&](std::string_view k) { keys.emplace_back(k); });
      if (!keys.empty()) client.del(keys);
    } catch (...) {  // NOLINT(bugprone-empty-catch): best effort
    }
  }
};

std::vector<std::string> namespace_keys(Client& client, const std::string& name) {
  rediscache::ScanOptions scan;
  scan.match = name + ":*";
  std::vector<std::string> keys;
  client.scan_each(scan, [&](std::string_view k) { keys.emplace_back(k); });
  return keys;
}

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

TEST(CacheAside, GetOrLoad_ConcurrentMisses_LoadOnce) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::atomic<int> loads{0};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    std::this_thread::sleep_for(100ms);  // a slow query: everyone else arrives meanwhile
    return std::string("cold");
  };
  constexpr int kThreads = 64;
  std::atomic<int> ready{0};
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      if (cache.get_or_load("hot", loader) == std::optional<std::string>("cold")) ++correct;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(correct.load(), kThreads);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.loads, 1u);
  EXPECT_EQ(stats.hits + stats.misses, static_cast<std::uint64_t>(kThreads));
}

TEST(CacheAside, GetOrLoad_ForkedProcesses_LoadOnceAcrossProcesses) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const CacheOptions options = base_options();
  const NamespaceCleanup cleanup{ep, options.name};
  constexpr int kProcesses = 4;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: no threads yet. Wait for the start signal (the parent closes the pipe), then
      // 8 threads hit one cold key. The exit code is this process's loader count.
      ::close(go[1]);
      char byte = 0;
      while (::read(go[0], &byte, 1) > 0) {
      }
      int code = 100;
      try {
        CacheOptions child_options = options;
        child_options.lock.max_wait = 8s;  // generous: sanitizer builds on 2 busy cores
        StringCache cache(make_client(ep), child_options);
        std::atomic<int> loads{0};
        std::atomic<int> wrong{0};
        const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
          ++loads;
          std::this_thread::sleep_for(300ms);
          return std::string("shared");
        };
        std::vector<std::thread> threads;
        threads.reserve(8);
        for (int t = 0; t < 8; ++t) {
          threads.emplace_back([&] {
            if (cache.get_or_load("cold", loader) != std::optional<std::string>("shared")) ++wrong;
          });
        }
        for (std::thread& t : threads) t.join();
        code = wrong.load() == 0 ? loads.load() : 101;
      } catch (...) {
        code = 102;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // all children start together
  int total = 0;
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    const int loads = WEXITSTATUS(status);
    EXPECT_LE(loads, 1) << "a process loaded more than once (or failed: 100+)";
    total += loads;
  }
  EXPECT_EQ(total, 1) << "the stampede lock should let exactly one process load";
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

TEST(CacheAside, GetOrLoad_RedisStoppedAndRestarted_BreakerKeepsServingAndRecovers) {
  RedisServer server;
  CacheOptions options = base_options();
  options.breaker.failure_threshold = 3;
  options.breaker.cool_down = 500ms;
  StringCache cache(make_client(server.endpoint(), 200ms), options);
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
  EXPECT_THROW(cache.invalidate("a"), rediscache::IoError);  // writes report the failure
}

TEST(CacheAside, GetOrLoad_RedisPaused_CommandTimeoutThenLoader) {
  RedisServer server;
  CacheOptions options = base_options();
  StringCache cache(make_client(server.endpoint(), 150ms), options);
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

TEST(CacheAside, GetMany_Misses_OneMgetOneLoaderCallOnePipeline) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  cache.set("1", "cached-1");
  std::vector<std::vector<std::string>> calls;
  const StringCache::BatchLoader loader = [&](const std::vector<std::string>& ids) {
    calls.push_back(ids);
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) {
      if (id != "404") out.emplace(id, "db-" + id);
    }
    return out;
  };
  const auto values = cache.get_many({"1", "2", "3", "404", "2"}, loader);
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"cached-1", "db-2", "db-3",
                                                             std::nullopt, "db-2"}));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::vector<std::string>{"2", "3", "404"}));  // misses only, once each
  const auto again = cache.get_many({"1", "2", "3", "404"}, loader);
  EXPECT_EQ(again,
            (std::vector<std::optional<std::string>>{"cached-1", "db-2", "db-3", std::nullopt}));
  EXPECT_EQ(calls.size(), 1u);  // everything cached, "not found" included
  EXPECT_GT(std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("3")})), 0);
  EXPECT_TRUE(cache.get_many({}, loader).empty());
  EXPECT_EQ(calls.size(), 1u);
}

// Calls of one command since the server started, from INFO commandstats.
long long command_calls(const RedisServer& server, const std::string& command) {
  const std::string info = server.command({"INFO", "commandstats"});
  const std::string tag = "cmdstat_" + command + ":calls=";
  const std::size_t at = info.find(tag);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + tag.size()));
}

TEST(CacheAside, GetMany_TenIds_OneMgetNoSingleGets) {
  RedisServer server;  // private: its command counters see only this test
  StringCache cache(make_client(server.endpoint()), base_options());
  cache.set("0", "zero");
  cache.set("1", "one");
  const long long mgets = command_calls(server, "mget");
  const long long gets = command_calls(server, "get");
  std::vector<std::string> ids;
  ids.reserve(10);
  for (int i = 0; i < 10; ++i) ids.push_back(std::to_string(i));
  int calls = 0;
  const auto values = cache.get_many(ids, [&](const std::vector<std::string>& missing) {
    ++calls;
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : missing) out.emplace(id, "db" + id);
    return out;
  });
  EXPECT_EQ(values[0], "zero");
  EXPECT_EQ(values[9], "db9");
  EXPECT_EQ(calls, 1);
  // Commandstats count the commands scripts run too: the second MGET is the store script's
  // read of the 8 leases, all in one script run. No GET at all.
  EXPECT_EQ(command_calls(server, "mget") - mgets, 2);
  EXPECT_EQ(command_calls(server, "get") - gets, 0);
  EXPECT_EQ(std::stoll(server.command({"DBSIZE"})), 11);  // 10 entries + the version key
}

TEST(CacheAside, GetMany_IdBeingLoadedElsewhere_AwaitedNotLoadedTwice) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::mutex mu;
  std::condition_variable cv;
  bool loading = false;
  bool release = false;
  std::thread slow([&] {
    cache.get_or_load("shared", [&](std::string_view) -> std::optional<std::string> {
      std::unique_lock<std::mutex> lock(mu);
      loading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return std::string("from-single");
    });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return loading; });
  }
  std::vector<std::string> asked;
  std::thread batch([&] {
    const auto values = cache.get_many({"own", "shared"}, [&](const std::vector<std::string>& ids) {
      asked = ids;
      std::unordered_map<std::string, std::string> out;
      for (const auto& id : ids) out.emplace(id, "from-batch");
      return out;
    });
    EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"from-batch", "from-single"}));
  });
  std::this_thread::sleep_for(100ms);  // let the batch reach its wait
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  slow.join();
  batch.join();
  EXPECT_EQ(asked, (std::vector<std::string>{"own"}));
}

TEST(CacheAside, GetMany_LoaderThrows_StaleServedOrRethrown) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 10s;
  options.stale_window = 60s;
  options.clock = clock.fn();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  cache.set("a", "old-a");
  clock.advance(20s);
  const StringCache::BatchLoader failing =
      [](const std::vector<std::string>&) -> std::unordered_map<std::string, std::string> {
    throw DbDown("batch down");
  };
  EXPECT_EQ(cache.get_many({"a"}, failing), (std::vector<std::optional<std::string>>{"old-a"}));
  EXPECT_THROW(cache.get_many({"a", "b"}, failing), DbDown);  // b has no stale copy
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

TEST(CacheAside, Invalidate_DuringLoad_OldLoadDoesNotOverwrite) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::mutex mu;
  std::condition_variable cv;
  bool loading = false;
  bool release = false;
  std::thread reader([&] {
    const auto value = cache.get_or_load("r", [&](std::string_view) -> std::optional<std::string> {
      std::unique_lock<std::mutex> lock(mu);
      loading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return std::string("read-before-update");
    });
    EXPECT_EQ(value, "read-before-update");
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return loading; });
  }
  cache.invalidate("r");  // the database changed while the read was loading
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  reader.join();
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("r")}), "0")
      << "a load that began before invalidate() must not cache its older value";
  EXPECT_EQ(cache.stats().lease_lost, 1u);
}

TEST(CacheAside, GetMany_InvalidateDuringLoad_OldLoadDoesNotOverwrite) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  const auto values = cache.get_many({"a", "b"}, [&](const std::vector<std::string>& ids) {
    cache.invalidate("a");  // the database changed "a" while the batch was reading it
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "read-before-update-" + id);
    return out;
  });
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"read-before-update-a",
                                                             "read-before-update-b"}));
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("a")}), "0")
      << "a batch load that began before invalidate() must not cache its older value";
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("b")}), "1");
  EXPECT_EQ(cache.stats().lease_lost, 1u);
  EXPECT_EQ(cache.stats().writes, 1u);
}

// The lock key of an entry: "<ns>:v<N>{:<id>}" -> "<ns>:lock:v<N>{:<id>}".
std::string lock_key_of(const StringCache& cache, const std::string& id) {
  return cache.key_for(id).replace(cache.options().name.size(), 0, ":lock");
}

TEST(CacheAside, GetMany_IdLeasedByAnotherProcess_LoadedButLeftToTheHolder) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  cache.set("warm", "w");  // fixes the namespace version, so the lock key below is the one used
  const std::string foreign = lock_key_of(cache, "busy");
  raw_key_command(ep, {"SET", foreign, "another-process", "PX", "30000"});
  int calls = 0;
  const auto values = cache.get_many({"busy", "free"}, [&](const std::vector<std::string>& ids) {
    ++calls;
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "db-" + id);
    return out;
  });
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"db-busy", "db-free"}));
  EXPECT_EQ(calls, 1);  // one loader call, no waiting for the holder
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("busy")}), "0");  // the holder writes
  EXPECT_EQ(raw_key_command(ep, {"GET", foreign}), "another-process");     // its lease untouched
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("free")}), "1");
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", lock_key_of(cache, "free")}), "0");  // ours given back
}

TEST(CacheAside, GetMany_LoaderThrowsOrNothingToCache_LeasesGivenBack) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.negative_ttl = std::nullopt;  // "not found" is not cached: its lease must go back
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  cache.set("warm", "w");
  EXPECT_THROW(
      cache.get_many(
          {"x", "y"},
          [](const std::vector<std::string>&) -> std::unordered_map<std::string, std::string> {
            throw DbDown("batch down");
          }),
      DbDown);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", lock_key_of(cache, "x")}), "0");
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", lock_key_of(cache, "y")}), "0");
  const auto values = cache.get_many({"x", "404"}, [](const std::vector<std::string>&) {
    return std::unordered_map<std::string, std::string>{{"x", "db-x"}};
  });
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"db-x", std::nullopt}));
  // One key per command: on the cluster rerun each id lives in its own slot.
  for (const std::string& key :
       {cache.key_for("404"), lock_key_of(cache, "404"), lock_key_of(cache, "x")}) {
    EXPECT_EQ(raw_key_command(ep, {"EXISTS", key}), "0") << key;
  }
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("x")}), "1");
}

TEST(CacheAside, GetMany_ScriptsFlushedOnTheServer_WriteBackStillStores) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  const auto loader = [](const std::vector<std::string>& ids) {
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "db-" + id);
    return out;
  };
  cache.get_many({"warm"}, loader);  // the store script is now known to the server
  raw_key_command(ep, {"SCRIPT", "FLUSH"});
  const auto values = cache.get_many({"p", "q", "r"}, loader);
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"db-p", "db-q", "db-r"}));
  for (const char* id : {"p", "q", "r"}) {
    EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for(id)}), "1") << id;
    EXPECT_EQ(raw_key_command(ep, {"EXISTS", lock_key_of(cache, id)}), "0") << id;
  }
  EXPECT_EQ(cache.stats().writes, 4u);
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

TEST(CacheAside, GetOrLoad_LockHeldByDeadProcess_BoundedWaitThenLoads) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.lock.max_wait = 300ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  cache.get_or_load("warm", [](std::string_view) { return std::optional<std::string>("w"); });
  const std::string lock_key = cache.key_for("d").replace(options.name.size(), 0, ":lock");
  raw_key_command(ep, {"SET", lock_key, "someone-who-died", "PX", "30000"});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(
      cache.get_or_load("d", [](std::string_view) { return std::optional<std::string>("x"); }),
      "x");
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(cache.stats().lock_timeouts, 1u);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("d")}), "0");  // the holder writes, not us
}

TEST(CacheAside, RefreshAhead_Threshold_RefreshesInBackgroundKeepsServing) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 100s;
  options.ttl_jitter = 0;
  options.refresh.mode = RefreshMode::kThreshold;
  options.refresh.threshold = 0.2;
  options.clock = clock.fn();
  // Declared before the cache: the background refresh copies the loader, which refers to them.
  std::atomic<int> generation{1};
  std::atomic<int> loads{0};
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return "g" + std::to_string(generation.load());
  };
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  generation = 2;
  clock.advance(50s);  // half the TTL left: no refresh
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  EXPECT_EQ(loads.load(), 1);
  clock.advance(35s);  // 15 % left: refresh in the background, the caller gets g1 now
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::optional<std::string> value;
  while (std::chrono::steady_clock::now() < deadline) {
    value = cache.get_or_load("t", loader);
    if (value == "g2") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(value, "g2");
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(cache.stats().refreshes, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);  // no caller ever missed after the first load
}

TEST(CacheAside, RefreshAhead_XFetch_RefreshesNearExpiryNotEarly) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 100s;
  options.ttl_jitter = 0;
  options.refresh.mode = RefreshMode::kXFetch;
  options.refresh.xfetch_beta = 1.0;
  options.clock = clock.fn();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  std::atomic<int> generation{1};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    std::this_thread::sleep_for(20ms);  // delta: the stored load time
    return "g" + std::to_string(generation.load());
  };
  EXPECT_EQ(cache.get_or_load("x", loader), "g1");
  generation = 2;
  clock.advance(50s);  // 50 s before expiry with a ~20 ms load: practically never early
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cache.get_or_load("x", loader), "g1");
  // 1 ms before expiry a read refreshes with P = e^(-gap / (delta * beta)) = e^(-1/20) ~ 0.95, so
  // a single read would miss one run in twenty. Twenty reads all miss with P ~ 1e-26; the first
  // refresh stores a new 100 s expiry, so there is exactly one.
  clock.advance(50s - 1ms);
  std::optional<std::string> value;
  for (int i = 0; i < 20 && value != "g2"; ++i) value = cache.get_or_load("x", loader);
  EXPECT_EQ(value, "g2");
  EXPECT_EQ(cache.stats().refreshes, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
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

// Hits hand the decoded value over by moving it; a value several positions share must still
// reach each of them whole.
TEST(CacheAside, GetMany_RepeatedIdsOnHits_EveryPositionGetsTheWholeValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  using Row = std::map<std::string, std::vector<std::string>>;
  CacheAside<Row> cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  const Row a{{"tags", {"a long enough tag to live on the heap", "x"}}};
  const Row b{{"tags", {"b"}}};
  cache.set("a", a);
  cache.set("b", b);
  int loads = 0;
  const auto loader = [&](const std::vector<std::string>&) {
    ++loads;
    return std::unordered_map<std::string, Row>{};
  };
  const auto values = cache.get_many({"a", "b", "a", "a", "b"}, loader);
  EXPECT_EQ(values, (std::vector<std::optional<Row>>{a, b, a, a, b}));
  EXPECT_EQ(loads, 0);
  EXPECT_EQ(cache.get_or_load("a", [](std::string_view) { return std::optional<Row>(); }), a);
  EXPECT_EQ(cache.get_or_load("a", [](std::string_view) { return std::optional<Row>(); }), a);
  EXPECT_EQ(cache.stats().hits, 4U);  // the batch counts each distinct id once: 2 + 2
}

}  // namespace
