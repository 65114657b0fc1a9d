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
#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"
#include "rediscache/helpers/session_store.hpp"
#include "rediscache/recipes/leaderboard.hpp"
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

}  // namespace
}  // namespace rediscache::test
