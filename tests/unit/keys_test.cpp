// KeySpace and CacheOptions validation: pure logic, no server needed (constructors never
// contact Redis).
#include "rediscache/cache/keys.hpp"

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/topology/cluster.hpp"

namespace {

using rediscache::CacheAside;
using rediscache::CacheOptions;
using rediscache::KeySpace;
using rediscache::KeySpaceOptions;

using rediscache::test::unreachable_client;

TEST(KeySpace, Layout_NamespaceVersionId) {
  const KeySpace keys(unreachable_client(), "users");
  EXPECT_EQ(keys.key_for("42", 3), "users:v3{:42}");
  EXPECT_EQ(keys.lock_key_for("42", 3), "users:lock:v3{:42}");
  EXPECT_EQ(keys.version_key(), "users:version");
  EXPECT_EQ(keys.key_for(std::string("a:b\0c", 5), 7), std::string("users:v7{:a:b\0c}", 16));
  EXPECT_FALSE(keys.cached_version().has_value());
}

TEST(KeySpace, KeysFor_SameKeysAsKeyForInOrder) {
  const KeySpace keys(unreachable_client(), "users");
  const std::vector<std::string_view> ids = {"42", "", "a}b", "42"};
  const std::vector<std::string> batch = keys.keys_for(ids, 5);
  ASSERT_EQ(batch.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(batch[i], keys.key_for(ids[i], 5));
  EXPECT_TRUE(keys.keys_for({}, 5).empty());
}

// On a cluster an entry and its lock share a slot (one script touches both), whatever the id:
// also empty, or with braces of its own; different ids spread.
TEST(KeySpace, EntryAndLock_ShareOneClusterSlot_IdsSpread) {
  const KeySpace keys(unreachable_client(), "users");
  for (const std::string id : {"42", "", "}", "{", "{}", "a}b{c", "x{y}"}) {
    EXPECT_EQ(rediscache::cluster_slot(keys.key_for(id, 9)),
              rediscache::cluster_slot(keys.lock_key_for(id, 9)))
        << id;
  }
  std::set<std::uint16_t> slots;
  for (int i = 0; i < 100; ++i)
    slots.insert(rediscache::cluster_slot(keys.key_for(std::to_string(i), 9)));
  EXPECT_GT(slots.size(), 90U);
}

// Names the option in the message, so a misconfiguration is found from the log line alone.
void expect_invalid(const std::function<void()>& fn, const std::string& field) {
  try {
    fn();
    ADD_FAILURE() << "no std::invalid_argument for " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(KeySpace, BadNameOrOptions_InvalidArgument) {
  expect_invalid([] { KeySpace(unreachable_client(), ""); }, "name");
  expect_invalid([] { KeySpace(unreachable_client(), "app:users"); }, "name");
  expect_invalid([] { KeySpace(unreachable_client(), "a b"); }, "name");
  expect_invalid([] { KeySpace(unreachable_client(), "a{b}"); }, "name");
  KeySpaceOptions bad;
  bad.version_check_interval = std::chrono::milliseconds(0);
  expect_invalid([&] { KeySpace(unreachable_client(), "ok", bad); }, "version_check_interval");
}

CacheOptions valid_options() {
  CacheOptions options;
  options.name = "users";
  options.ttl = std::chrono::seconds(60);
  return options;
}

void expect_cache_invalid(const std::function<void(CacheOptions&)>& change,
                          const std::string& field) {
  CacheOptions options = valid_options();
  change(options);
  expect_invalid([&] { CacheAside<std::string> cache(unreachable_client(), options); },
                 "CacheOptions::" + field);
}

TEST(CacheOptions, Valid_ConstructsWithoutRedis) {
  EXPECT_NO_THROW(CacheAside<std::string>(unreachable_client(), valid_options()));
  CacheOptions no_ttl = valid_options();
  no_ttl.ttl.reset();
  no_ttl.allow_no_ttl = true;  // the explicit opt-out
  EXPECT_NO_THROW(CacheAside<std::string>(unreachable_client(), no_ttl));
}

TEST(CacheOptions, BadValues_InvalidArgumentNamingTheOption) {
  expect_cache_invalid([](CacheOptions& o) { o.ttl.reset(); }, "ttl");
  expect_cache_invalid([](CacheOptions& o) { o.ttl = std::chrono::milliseconds(0); }, "ttl");
  expect_cache_invalid([](CacheOptions& o) { o.ttl = std::chrono::milliseconds(-5); }, "ttl");
  expect_cache_invalid([](CacheOptions& o) { o.name = ""; }, "name");
  expect_cache_invalid([](CacheOptions& o) { o.name = "a:b"; }, "name");
  expect_cache_invalid([](CacheOptions& o) { o.ttl_jitter = 1.0; }, "ttl_jitter");
  expect_cache_invalid([](CacheOptions& o) { o.ttl_jitter = -0.1; }, "ttl_jitter");
  expect_cache_invalid([](CacheOptions& o) { o.negative_ttl = std::chrono::milliseconds(0); },
                       "negative_ttl");
  expect_cache_invalid([](CacheOptions& o) { o.stale_window = std::chrono::milliseconds(-1); },
                       "stale_window");
  expect_cache_invalid([](CacheOptions& o) { o.max_value_bytes = 0; }, "max_value_bytes");
  expect_cache_invalid([](CacheOptions& o) { o.compression_level = 0; }, "compression_level");
  expect_cache_invalid([](CacheOptions& o) { o.lock.ttl = std::chrono::milliseconds(0); },
                       "lock.ttl");
  expect_cache_invalid([](CacheOptions& o) { o.lock.max_wait = std::chrono::milliseconds(0); },
                       "lock.max_wait");
  expect_cache_invalid([](CacheOptions& o) { o.lock.max_backoff = std::chrono::milliseconds(1); },
                       "lock.max_backoff");
  expect_cache_invalid([](CacheOptions& o) { o.refresh.xfetch_beta = 0; }, "refresh.xfetch_beta");
  expect_cache_invalid([](CacheOptions& o) { o.refresh.threshold = 1.0; }, "refresh.threshold");
  expect_cache_invalid([](CacheOptions& o) { o.refresh.threads = 0; }, "refresh.threads");
  expect_cache_invalid([](CacheOptions& o) { o.refresh.max_queue = 0; }, "refresh.max_queue");
  expect_cache_invalid([](CacheOptions& o) { o.breaker.failure_threshold = 0; },
                       "breaker.failure_threshold");
  expect_cache_invalid([](CacheOptions& o) { o.breaker.cool_down = std::chrono::milliseconds(0); },
                       "breaker.cool_down");
  expect_cache_invalid(
      [](CacheOptions& o) {
        o.ttl.reset();
        o.allow_no_ttl = true;
        o.refresh.mode = rediscache::RefreshMode::kXFetch;
      },
      "refresh.mode");
}

}  // namespace
