// Auto-recovery (CacheOptions::recovery): invalidations, sets, tag invalidations and version
// bumps that Redis missed while it was unreachable but not restarted (SIGSTOP, CLIENT PAUSE
// WRITE) are queued and replayed when it answers again; the queue's bounds; reads in this process
// meanwhile; the destructor with a queue left; threads and forked processes.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cache_aside_support.hpp"
#include "eventually.hpp"
#include "rediscache/cache/write_through.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)
using rediscache::InvalidationMode;
using rediscache::NearTierOptions;
using rediscache::TagOptions;
using rediscache::WriteOutcome;
using rediscache::WriteResult;
using rediscache::WriteThrough;
using Clock = std::chrono::steady_clock;
using rediscache::test::eventually;

// The database behind the caches: a user callback, so a fake is fine.
struct Database {
  std::mutex mu;
  std::map<std::string, std::string> rows;
  std::atomic<int> loads{0};
  void put(const std::string& id, const std::string& value) {
    const std::lock_guard<std::mutex> lock(mu);
    rows[id] = value;
  }
  StringCache::Loader loader() {
    return [this](std::string_view id) -> std::optional<std::string> {
      ++loads;
      const std::lock_guard<std::mutex> lock(mu);
      const auto it = rows.find(std::string(id));
      if (it == rows.end()) return std::nullopt;
      return it->second;
    };
  }
};

// The errors a cache reported, by context.
struct Reports {
  std::mutex mu;
  std::vector<std::string> lines;
  rediscache::ErrorHandler handler() {
    return [this](std::string_view context, const std::exception& e) {
      const std::lock_guard<std::mutex> lock(mu);
      lines.push_back(std::string(context) + ": " + e.what());
    };
  }
  bool said(const std::string& text) {
    const std::lock_guard<std::mutex> lock(mu);
    for (const std::string& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  int count(const std::string& context) {
    const std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const std::string& line : lines) n += line.rfind(context + ":", 0) == 0 ? 1 : 0;
    return n;
  }
};

// Short timeouts and a quick breaker, so an unreachable Redis costs a fraction of a second.
CacheOptions recovery_options() {
  CacheOptions o = base_options();
  o.breaker.failure_threshold = 1;
  o.breaker.cool_down = 100ms;
  o.recovery.retry_interval = 20ms;
  o.recovery.drain_timeout = 100ms;
  o.version_check_interval = 10ms;
  return o;
}

// recovery_options() whose failures go to `reports`, with this drain_timeout.
CacheOptions reported_options(Reports& reports, milliseconds drain_timeout) {
  CacheOptions o = recovery_options();
  o.recovery.drain_timeout = drain_timeout;
  o.on_error = reports.handler();
  return o;
}

Client quick_client(const RedisServer& server) { return make_client(server.endpoint(), {}, 200ms); }

bool exists(const RedisServer& server, const std::string& key) {
  return server.command({"EXISTS", key}) == "1";
}

// A private server whose cache holds "k" = v1 while the database has moved on to v2.
struct StaleEntry {
  StaleEntry() {
    db.put("k", "v1");
    EXPECT_EQ(cache.get_or_load("k", db.loader()), "v1");
    EXPECT_TRUE(exists(server, key));
    db.put("k", "v2");
  }
  RedisServer server;
  Database db;
  StringCache cache{quick_client(server), recovery_options()};
  const std::string key = cache.key_for("k");
};

TEST(CacheAsideRecovery, Invalidate_RedisPaused_QueuedThenReplayedWhenItAnswers) {
  StaleEntry f;

  f.server.pause();  // alive, its data kept, answering nothing
  const auto started = Clock::now();
  EXPECT_EQ(f.cache.invalidate("k"), WriteResult::kQueued);
  EXPECT_LT(Clock::now() - started, 2s) << "one command timeout at most";
  EXPECT_EQ(f.cache.stats().recovery_queued, 1U);
  EXPECT_EQ(f.cache.stats().recovery_pending, 1U);
  EXPECT_EQ(f.cache.stats().invalidations, 0U);

  f.server.resume();
  const auto resumed = Clock::now();
  ASSERT_TRUE(eventually([&] { return !exists(f.server, f.key); })) << "the DEL was never replayed";
  const auto replay_delay = Clock::now() - resumed;
  EXPECT_LT(replay_delay, 3s);
  RecordProperty("replay_delay_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(replay_delay).count()));
  EXPECT_TRUE(eventually([&] { return f.cache.stats().recovery_pending == 0; }));
  EXPECT_EQ(f.cache.stats().recovery_replayed, 1U);
  // Another instance (another process, as far as Redis can tell) reads the new value.
  StringCache other(quick_client(f.server), f.cache.options());
  EXPECT_EQ(other.get_or_load("k", f.db.loader()), "v2");
}

TEST(CacheAsideRecovery, InvalidateNow_AndRecoveryOff_ThrowTheClientsError) {
  RedisServer server;
  CacheOptions off = recovery_options();
  off.recovery.enabled = false;
  StringCache cache(quick_client(server), recovery_options());
  StringCache strict(quick_client(server), off);
  server.stop();
  EXPECT_THROW(cache.invalidate_now("k"), rediscache::IoError);
  EXPECT_THROW(strict.invalidate("k"), rediscache::IoError);
  EXPECT_THROW(strict.set("k", "v"), rediscache::IoError);
  EXPECT_EQ(strict.stats().recovery_queued, 0U);
  EXPECT_EQ(cache.stats().recovery_pending, 0U);
}

TEST(CacheAsideRecovery, Set_RedisPaused_QueuedAsTheEntrysInvalidation) {
  StaleEntry f;
  f.server.pause();
  EXPECT_EQ(f.cache.set("k", "v2"), WriteResult::kQueued);
  f.server.resume();
  // Not the value written late (it could overwrite a newer one): the entry goes, the next read
  // loads the database's.
  ASSERT_TRUE(eventually([&] { return !exists(f.server, f.key); }));
  StringCache other(quick_client(f.server), f.cache.options());
  EXPECT_EQ(other.get_or_load("k", f.db.loader()), "v2");
  // A set that reaches Redis works as before.
  EXPECT_EQ(f.cache.set("k", "v3"), WriteResult::kApplied);
  EXPECT_EQ(other.get_or_load("k", f.db.loader()), "v3");
}

TEST(CacheAsideRecovery, InvalidateTagAndAll_RedisPaused_ReplayedWhenItAnswers) {
  RedisServer server;
  Database db;
  db.put("a", "a1");
  db.put("b", "b1");
  CacheOptions o = recovery_options();
  o.tags = TagOptions{};
  StringCache cache(quick_client(server), o);
  const auto tagged = [&](rediscache::LoadContext<std::string>& ctx) {
    ctx.set_tags({"group"});
    return db.loader()(ctx.id());
  };
  EXPECT_EQ(cache.get_or_load("a", tagged), "a1");
  EXPECT_EQ(cache.get_or_load("b", db.loader()), "b1");
  db.put("a", "a2");
  db.put("b", "b2");
  server.pause();
  EXPECT_EQ(cache.invalidate_tag("group"), WriteResult::kQueued);
  EXPECT_EQ(cache.invalidate_all(), WriteResult::kQueued);
  EXPECT_EQ(cache.stats().recovery_pending, 2U);
  server.resume();
  ASSERT_TRUE(eventually([&] { return cache.stats().recovery_pending == 0; }));
  EXPECT_EQ(cache.stats().recovery_replayed, 2U);
  StringCache other(quick_client(server), o);
  EXPECT_EQ(other.get_or_load("a", tagged), "a2");
  EXPECT_EQ(other.get_or_load("b", db.loader()), "b2");
}

TEST(CacheAsideRecovery, WritesPaused_ReadsInThisProcessMissWhatIsPending) {
  // CLIENT PAUSE WRITE: reads are answered, writes (DEL, SET, EVAL, PUBLISH) wait. The
  // invalidation times out and is queued; its replay keeps timing out until the pause ends.
  RedisServer server;
  Database db;
  db.put("k", "v1");
  StringCache cache(quick_client(server), recovery_options());
  CacheOptions other_options = cache.options();
  other_options.version_check_interval = 60s;  // reading the version may write: not paused
  StringCache other(quick_client(server), other_options);
  EXPECT_EQ(cache.get_or_load("k", db.loader()), "v1");
  EXPECT_EQ(other.get_or_load("k", db.loader()), "v1");
  db.put("k", "v2");
  server.command({"CLIENT", "PAUSE", "2500", "WRITE"});
  const auto paused = Clock::now();
  EXPECT_EQ(cache.invalidate("k"), WriteResult::kQueued);
  // Redis still holds v1 and serves it to every other process until the replay; this process
  // knows better.
  EXPECT_EQ(cache.get_or_load("k", db.loader()), "v2");
  if (Clock::now() - paused < 2s) {
    EXPECT_EQ(other.get_or_load("k", db.loader()), "v1");
  }
  ASSERT_TRUE(eventually([&] { return cache.stats().recovery_pending == 0; }));
  EXPECT_GE(Clock::now() - paused, 2s) << "replayed while writes were paused?";
  EXPECT_TRUE(eventually([&] { return other.get_or_load("k", db.loader()) == "v2"; }));
}

TEST(CacheAsideRecovery, BreakerOpen_InvalidationsQueueWithoutWaitingAndCoalesce) {
  RedisServer server;
  CacheOptions o = recovery_options();
  o.breaker.cool_down = 10s;  // stays open for the whole test
  StringCache cache(quick_client(server), o);
  EXPECT_EQ(cache.get_or_load("warm", [](std::string_view) { return std::string("w"); }), "w");
  server.pause();
  EXPECT_EQ(cache.invalidate("first"), WriteResult::kQueued);  // pays the timeout, opens it
  const auto started = Clock::now();
  for (int round = 0; round < 50; ++round) {
    for (int id = 0; id < 20; ++id) {
      EXPECT_EQ(cache.invalidate("id" + std::to_string(id)), WriteResult::kQueued);
    }
  }
  EXPECT_LT(Clock::now() - started, 500ms) << "an open breaker must not pay a timeout per call";
  const rediscache::CacheStats s = cache.stats();
  EXPECT_EQ(s.recovery_queued, 1001U);
  EXPECT_EQ(s.recovery_pending, 21U) << "one operation per entry";
  EXPECT_GT(s.breaker_rejections, 0U);
  server.resume();
}

TEST(CacheAsideRecovery, QueueFull_DropsCountsAndReportsOnce) {
  RedisServer server;
  Reports reports;
  CacheOptions o = recovery_options();
  o.breaker.cool_down = 10s;
  o.recovery.max_operations = 3;
  o.on_error = reports.handler();
  StringCache cache(quick_client(server), o);
  server.pause();
  for (int id = 0; id < 10; ++id) cache.invalidate("id" + std::to_string(id));
  const rediscache::CacheStats s = cache.stats();
  EXPECT_EQ(s.recovery_pending, 3U);
  EXPECT_EQ(s.recovery_queued, 3U);
  EXPECT_EQ(s.recovery_dropped, 7U);
  EXPECT_EQ(reports.count("recovery queue"), 1);

  CacheOptions small = recovery_options();
  small.recovery.max_bytes = 1024;  // about five operations of these sizes
  small.breaker.cool_down = 10s;
  StringCache bytes(quick_client(server), small);
  for (int id = 0; id < 20; ++id) bytes.invalidate(std::string(40, 'x') + std::to_string(id));
  EXPECT_GT(bytes.stats().recovery_dropped, 0U);
  EXPECT_LT(bytes.stats().recovery_pending, 20U);
  server.resume();
}

TEST(CacheAsideRecovery, Destroyed_WithAQueueLeft_CountsAndReportsIt) {
  RedisServer server;
  Reports reports;
  const CacheOptions o = reported_options(reports, 300ms);
  server.stop();  // gone for good
  auto cache = std::make_unique<StringCache>(quick_client(server), o);
  EXPECT_EQ(cache->invalidate("a"), WriteResult::kQueued);
  EXPECT_EQ(cache->invalidate("b"), WriteResult::kQueued);
  const auto started = Clock::now();
  cache.reset();
  EXPECT_LT(Clock::now() - started, 2s) << "drain_timeout bounds the destructor";
  EXPECT_EQ(reports.count("cache destroyed"), 1);
  EXPECT_TRUE(reports.said("2 invalidations Redis missed were never replayed"));
}

TEST(CacheAsideRecovery, Destroyed_RedisBackWithinTheDrain_ReplaysBeforeItGoes) {
  RedisServer server;
  Reports reports;
  CacheOptions o = reported_options(reports, 5s);
  o.recovery.retry_interval = std::chrono::hours(1);  // only the destructor replays
  auto cache = std::make_unique<StringCache>(quick_client(server), o);
  EXPECT_EQ(cache->get_or_load("a", [](std::string_view) { return std::string("x"); }), "x");
  const std::string key = cache->key_for("a");
  server.pause();
  EXPECT_EQ(cache->invalidate("a"), WriteResult::kQueued);
  std::thread resume([&] {
    std::this_thread::sleep_for(300ms);
    server.resume();
  });
  cache.reset();
  resume.join();
  EXPECT_FALSE(exists(server, key));
  EXPECT_EQ(reports.count("cache destroyed"), 0);
}

TEST(CacheAsideRecovery, WriteThrough_RedisPaused_QueuedThenTheOldValueIsGone) {
  StaleEntry f;
  WriteThrough<std::string> wt(
      f.cache, [&](std::string_view id, const std::string& v) { f.db.put(std::string(id), v); });
  f.server.pause();
  EXPECT_EQ(wt.write("k", "v3"), WriteOutcome::kQueued);
  EXPECT_EQ(wt.stats().queued, 1U);
  f.server.resume();
  ASSERT_TRUE(eventually([&] { return !exists(f.server, f.key); }));
  StringCache other(quick_client(f.server), f.cache.options());
  EXPECT_EQ(other.get_or_load("k", f.db.loader()), "v3");
}

TEST(CacheAsideRecovery, NearTierPubSub_OtherInstancesDropTheirCopyAfterTheReplay) {
  RedisServer server;
  Database db;
  db.put("k", "v1");
  CacheOptions o = recovery_options();
  NearTierOptions near;
  near.invalidation.mode = InvalidationMode::kPubSub;
  near.invalidation.channel = o.name + ":near";
  near.invalidation.initial_backoff = 10ms;
  near.cache.max_lifetime = 60s;  // only an invalidation can end the reader's copy in time
  o.near_cache = near;
  StringCache writer(quick_client(server), o);
  StringCache reader(quick_client(server), o);
  EXPECT_EQ(reader.get_or_load("k", db.loader()), "v1");
  ASSERT_TRUE(eventually([&] {
    reader.get_or_load("k", db.loader());
    return reader.stats().near.hits > 0;
  })) << "the reader never kept its near copy";
  db.put("k", "v2");
  server.pause();
  EXPECT_EQ(writer.invalidate("k"), WriteResult::kQueued);
  server.resume();
  EXPECT_TRUE(eventually([&] { return reader.get_or_load("k", db.loader()) == "v2"; }, 5s))
      << "the reader's near copy outlived the replayed invalidation";
}

TEST(CacheAsideRecovery, ManyThreads_RedisPaused_BoundedAndEverythingReplayed) {
  RedisServer server;
  CacheOptions o = recovery_options();
  StringCache cache(quick_client(server), o);
  std::vector<std::string> keys;
  for (int id = 0; id < 50; ++id) {
    const std::string name = "id" + std::to_string(id);
    cache.get_or_load(name, [](std::string_view) { return std::string("x"); });
    keys.push_back(cache.key_for(name));
  }
  server.pause();
  std::vector<std::thread> threads;
  threads.reserve(16);
  std::atomic<int> queued{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string id = "id" + std::to_string((t * 7 + i) % 50);
        if (cache.invalidate(id) == WriteResult::kQueued) ++queued;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(queued.load(), 16 * 200);
  EXPECT_LE(cache.stats().recovery_pending, 50U);
  server.resume();
  ASSERT_TRUE(eventually([&] { return cache.stats().recovery_pending == 0; }));
  for (const std::string& key : keys) EXPECT_FALSE(exists(server, key)) << key;
}

TEST(CacheAsideRecovery, ForkedProcesses_EachReplaysItsOwnQueue) {
  RedisServer server;
  const CacheOptions o = recovery_options();
  std::vector<std::string> keys;
  {
    StringCache cache(quick_client(server), o);
    for (int p = 0; p < 3; ++p) {
      const std::string id = "p" + std::to_string(p);
      cache.get_or_load(id, [](std::string_view) { return std::string("x"); });
      keys.push_back(cache.key_for(id));
    }
  }
  server.pause();
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 1;
      try {
        StringCache cache(quick_client(server), o);
        if (cache.invalidate("p" + std::to_string(p)) == WriteResult::kQueued &&
            eventually([&] { return cache.stats().recovery_pending == 0; })) {
          code = 0;
        }
      } catch (...) {
        code = 2;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  std::this_thread::sleep_for(700ms);  // every child has queued by now (200 ms timeouts)
  server.resume();
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  for (const std::string& key : keys) EXPECT_FALSE(exists(server, key)) << key;
}

}  // namespace
