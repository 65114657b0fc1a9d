// EntryFormat::kPlain and custom key layouts against a real Redis (and the cluster in the
// cluster rerun): what lands in Redis, what a foreign or undecodable value does, batches across
// slots, invalidation and the near tier under a layout.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "interop_support.hpp"
#include "rediscache/cache/cache_aside.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)
using namespace interop_support;      // NOLINT(google-build-using-namespace)

User user(const std::string& id, const std::string& name) {
  return User{id, name, name + "@example.com"};
}

TEST(CacheInterop, Plain_StoresTheCodecPayloadAlone_ExpiryByRedisTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  UserCache cache(make_client(ep), plain_options(marker + ".user:{id}"));
  const MarkerCleanup cleanup{ep, marker};
  cache.set("42", user("42", "Ada"));
  const std::string key = marker + ".user:42";
  EXPECT_EQ(cache.key_for("42"), key);
  const std::string raw = raw_key_command(ep, {"GET", key});
  EXPECT_EQ(raw, nlohmann::json(user("42", "Ada")).dump());
  const long long pttl = std::stoll(raw_key_command(ep, {"PTTL", key}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 66'000);  // ttl 60 s, jitter 10 %
  int loads = 0;
  const auto loader = [&](std::string_view) -> std::optional<User> {
    ++loads;
    return std::nullopt;
  };
  EXPECT_EQ(cache.get_or_load("42", loader), user("42", "Ada"));
  EXPECT_EQ(loads, 0);
  // Large values stay plain: no compression in this format.
  const std::string big(4096, 'x');
  cache.set("big", user("big", big));
  EXPECT_EQ(raw_key_command(ep, {"GET", marker + ".user:big"}),
            nlohmann::json(user("big", big)).dump());
}

// Another service's value is plain JSON under the same key: read as a hit.
TEST(CacheInterop, Plain_ForeignJson_IsAHit) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  UserCache cache(make_client(ep), plain_options(marker + ".user:{id}"));
  const MarkerCleanup cleanup{ep, marker};
  raw_key_command(ep, {"SETEX", marker + ".user:7", "60",
                       R"({"id": "7", "name": "Grace", "email": "g@example.com"})"});
  const auto loader = [&](std::string_view) -> std::optional<User> {
    ADD_FAILURE() << "loaded although another service cached the value";
    return std::nullopt;
  };
  EXPECT_EQ(cache.get_or_load("7", loader), (User{"7", "Grace", "g@example.com"}));
  EXPECT_EQ(cache.stats().hits, 1u);
}

// A value this side cannot decode is never deleted (two services would delete each other's
// entries on every read): counted, and the miss's load overwrites it, once.
TEST(CacheInterop, Plain_UndecodableValue_NotDeleted_LoadOverwritesIt) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  CacheOptions options = plain_options(marker + ".user:{id}");
  UserCache cache(make_client(ep), options);
  const MarkerCleanup cleanup{ep, marker};
  const std::string key = marker + ".user:9";
  raw_key_command(ep, {"SETEX", key, "60", R"({"id": "9", "fullname": "no name field"})"});
  std::atomic<int> loads{0};
  const UserCache::Loader loader = [&](std::string_view id) -> std::optional<User> {
    ++loads;
    return user(std::string(id), "Loaded");
  };
  EXPECT_EQ(cache.get_or_load("9", loader), user("9", "Loaded"));
  EXPECT_EQ(loads.load(), 1);
  // Counted once per read of it: the miss's lease re-reads the entry in the same call.
  const std::uint64_t errors = cache.stats().decode_errors;
  EXPECT_GE(errors, 1u);
  EXPECT_EQ(raw_key_command(ep, {"GET", key}), nlohmann::json(user("9", "Loaded")).dump());
  EXPECT_EQ(cache.get_or_load("9", loader), user("9", "Loaded"));
  EXPECT_EQ(loads.load(), 1);

  // The batch path: the same, never a DEL.
  raw_key_command(ep, {"SETEX", marker + ".user:a", "60", "not json"});
  raw_key_command(ep, {"SETEX", marker + ".user:b", "60", "[1, 2]"});
  const UserCache::BatchLoader batch_loader = [&](const std::vector<std::string>& ids) {
    std::unordered_map<std::string, User> out;
    for (const std::string& id : ids) out.emplace(id, user(id, "Batch"));
    return out;
  };
  const auto values = cache.get_many({"a", "b"}, batch_loader);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], user("a", "Batch"));
  EXPECT_EQ(values[1], user("b", "Batch"));
  EXPECT_EQ(cache.stats().decode_errors, errors + 2);
  EXPECT_EQ(raw_key_command(ep, {"GET", marker + ".user:b"}),
            nlohmann::json(user("b", "Batch")).dump());
}

// With a key layout of single keys ("user:<id>", no hash tag), a batch spans many cluster slots:
// get_many's MGET is split by slot over the actual keys, its leases and write-back too.
TEST(CacheInterop, Layout_GetMany_SpansSlots_LoadsOnceThenHits) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  UserCache cache(make_client(ep), plain_options(marker + ".user:{id}"));
  const MarkerCleanup cleanup{ep, marker};
  std::vector<std::string> ids;
  std::set<std::uint16_t> slots;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(std::to_string(i));
    slots.insert(rediscache::cluster_slot(cache.key_for(ids.back())));
  }
  EXPECT_GT(slots.size(), 20u);
  std::atomic<int> batches{0};
  const UserCache::BatchLoader loader = [&](const std::vector<std::string>& missing) {
    ++batches;
    std::unordered_map<std::string, User> out;
    for (const std::string& id : missing) out.emplace(id, user(id, "N" + id));
    return out;
  };
  for (int round = 0; round < 2; ++round) {
    const auto values = cache.get_many(ids, loader);
    ASSERT_EQ(values.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(values[i], user(ids[i], "N" + ids[i]));
  }
  EXPECT_EQ(batches.load(), 1);
  EXPECT_EQ(cache.stats().hits, ids.size());
  EXPECT_EQ(raw_key_command(ep, {"GET", marker + ".user:17"}),
            nlohmann::json(user("17", "N17")).dump());
}

TEST(CacheInterop, Layout_InvalidateDeletesTheLayoutKey_UnversionedInvalidateAllThrows) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  UserCache cache(make_client(ep), plain_options(marker + ".user:{id}"));
  const MarkerCleanup cleanup{ep, marker};
  cache.set("1", user("1", "One"));
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", marker + ".user:1"}), "1");
  cache.invalidate("1");
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", marker + ".user:1"}), "0");
  EXPECT_THROW(cache.invalidate_all(), std::logic_error);
  // No version key was ever written: the layout has no version.
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.options().name + ":version"}), "0");
}

TEST(CacheInterop, Layout_WithVersion_InvalidateAllMovesEveryKey) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  CacheOptions options = plain_options(marker + ".app:v{version}:user:{id}");
  UserCache cache(make_client(ep), options);
  const MarkerCleanup cleanup{ep, marker};
  const NamespaceCleanup version_cleanup{ep, options.name};
  std::atomic<int> loads{0};
  const UserCache::Loader loader = [&](std::string_view id) -> std::optional<User> {
    ++loads;
    return user(std::string(id), "V" + std::to_string(loads.load()));
  };
  EXPECT_EQ(cache.get_or_load("5", loader), user("5", "V1"));
  const std::string before = cache.key_for("5");
  EXPECT_EQ(before.rfind(marker + ".app:v", 0), 0u) << before;
  EXPECT_EQ(before.substr(before.size() - 7), ":user:5");
  cache.invalidate_all();
  EXPECT_NE(cache.key_for("5"), before);
  EXPECT_EQ(cache.get_or_load("5", loader), user("5", "V2"));
}

// The near tier under a layout tracks the layout's prefix; a plain entry written by anyone
// else (here a raw SET, as another language would) reaches it through server-assisted
// invalidation, within a bounded wait.
TEST(CacheInterop, Layout_NearTier_ForeignWriteInvalidatesLocalCopy) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string marker = unique_namespace();
  CacheOptions options = plain_options(marker + ".user:{id}");
  options.near_cache.emplace();
  UserCache cache(make_client(ep), options);
  const MarkerCleanup cleanup{ep, marker};
  const std::string key = marker + ".user:3";
  cache.set("3", user("3", "Old"));
  const auto no_load = [&](std::string_view) -> std::optional<User> { return std::nullopt; };
  // Wait (bounded) until the near tier holds the entry: its listener connects in the background.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (cache.stats().near.hits == 0 && std::chrono::steady_clock::now() < deadline) {
    EXPECT_EQ(cache.get_or_load("3", no_load), user("3", "Old"));
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(cache.stats().near.hits, 0u);
  raw_key_command(ep, {"SETEX", key, "60", nlohmann::json(user("3", "New")).dump()});
  std::optional<User> seen;
  while (std::chrono::steady_clock::now() < deadline + 10s) {
    seen = cache.get_or_load("3", no_load);
    if (seen && seen->name == "New") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seen, user("3", "New"));
}

}  // namespace
