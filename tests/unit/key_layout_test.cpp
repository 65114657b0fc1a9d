// Custom key layouts (CacheOptions::key_layout, KeySpaceOptions::layout) and the options the
// plain entry format rejects: pure logic, no server (constructors never contact Redis).
#include "cache/key_layout.hpp"

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/topology/cluster.hpp"

namespace {

using rediscache::CacheOptions;
using rediscache::EntryFormat;
using rediscache::KeySpace;
using rediscache::KeySpaceOptions;
using rediscache::RefreshMode;
using rediscache::detail::KeyLayout;
using namespace std::chrono_literals;

using rediscache::test::unreachable_client;

std::string invalid_message(const std::string& layout, const std::string& name = "cache") {
  try {
    const KeyLayout parsed(layout, name, "CacheOptions::key_layout");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(KeyLayout, Expand_IdVersionAndLiteralBraces) {
  EXPECT_EQ(KeyLayout("user:{id}", "cache", "f").expand("42", 7), "user:42");
  EXPECT_EQ(KeyLayout("user:{{id}}", "cache", "f").expand("42", 7), "user:{42}");
  EXPECT_EQ(KeyLayout("app:v{version}:user:{id}", "cache", "f").expand("42", 7), "app:v7:user:42");
  EXPECT_EQ(KeyLayout("u:{id}:{version}", "cache", "f").expand("", 3), "u::3");
  EXPECT_EQ(KeyLayout("user:{id}", "cache", "f").prefix(), "user:");
  EXPECT_EQ(KeyLayout("app:v{version}:user:{id}", "cache", "f").prefix(), "app:v");
  EXPECT_FALSE(KeyLayout("user:{id}", "cache", "f").versioned());
  EXPECT_TRUE(KeyLayout("a:{version}:{id}", "cache", "f").versioned());
  // An id is inserted as is, braces and all.
  EXPECT_EQ(KeyLayout("user:{id}", "cache", "f").expand("{version}", 1), "user:{version}");
}

TEST(KeyLayout, Invalid_NamesTheFieldAndTheRule) {
  EXPECT_NE(invalid_message("user:").find("CacheOptions::key_layout must contain \"{id}\""),
            std::string::npos);
  EXPECT_NE(invalid_message("user:{id}:{id}").find("exactly once"), std::string::npos);
  EXPECT_NE(invalid_message("u:{version}{version}:{id}").find("at most once"), std::string::npos);
  EXPECT_NE(invalid_message("{id}").find("must start with literal text"), std::string::npos);
  EXPECT_NE(invalid_message("{{id}}:user").find("must start with literal text"), std::string::npos);
  EXPECT_NE(invalid_message("").find("1..256 bytes"), std::string::npos);
  EXPECT_NE(invalid_message(std::string(300, 'a') + "{id}").find("1..256"), std::string::npos);
  EXPECT_NE(invalid_message("user:\n{id}").find("control characters"), std::string::npos);
  // Keys under "<name>:" are the cache's own (version key, WriteThrough locks): neither a
  // layout under it nor one an id could extend into it.
  EXPECT_NE(invalid_message("user:{id}", "user").find("CacheOptions::name"), std::string::npos);
  EXPECT_NE(invalid_message("us{id}", "user").find("CacheOptions::name"), std::string::npos);
  EXPECT_NE(invalid_message("user:version:{id}", "user").find("own keys"), std::string::npos);
  EXPECT_EQ(invalid_message("user:{id}", "users"), "");
  EXPECT_EQ(invalid_message("user.{id}", "user"), "");
}

// The store script touches an entry and its lock: they share a slot whatever braces the layout
// or the id hold, and lock keys never look like entry keys (they start with '{').
TEST(KeyLayout, LockKey_SameSlotAsEntry_ForAnyIdAndLayout) {
  for (const std::string layout : {"user:{id}", "user:{{id}}", "u{x}:{id}", "u:{id}}", "a{}{id}"}) {
    const KeyLayout parsed(layout, "cache", "f");
    for (const std::string id : {"42", "", "}", "{", "{}", "a}b{c", "x{y}", "{z}w"}) {
      const std::string key = parsed.expand(id, 1);
      const std::string lock = rediscache::detail::layout_lock_key(key);
      EXPECT_EQ(rediscache::cluster_slot(key), rediscache::cluster_slot(lock)) << layout << id;
      EXPECT_EQ(lock.front(), '{');
      EXPECT_NE(lock.find(":lock:" + key), std::string::npos);
    }
  }
  // Every slot has a tag: sample all 16384 slots through keys that hash to them.
  std::set<std::uint16_t> slots;
  for (int i = 0; i < 200000 && slots.size() < 16384; ++i) {
    const std::string key = "k" + std::to_string(i);
    slots.insert(rediscache::cluster_slot(key));
    ASSERT_EQ(rediscache::cluster_slot(rediscache::detail::layout_lock_key(key)),
              rediscache::cluster_slot(key));
  }
}

TEST(KeySpace, CustomLayout_KeysLocksAndVersion) {
  KeySpaceOptions options;
  options.layout = "user:{id}";
  KeySpace keys(unreachable_client(), "users", options);
  EXPECT_EQ(keys.key_for("42", 0), "user:42");
  EXPECT_EQ(keys.keys_for({"1", "2"}, 0), (std::vector<std::string>{"user:1", "user:2"}));
  EXPECT_EQ(keys.entry_prefix(), "user:");
  EXPECT_FALSE(keys.versioned());
  // No version in the keys: no version key read, no I/O (the client is unreachable).
  EXPECT_EQ(keys.version(), 0);
  EXPECT_EQ(keys.key_for("7"), "user:7");
  EXPECT_EQ(keys.cached_version(), 0);
  EXPECT_THROW(keys.bump(), std::logic_error);
  EXPECT_EQ(rediscache::cluster_slot(keys.lock_key_for("42", 0)),
            rediscache::cluster_slot("user:42"));

  const KeySpace defaults(unreachable_client(), "users");
  EXPECT_TRUE(defaults.versioned());
  EXPECT_EQ(defaults.entry_prefix(), "users:v");

  KeySpaceOptions bad;
  bad.layout = "user";
  EXPECT_THROW(
      {
        try {
          const KeySpace k(unreachable_client(), "users", bad);
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("KeySpaceOptions::layout"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
}

CacheOptions plain_options() {
  CacheOptions options;
  options.name = "interop";
  options.ttl = 60s;
  options.entry_format = EntryFormat::kPlain;
  options.negative_ttl.reset();
  options.compress_above.reset();
  return options;
}

std::string validation_message(const CacheOptions& options) {
  try {
    options.validate();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(CacheOptions, PlainFormat_RejectsWhatItCannotStore) {
  EXPECT_EQ(validation_message(plain_options()), "");
  CacheOptions o = plain_options();
  o.stale_window = 1s;
  EXPECT_NE(validation_message(o).find("CacheOptions::stale_window"), std::string::npos);
  o = plain_options();
  o.refresh.mode = RefreshMode::kXFetch;
  EXPECT_NE(validation_message(o).find("CacheOptions::refresh.mode"), std::string::npos);
  o.refresh.mode = RefreshMode::kThreshold;
  EXPECT_NE(validation_message(o).find("CacheOptions::refresh.mode"), std::string::npos);
  o = plain_options();
  o.negative_ttl = 30s;
  EXPECT_NE(validation_message(o).find("CacheOptions::negative_ttl"), std::string::npos);
  o = plain_options();
  o.compress_above = 1024;
  EXPECT_NE(validation_message(o).find("CacheOptions::compress_above"), std::string::npos);
  // The framed default keeps all of them.
  CacheOptions framed = plain_options();
  framed.entry_format = EntryFormat::kFramed;
  framed.stale_window = 1s;
  framed.negative_ttl = 30s;
  framed.compress_above = 1024;
  EXPECT_EQ(validation_message(framed), "");
}

TEST(CacheOptions, KeyLayout_ValidatedWithTheCacheName) {
  CacheOptions o = plain_options();
  o.key_layout = "user:{id}";
  EXPECT_EQ(validation_message(o), "");
  o.key_layout = "interop:{id}";
  EXPECT_NE(validation_message(o).find("CacheOptions::key_layout"), std::string::npos);
  o.key_layout = "user:";
  EXPECT_NE(validation_message(o).find("CacheOptions::key_layout"), std::string::npos);
}

}  // namespace
