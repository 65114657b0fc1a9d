// WriteThrough against real Redis and PostgreSQL: failing writers, concurrent writers, the
// reader/writer race of cache-aside, Redis failing around the write, TTLs and options.
#include "rediscache/cache/write_through.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_env.hpp"
#include "write_policy_support.hpp"

namespace rediscache::test {
namespace {

using std::chrono::milliseconds;

struct DatabaseRejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One PostgreSQL connection per thread (a pqxx connection is not thread-safe).
pqxx::connection& thread_connection(const std::string& conninfo) {
  thread_local std::map<std::string, std::unique_ptr<pqxx::connection>> connections;
  auto& c = connections[conninfo];
  if (!c) c = std::make_unique<pqxx::connection>(conninfo);
  return *c;
}

std::optional<std::string> pg_get(const PgTable& table, std::string_view id) {
  pqxx::work w(thread_connection(table.conninfo()));
  const pqxx::result r = w.exec_params(
      "SELECT value FROM " + w.quote_name(table.name()) + " WHERE id = $1", std::string(id));
  w.commit();
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

void pg_put(const PgTable& table, std::string_view id, const std::string& value) {
  pqxx::work w(thread_connection(table.conninfo()));
  PgTable::upsert(w, table.name(), std::string(id), value);
  w.commit();
}

void pg_delete(const PgTable& table, std::string_view id) {
  pqxx::work w(thread_connection(table.conninfo()));
  w.exec_params("DELETE FROM " + w.quote_name(table.name()) + " WHERE id = $1", std::string(id));
  w.commit();
}

// What Redis holds for the entry right now (encoded), or nullopt.
std::optional<std::string> raw_entry(const Endpoint& ep, const std::string& key) {
  const std::string value = raw_key_command(ep, {"GET", key});
  if (value == "(nil)") return std::nullopt;
  return value;
}

TEST(WriteThrough, Write_StoresInDatabaseThenCache) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  WriteThrough<std::string> wt(
      cache, [&](std::string_view id, const std::string& v) { pg_put(table, id, v); },
      [&](std::string_view id) { pg_delete(table, id); });

  EXPECT_EQ(wt.write("a", "alpha"), WriteOutcome::kCached);
  EXPECT_EQ(table.get("a"), "alpha");
  int loads = 0;
  EXPECT_EQ(cache.get_or_load("a",
                              [&](std::string_view) -> std::optional<std::string> {
                                ++loads;
                                return std::nullopt;
                              }),
            "alpha");
  EXPECT_EQ(loads, 0);

  EXPECT_EQ(wt.remove("a"), WriteOutcome::kInvalidated);
  EXPECT_EQ(table.get("a"), std::nullopt);
  EXPECT_EQ(cache.get_or_load("a", [&](std::string_view id) { return pg_get(table, id); }),
            std::nullopt);
  const WriteThroughStats stats = wt.stats();
  EXPECT_EQ(stats.writes, 1U);
  EXPECT_EQ(stats.removes, 1U);
  EXPECT_EQ(stats.cached, 1U);
}

TEST(WriteThrough, EveryKeyWritten_HasTtlAndTheLockIsReleased) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  long long lock_ttl_inside = 0;
  WriteThrough<std::string> wt(cache, [&](std::string_view id, const std::string& v) {
    lock_ttl_inside = std::stoll(raw_key_command(ep, {"PTTL", name + ":wlock:" + std::string(id)}));
    pg_put(table, id, v);
  });
  ASSERT_EQ(wt.write("a", "alpha"), WriteOutcome::kCached);
  EXPECT_GT(lock_ttl_inside, 0);
  EXPECT_GT(std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("a")})), 0);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", wt.lock_key("a")}), "0");
}

TEST(WriteThrough, WriterThrows_CacheNeverHoldsTheUnwrittenValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  bool fail = false;
  bool seen_inside = false;
  WriteThrough<std::string> wt(cache, [&](std::string_view id, const std::string& v) {
    // While the database write runs, the cache must not already show the new value.
    const auto entry = raw_entry(ep, cache.key_for(id));
    seen_inside = entry && entry->find(v) != std::string::npos;
    if (fail) throw DatabaseRejected("unique violation");
    pg_put(table, id, v);
  });
  ASSERT_EQ(wt.write("a", "committed-value"), WriteOutcome::kCached);
  fail = true;
  try {
    (void)wt.write("a", "rejected-value");
    ADD_FAILURE() << "the writer's exception did not propagate";
  } catch (const DatabaseRejected& e) {
    EXPECT_STREQ(e.what(), "unique violation");
  }
  EXPECT_FALSE(seen_inside);
  const auto entry = raw_entry(ep, cache.key_for("a"));
  EXPECT_FALSE(entry && entry->find("rejected-value") != std::string::npos);
  EXPECT_EQ(cache.get_or_load("a", [&](std::string_view id) { return pg_get(table, id); }),
            "committed-value");
  EXPECT_EQ(wt.stats().writer_failures, 1U);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", wt.lock_key("a")}), "0");
}

// Two "processes" (separate clients, caches and WriteThroughs) and several threads each write
// the same ids; the writer pauses randomly after its commit to widen the window in which cache
// updates could be reordered. When all writes have returned, the cache equals the database.
TEST(WriteThrough, ConcurrentWriters_CacheEndsWithTheDatabaseValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache1(make_client(ep), policy_cache_options(name));
  CacheAside<std::string> cache2(make_client(ep), policy_cache_options(name));
  const auto writer = [&](std::string_view id, const std::string& v) {
    pg_put(table, id, v);
    thread_local std::minstd_rand rng(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 1500));
  };
  WriteThrough<std::string> wt1(cache1, writer);
  WriteThrough<std::string> wt2(cache2, writer);

  constexpr int kThreads = 6;
  constexpr int kWrites = 40;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteThrough<std::string>& wt = t % 2 == 0 ? wt1 : wt2;
      for (int i = 0; i < kWrites; ++i) {
        (void)wt.write("k" + std::to_string(i % 3),
                       "t" + std::to_string(t) + "-" + std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& [id, value] : table.rows()) {
    const auto entry = raw_entry(ep, cache1.key_for(id));
    ASSERT_TRUE(entry.has_value()) << id;
    EXPECT_EQ(cache1.get_or_load(
                  id, [](std::string_view) -> std::optional<std::string> { return std::nullopt; }),
              value)
        << id;
  }
  EXPECT_EQ(wt1.stats().writes + wt2.stats().writes,
            static_cast<std::uint64_t>(kThreads * kWrites));
}

// Forced interleaving of two writes of one id: A commits and is then delayed before it updates
// the cache; B is started meanwhile. B must not get between A's commit and A's cache update (or
// the cache would end with A's older value while the database holds B's).
TEST(WriteThrough, SecondWriteStartedWhileFirstIsInFlight_CacheEndsWithTheLastCommit) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  std::mutex mu;
  std::condition_variable cv;
  bool a_committed = false;
  bool b_committed = false;
  WriteThrough<std::string> wt(cache, [&](std::string_view id, const std::string& v) {
    pg_put(table, id, v);
    std::unique_lock<std::mutex> lock(mu);
    if (v == "A") {
      a_committed = true;
      cv.notify_all();
      // Give B every chance to commit and update the cache before A goes on.
      cv.wait_for(lock, milliseconds(400), [&] { return b_committed; });
    } else {
      b_committed = true;
      cv.notify_all();
    }
  });
  std::thread a([&] { (void)wt.write("k", "A"); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return a_committed; });
  }
  std::thread b([&] { (void)wt.write("k", "B"); });
  a.join();
  b.join();
  const auto row = table.get("k");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(cache.get_or_load(
                "k", [](std::string_view) -> std::optional<std::string> { return std::nullopt; }),
            row);
}

// The classic cache-aside race, forced: a reader misses and loads the old row; the write commits
// and updates the cache; then the reader tries to cache what it loaded. The stale value must not
// end in the cache.
TEST(WriteThrough, ReaderLoadedBeforeTheWrite_StaleValueIsNotCached) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  table.upsert("a", "old");
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  WriteThrough<std::string> wt(
      cache, [&](std::string_view id, const std::string& v) { pg_put(table, id, v); });

  std::mutex mu;
  std::condition_variable cv;
  bool loaded = false;
  bool written = false;
  std::thread reader([&] {
    const auto value = cache.get_or_load("a", [&](std::string_view id) {
      auto row = pg_get(table, id);  // "old": the write has not started
      std::unique_lock<std::mutex> lock(mu);
      loaded = true;
      cv.notify_all();
      cv.wait(lock, [&] { return written; });
      return row;
    });
    EXPECT_EQ(value, "old");
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return loaded; });
  }
  (void)wt.write("a", "new");
  {
    const std::lock_guard<std::mutex> lock(mu);
    written = true;
  }
  cv.notify_all();
  reader.join();

  const auto entry = raw_entry(ep, cache.key_for("a"));
  EXPECT_FALSE(entry && entry->find("old") != std::string::npos) << "stale value cached";
  EXPECT_EQ(cache.get_or_load("a", [&](std::string_view id) { return pg_get(table, id); }), "new");
}

// Readers filling the cache from the database while writers update the same ids, with pauses
// in loaders and writers to widen every window. Once all have returned, the cache holds what the
// database holds (or nothing).
TEST(WriteThrough, ReadersAndWritersRace_NoStaleValueSurvives) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wt");
  PgTable table(conninfo, name);
  for (int k = 0; k < 4; ++k) table.upsert("k" + std::to_string(k), "initial");
  CacheOptions options = policy_cache_options(name);
  options.lock.max_wait = milliseconds(50);
  CacheAside<std::string> cache(make_client(ep, 16), options);
  const auto pause = [] {
    thread_local std::minstd_rand rng(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  };
  WriteThrough<std::string> wt(cache, [&](std::string_view id, const std::string& v) {
    pg_put(table, id, v);
    pause();
  });
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; !stop; ++i) {
        (void)cache.get_or_load("k" + std::to_string((i + r) % 4), [&](std::string_view id) {
          auto row = pg_get(table, id);
          pause();
          return row;
        });
        if (i % 7 == 0) cache.invalidate("k" + std::to_string(i % 4));
      }
    });
  }
  std::vector<std::thread> writers;
  writers.reserve(2);
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 60; ++i) {
        (void)wt.write("k" + std::to_string(i % 4),
                       "w" + std::to_string(w) + "-" + std::to_string(i));
      }
    });
  }
  for (auto& writer : writers) writer.join();
  stop = true;
  for (auto& thread : threads) thread.join();
  for (const auto& [id, value] : table.rows()) {
    const auto cached =
        cache.get_or_load(id, [&](std::string_view key) { return pg_get(table, key); });
    EXPECT_EQ(cached, value) << id;
  }
}

// A WriteThrough whose writer stops its private Redis right after the database committed
// (while `stop_redis`), so the cache step after it fails.
struct RedisDiesAfterTheDatabase {
  explicit RedisDiesAfterTheDatabase(const std::string& conninfo, bool recovery)
      : table(conninfo, name),
        cache(make_client(server.endpoint()), options_for(name, recovery)),
        wt(
            cache,
            [this](std::string_view id, const std::string& v) {
              pg_put(table, id, v);
              if (stop_redis) server.stop();
            },
            wt_options()) {}

  static CacheOptions options_for(const std::string& name, bool recovery) {
    CacheOptions options = policy_cache_options(name);
    options.recovery.enabled = recovery;
    return options;
  }
  WriteThroughOptions wt_options() {
    WriteThroughOptions o;
    o.on_error = [this](std::string_view, const std::exception&) { ++reported; };
    return o;
  }

  RedisServer server;
  const std::string name = unique_name("wt");
  PgTable table;
  std::atomic<int> reported{0};
  bool stop_redis = true;
  CacheAside<std::string> cache;
  WriteThrough<std::string> wt;
};

TEST(WriteThrough, RedisFailsDuringTheWrite_WriteSucceedsAndReportsCacheFailed) {
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  RedisDiesAfterTheDatabase f(conninfo, /*recovery=*/false);  // failures are the outcome's
  EXPECT_EQ(f.wt.write("a", "alpha"), WriteOutcome::kCacheFailed);
  EXPECT_EQ(f.table.get("a"), "alpha");
  EXPECT_GT(f.reported.load(), 0);
  EXPECT_EQ(f.wt.stats().cache_failures, 1U);

  // Redis still down before the write: the database is written anyway (without the lock).
  f.stop_redis = false;
  EXPECT_EQ(f.wt.write("b", "beta"), WriteOutcome::kCacheFailed);
  EXPECT_EQ(f.table.get("b"), "beta");
  EXPECT_EQ(f.wt.stats().lock_unavailable, 1U);

  f.server.start();
  EXPECT_EQ(f.wt.write("c", "gamma"), WriteOutcome::kCached);
}

TEST(WriteThrough, RedisFailsDuringTheWrite_WriteSucceedsAndQueuesTheInvalidation) {
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  RedisDiesAfterTheDatabase f(conninfo, /*recovery=*/true);
  EXPECT_EQ(f.wt.write("a", "alpha"), WriteOutcome::kQueued);
  EXPECT_EQ(f.table.get("a"), "alpha");
  EXPECT_GT(f.reported.load(), 0);
  EXPECT_EQ(f.wt.stats().queued, 1U);
  EXPECT_EQ(f.wt.stats().cache_failures, 0U);

  f.stop_redis = false;
  EXPECT_EQ(f.wt.write("b", "beta"), WriteOutcome::kQueued);
  EXPECT_EQ(f.table.get("b"), "beta");
  EXPECT_EQ(f.wt.stats().lock_unavailable, 1U);

  EXPECT_EQ(f.cache.stats().recovery_pending, 2U);
  f.server.start();
  // Replayed once the breaker's cool-down lets a call through; then writes cache again.
  for (int i = 0; i < 1000 && f.cache.stats().recovery_pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(f.cache.stats().recovery_pending, 0U);
  EXPECT_EQ(f.wt.write("c", "gamma"), WriteOutcome::kCached);
}

TEST(WriteThrough, BadOptions_ThrowInvalidArgumentNamingTheOption) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(unique_name("wt")));
  const auto writer = [](std::string_view, const std::string&) {};
  const auto expect_rejected = [&](const WriteThroughOptions& options, const std::string& field) {
    try {
      WriteThrough<std::string> wt(cache, writer, options);
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  WriteThroughOptions o;
  o.lock_ttl = milliseconds(0);
  expect_rejected(o, "WriteThroughOptions::lock_ttl");
  o = {};
  o.lock_wait = milliseconds(-1);
  expect_rejected(o, "WriteThroughOptions::lock_wait");
  o = {};
  o.initial_backoff = milliseconds(0);
  expect_rejected(o, "WriteThroughOptions::initial_backoff");
  o = {};
  o.max_backoff = milliseconds(0);
  expect_rejected(o, "WriteThroughOptions::max_backoff");
  EXPECT_THROW(WriteThrough<std::string>(cache, nullptr), std::invalid_argument);
  WriteThrough<std::string> no_remover(cache, writer);
  EXPECT_THROW((void)no_remover.remove("a"), std::logic_error);
}

}  // namespace
}  // namespace rediscache::test
