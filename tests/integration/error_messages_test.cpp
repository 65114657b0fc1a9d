// errors.hpp's promise, component by component: an error a component throws or reports names
// the server (host:port) and the command, never the key or the value. Each test makes a key the
// component uses hold the wrong type, so the server answers WRONGTYPE (or a script error).
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/cache/write_through.hpp"
#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"
#include "rediscache/helpers/session_store.hpp"
#include "rediscache/near/near_cached_client.hpp"
#include "rediscache/recipes/daily_counter.hpp"
#include "rediscache/recipes/leaderboard.hpp"
#include "rediscache/recipes/timeline.hpp"
#include "test_env.hpp"
#include "write_policy_support.hpp"

namespace rediscache::test {
namespace {

// The message names a server of `ep`'s host and `command`, and none of `secrets`.
void expect_promise_kept(const std::string& what, const Endpoint& ep, const std::string& command,
                         const std::vector<std::string>& secrets) {
  EXPECT_NE(what.find("redis " + ep.host + ":"), std::string::npos) << what;
  EXPECT_NE(what.find(command), std::string::npos) << what;
  for (const std::string& secret : secrets) {
    EXPECT_EQ(what.find(secret), std::string::npos) << "leaks " << secret << ": " << what;
  }
}

// Collects what a component reports to its on_error handler (from any thread).
class Reports {
 public:
  ErrorHandler handler() {
    return [this](std::string_view, const std::exception& e) {
      const std::lock_guard<std::mutex> lock(mu_);
      messages_.emplace_back(e.what());
    };
  }
  std::vector<std::string> messages() {
    const std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> messages_;
};

// A cache whose namespace version key ("<name>:version") holds a list, so every write of the
// cache fails in the version script (WRONGTYPE) before it names any key of an id.
CacheOptions cache_with_broken_version(const Endpoint& ep, const std::string& name) {
  CacheOptions options;
  options.name = name;
  options.ttl = std::chrono::seconds(60);
  raw_key_command(ep, {"DEL", name + ":version"});
  raw_key_command(ep, {"RPUSH", name + ":version", "x"});
  return options;
}

// Runs `fn`, which must throw a rediscache::Error; returns its message.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no rediscache::Error thrown";
  return {};
}

TEST(ErrorMessages, Client_WrongTypeReply_NamesServerAndCommandNotKey) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = make_client(ep);
  const std::string key = unique_prefix() + "secret-key";
  client.del({key});
  raw_key_command(ep, {"RPUSH", key, "secret-value"});
  const std::string what = error_of([&] { (void)client.get(key); });
  expect_promise_kept(what, ep, "GET", {"secret-key", "secret-value"});
  client.del({key});
}

TEST(ErrorMessages, CacheAside_WrongTypeEntry_ReportsServerAndCommandNotKeyOrValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  std::mutex mu;
  std::vector<std::string> reported;
  CacheOptions options;
  options.name = unique_name("errmsg");
  options.ttl = std::chrono::seconds(60);
  options.on_error = [&](std::string_view, const std::exception& e) {
    const std::lock_guard<std::mutex> lock(mu);
    reported.emplace_back(e.what());
  };
  CacheAside<std::string> cache(make_client(ep), options);
  const std::string key = cache.key_for("secret-id");
  raw_key_command(ep, {"RPUSH", key, "secret-stored"});
  const auto value = cache.get_or_load(
      "secret-id", [](std::string_view) { return std::optional<std::string>("secret-loaded"); });
  EXPECT_EQ(value, "secret-loaded");  // Redis errors are swallowed: the loader's value serves
  const std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(reported.empty());
  // The read and the re-read under the stampede lock both hit the list.
  for (const std::string& what : reported) {
    expect_promise_kept(what, ep, "GET", {"secret-id", "secret-stored", "secret-loaded"});
  }
  raw_key_command(ep, {"DEL", key});
}

TEST(ErrorMessages, DistributedLock_FenceKeyOfWrongType_NamesServerAndScriptNotKey) {
  REDISCACHE_REQUIRE_REDIS(ep);
  LockOptions options;
  options.key_prefix = untagged_prefix() + "lock:";  // the lock adds its own {hash tag}
  DistributedLock lock(make_client(ep), "secret-name", options);
  raw_key_command(ep, {"RPUSH", lock.fence_key(), "x"});
  const std::string what = error_of([&] { (void)lock.try_lock(); });
  expect_promise_kept(what, ep, "EVAL", {"secret-name"});
  raw_key_command(ep, {"DEL", lock.fence_key()});
}

TEST(ErrorMessages, GcraLimiter_StateKeyOfWrongType_NamesServerAndScriptNotKey) {
  REDISCACHE_REQUIRE_REDIS(ep);
  GcraOptions options;
  options.key_prefix = unique_prefix() + "gcra:";
  GcraLimiter limiter(make_client(ep), options);
  const std::string key = limiter.redis_key("secret-user");
  raw_key_command(ep, {"RPUSH", key, "x"});
  const std::string what = error_of([&] { (void)limiter.check("secret-user"); });
  expect_promise_kept(what, ep, "EVAL", {"secret-user"});
  raw_key_command(ep, {"DEL", key});
}

TEST(ErrorMessages, SessionStore_SessionKeyOfWrongType_NamesServerAndCommandNotIdOrValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  SessionOptions options;
  options.key_prefix = unique_prefix() + "session:";
  SessionStore store(make_client(ep), options);
  const std::string id = store.new_id();
  const std::string key = store.key(id);
  raw_key_command(ep, {"SET", key, "secret-value"});
  const std::string what = error_of([&] { (void)store.get(id); });
  expect_promise_kept(what, ep, "HGETALL", {id, "secret-value"});
  raw_key_command(ep, {"DEL", key});
}

TEST(ErrorMessages, Leaderboard_BoardKeyOfWrongType_NamesServerAndCommandNotPlayer) {
  REDISCACHE_REQUIRE_REDIS(ep);
  recipes::LeaderboardOptions options;
  options.prefix = unique_prefix() + "board:";
  recipes::Leaderboard board(make_client(ep), "secret-board", options);
  raw_key_command(ep, {"SET", board.key(), "secret-value"});
  const std::string what = error_of([&] { (void)board.add_score("secret-player", 1); });
  expect_promise_kept(what, ep, "ZINCRBY", {"secret-board", "secret-player", "secret-value"});
  raw_key_command(ep, {"DEL", board.key()});
}

TEST(ErrorMessages, WriteThrough_CacheUpdateFails_ReportsServerAndCommandNotIdOrValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_name("errwt");
  CacheAside<std::string> cache(make_client(ep), cache_with_broken_version(ep, name));
  Reports reports;
  WriteThroughOptions options;
  options.on_error = reports.handler();
  std::vector<std::string> database;
  WriteThrough<std::string> wt(
      cache, [&](std::string_view, const std::string& v) { database.push_back(v); },
      [&](std::string_view) {}, options);
  // The database took the value; Redis failed both the update and the invalidation after it.
  EXPECT_EQ(wt.write("secret-id", "secret-value"), WriteOutcome::kCacheFailed);
  EXPECT_EQ(database, (std::vector<std::string>{"secret-value"}));
  const std::vector<std::string> reported = reports.messages();
  ASSERT_FALSE(reported.empty());
  for (const std::string& what : reported) {
    expect_promise_kept(what, ep, "EVAL", {"secret-id", "secret-value"});
  }
  raw_key_command(ep, {"DEL", name + ":version"});
}

TEST(ErrorMessages, WriteBehind_CacheUpdateFails_ReportsServerAndCommandNotIdOrValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_name("errwb");
  CacheAside<std::string> cache(make_client(ep), cache_with_broken_version(ep, name));
  Reports reports;
  WriteBehindOptions options;
  options.run_flusher = false;  // only write()'s own cache update is under test
  options.on_error = reports.handler();
  WriteBehind<std::string> wb(
      cache, [](const std::vector<WriteOp<std::string>>&) {}, options);
  wb.write("secret-id", "secret-value");  // queued; the cache update fails and is reported
  EXPECT_GE(wb.stats().cache_errors, 1U);
  const std::vector<std::string> reported = reports.messages();
  ASSERT_FALSE(reported.empty());
  for (const std::string& what : reported) {
    expect_promise_kept(what, ep, "EVAL", {"secret-id", "secret-value"});
  }
  raw_key_command(ep, {"DEL", name + ":version"});
  raw_key_command(ep, {"DEL", "{" + name + "}:wb:stream"});
  raw_key_command(ep, {"DEL", "{" + name + "}:wb:last:secret-id"});
}

TEST(ErrorMessages, NearCachedClient_WrongTypeKey_NamesServerAndCommandNotKey) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string key = unique_prefix() + "secret-key";
  raw_key_command(ep, {"DEL", key});
  raw_key_command(ep, {"RPUSH", key, "secret-value"});
  NearTierOptions options;
  options.invalidation.mode = InvalidationMode::kPubSub;
  options.invalidation.channel = unique_prefix() + "inv";
  NearCachedClient near(make_client(ep), options);
  const std::string what = error_of([&] { (void)near.get(key); });
  expect_promise_kept(what, ep, "GET", {"secret-key", "secret-value"});
  raw_key_command(ep, {"DEL", key});
}

TEST(ErrorMessages, DailyCounter_CounterKeyOfWrongType_NamesServerAndCommandNotName) {
  REDISCACHE_REQUIRE_REDIS(ep);
  recipes::DailyCounterOptions options;
  options.prefix = unique_prefix() + "daily:";
  recipes::DailyCounter counter(make_client(ep), options);
  const recipes::Day day = recipes::Day::from_date(2026, 1, 2);
  const std::string key = counter.key("secret-name", day);
  raw_key_command(ep, {"RPUSH", key, "secret-value"});
  const std::string what = error_of([&] { (void)counter.increment("secret-name", day, 1); });
  expect_promise_kept(what, ep, "INCRBY", {"secret-name", "secret-value"});
  raw_key_command(ep, {"DEL", key});
}

TEST(ErrorMessages, Timeline_TimelineKeyOfWrongType_NamesServerAndCommandNotOwnerOrEntry) {
  REDISCACHE_REQUIRE_REDIS(ep);
  recipes::TimelineOptions options;
  options.prefix = unique_prefix() + "timeline:";
  recipes::Timeline timeline(make_client(ep), options);
  const std::string key = timeline.key("secret-owner");
  raw_key_command(ep, {"SET", key, "secret-stored"});
  const std::string what = error_of([&] { timeline.push("secret-owner", "secret-entry"); });
  expect_promise_kept(what, ep, "LPUSH", {"secret-owner", "secret-entry", "secret-stored"});
  raw_key_command(ep, {"DEL", key});
}

}  // namespace
}  // namespace rediscache::test
