// CacheAside::get_many: round trips, ids loaded elsewhere, loader failures, leases and their
// write-back, invalidation during a batch load, repeated ids.
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

// A list planted where entries should be: with a near tier the batch reads with GET (WRONGTYPE),
// without one with MGET (nil). Either way the entry is repaired: reloaded and stored, and the
// next batch is a hit. The WRONGTYPE reply is a corrupt entry, not Redis being down.
TEST(CacheAside, GetMany_WrongTypeUnderKey_CorruptEntryDeletedAndReloaded) {
  REDISCACHE_REQUIRE_REDIS(ep);
  for (const bool near : {false, true}) {
    SCOPED_TRACE(near ? "near tier (GET + PTTL)" : "MGET");
    CacheOptions options = base_options();
    if (near) options.near_cache = rediscache::NearTierOptions{};
    StringCache cache(make_client(ep), options);
    const NamespaceCleanup cleanup{ep, options.name};
    int loads = 0;
    const StringCache::BatchLoader loader = [&](const std::vector<std::string>& ids) {
      ++loads;
      std::unordered_map<std::string, std::string> out;
      for (const auto& id : ids) out.emplace(id, "db-" + id);
      return out;
    };
    cache.set("warm", "w");  // fixes the namespace version
    for (const char* id : {"l", "h"}) raw_key_command(ep, {"DEL", cache.key_for(id)});
    raw_key_command(ep, {"RPUSH", cache.key_for("l"), "a", "list"});
    raw_key_command(ep, {"HSET", cache.key_for("h"), "f", "v"});
    const auto values = cache.get_many({"l", "h", "warm"}, loader);
    EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"db-l", "db-h", "w"}));
    EXPECT_EQ(loads, 1);
    // MGET answers nil for another type: nothing to count there.
    EXPECT_EQ(cache.stats().decode_errors, near ? 2u : 0u);
    EXPECT_EQ(cache.stats().breaker_opens, 0u);
    EXPECT_EQ(cache.stats().writes, 3u) << "the reloaded values were not stored";
    for (const char* id : {"l", "h"}) {
      EXPECT_EQ(raw_key_command(ep, {"TYPE", cache.key_for(id)}), "string") << id;
    }
    EXPECT_EQ(cache.get_many({"l", "h"}, loader),
              (std::vector<std::optional<std::string>>{"db-l", "db-h"}));
    EXPECT_EQ(loads, 1);  // now hits
  }
}

// A corrupt entry is deleted and reloaded in the same batch: the deletion must not remove the
// value the batch has just stored in its place.
TEST(CacheAside, GetMany_CorruptEntry_ReloadedValueStaysStored) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  int loads = 0;
  const StringCache::BatchLoader loader = [&](const std::vector<std::string>& ids) {
    ++loads;
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "db-" + id);
    return out;
  };
  cache.set("warm", "w");
  raw_key_command(ep, {"SET", cache.key_for("c"), "not an entry", "PX", "60000"});
  EXPECT_EQ(cache.get_many({"c"}, loader), (std::vector<std::optional<std::string>>{"db-c"}));
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.stats().decode_errors, 1u);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("c")}), "1");
  EXPECT_EQ(cache.get_many({"c"}, loader), (std::vector<std::optional<std::string>>{"db-c"}));
  EXPECT_EQ(loads, 1);  // a hit
}

// The write-back under the leases fails (Redis is out of memory): the leases go back at once,
// so readers of those ids do not sit out lock.max_wait polling for them.
TEST(CacheAside, GetMany_StoreFails_LeasesGivenBackAtOnce) {
  RedisServer server;  // private: the test makes it run out of memory
  CacheOptions options = base_options();
  StringCache cache(make_client(server.endpoint(), {}, 500ms), options);
  cache.set("warm", "w");
  const StringCache::BatchLoader loader = [&](const std::vector<std::string>& ids) {
    // Holding the leases, Redis now refuses every write: the store script fails with OOM.
    EXPECT_EQ(server.command({"CONFIG", "SET", "maxmemory", "1"}), "OK");
    std::unordered_map<std::string, std::string> out;
    for (const auto& id : ids) out.emplace(id, "db-" + id);
    return out;
  };
  EXPECT_EQ(cache.get_many({"a", "b"}, loader),
            (std::vector<std::optional<std::string>>{"db-a", "db-b"}));
  for (const char* id : {"a", "b"}) {
    EXPECT_EQ(server.command({"EXISTS", cache.key_for(id)}), "0") << id;  // not stored
    EXPECT_EQ(server.command({"EXISTS", lock_key_of(cache, id)}), "0")
        << id << ": the lease outlived the failed store: readers would wait lock.max_wait";
  }
  EXPECT_EQ(server.command({"CONFIG", "SET", "maxmemory", "0"}), "OK");
}

}  // namespace
