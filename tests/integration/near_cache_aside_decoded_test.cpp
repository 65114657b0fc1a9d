// CacheAside's near tier holds decoded values against a real Redis: a near hit neither decodes
// nor (with get_or_load_shared) copies, the value a caller gets is its own or immutable, and
// max_bytes charges the codec's estimate of a decoded value (else its encoded size).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client_factory.hpp"
#include "eventually.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/codec.hpp"
#include "rediscache/client/client.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using test::eventually;
using test::make_client;
using test::unique_namespace;

struct User {
  int id = 0;
  std::string name;
  std::vector<std::string> roles;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, roles)

std::atomic<int> g_decodes{0};

// JSON, counting decodes (the user's codec is the callback here).
struct CountingCodec {
  static std::string encode(const User& u) { return JsonCodec<User>::encode(u); }
  static User decode(std::string_view bytes) {
    ++g_decodes;
    return JsonCodec<User>::decode(bytes);
  }
};

// The same, with an estimate of what a decoded User holds.
constexpr std::size_t kEstimate = 20000;
struct EstimatingCodec : CountingCodec {
  static std::size_t estimated_size(const User&) noexcept { return kEstimate; }
};

CacheOptions near_options(const std::string& name, std::size_t max_bytes = 64u << 20) {
  CacheOptions o;
  o.name = name;
  o.ttl = std::chrono::seconds(60);
  NearTierOptions near;
  near.cache.max_entries = 1000;
  near.cache.max_bytes = max_bytes;
  near.cache.shards = 1;
  near.invalidation.channel = name + ":near-invalidate";
  near.invalidation.initial_backoff = milliseconds(10);
  o.near_cache = near;
  return o;
}

User alice() { return User{7, "alice", {"admin", "ops"}}; }

std::optional<User> load_alice(std::string_view) { return alice(); }

// Reads until the value is held in the near tier (the store's own invalidation may drop the
// first local copy).
template <class Cache>
bool held_locally(Cache& cache, const std::string& id) {
  return eventually([&] {
    const std::uint64_t before = cache.stats().near.hits;
    return cache.get_or_load(id, load_alice).has_value() && cache.stats().near.hits > before;
  });
}

TEST(NearCacheAsideDecodedTest, NearHit_DoesNotDecodeAgain) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheAside<User, CountingCodec> cache(make_client(ep), near_options(unique_namespace()));
  ASSERT_TRUE(eventually([&] { return cache.stats().near.enabled; }));
  ASSERT_TRUE(held_locally(cache, "7"));
  const int decodes = g_decodes.load();
  const CacheStats before = cache.stats();
  for (int i = 0; i < 100; ++i) {
    const std::optional<User> user = cache.get_or_load("7", load_alice);
    ASSERT_TRUE(user.has_value());
    EXPECT_EQ(user->name, "alice");
    EXPECT_EQ(user->roles.size(), 2u);
  }
  EXPECT_EQ(cache.stats().near.hits - before.near.hits, 100u);
  EXPECT_EQ(g_decodes.load(), decodes);  // 100 hits, no decode
  cache.invalidate("7");
}

TEST(NearCacheAsideDecodedTest, GetOrLoadShared_NearHitsShareOneImmutableObject) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheAside<User, CountingCodec> cache(make_client(ep), near_options(unique_namespace()));
  ASSERT_TRUE(eventually([&] { return cache.stats().near.enabled; }));
  ASSERT_TRUE(held_locally(cache, "7"));
  const std::shared_ptr<const User> a = cache.get_or_load_shared("7", load_alice);
  const std::shared_ptr<const User> b = cache.get_or_load_shared("7", load_alice);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a.get(), b.get());  // one object, no copy
  // get_or_load gives the caller its own copy: changing it changes nothing the cache holds.
  std::optional<User> mine = cache.get_or_load("7", load_alice);
  ASSERT_TRUE(mine.has_value());
  mine->name = "mallory";
  EXPECT_EQ(cache.get_or_load("7", load_alice)->name, "alice");
  EXPECT_EQ(a->name, "alice");
  // "Not found" is null.
  const auto none =
      cache.get_or_load_shared("missing", [](std::string_view) { return std::optional<User>{}; });
  EXPECT_EQ(none, nullptr);
  // An invalidation drops the local copy; the next read loads a new object, while the old one
  // stays valid for whoever still holds it.
  cache.invalidate("7");
  const std::shared_ptr<const User> c = cache.get_or_load_shared("7", load_alice);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c.get(), a.get());
  EXPECT_EQ(a->name, "alice");
  cache.invalidate("7");
}

TEST(NearCacheAsideDecodedTest, MaxBytes_ChargesTheCodecsEstimate) {
  REDISCACHE_REQUIRE_REDIS(ep);
  {
    CacheAside<User, EstimatingCodec> cache(make_client(ep), near_options(unique_namespace()));
    ASSERT_TRUE(eventually([&] { return cache.stats().near.enabled; }));
    ASSERT_TRUE(held_locally(cache, "7"));
    EXPECT_GE(cache.stats().near.bytes, kEstimate);
    cache.invalidate("7");
  }
  {
    // A budget below the estimate holds nothing, however small the encoded entry is.
    CacheAside<User, EstimatingCodec> cache(make_client(ep),
                                            near_options(unique_namespace(), kEstimate / 2));
    ASSERT_TRUE(eventually([&] { return cache.stats().near.enabled; }));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.get_or_load("7", load_alice).has_value());
    EXPECT_EQ(cache.stats().near.entries, 0u);
    EXPECT_GT(cache.stats().near.rejected, 0u);
    cache.invalidate("7");
  }
  {
    // No estimate: the encoded size is charged (the JSON is about 50 bytes).
    CacheAside<User, CountingCodec> cache(make_client(ep), near_options(unique_namespace()));
    ASSERT_TRUE(eventually([&] { return cache.stats().near.enabled; }));
    ASSERT_TRUE(held_locally(cache, "7"));
    const std::size_t bytes = cache.stats().near.bytes;
    EXPECT_GT(bytes, JsonCodec<User>::encode(alice()).size());
    EXPECT_LT(bytes, 1024u);
    cache.invalidate("7");
  }
}

// Many threads hit the same decoded values while another instance keeps changing them: every
// value read is whole and one that was written (run under TSan too).
TEST(NearCacheAsideDecodedTest, ConcurrentHitsAndRemoteWrites_EveryReadIsAWrittenValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_namespace();
  CacheAside<User, CountingCodec> reader(make_client(ep), near_options(name));
  CacheAside<User, CountingCodec> writer(make_client(ep), near_options(name));
  ASSERT_TRUE(
      eventually([&] { return reader.stats().near.enabled && writer.stats().near.enabled; }));
  constexpr int kIds = 8;
  for (int i = 0; i < kIds; ++i) writer.set(std::to_string(i), User{i, "v0", {"r"}});
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      int n = t;
      while (!stop.load()) {
        const int id = n++ % kIds;
        const auto user = reader.get_or_load_shared(std::to_string(id), [&](std::string_view) {
          return std::optional<User>(User{id, "loaded", {"r"}});
        });
        // The id is the key's, the name one a writer or the loader wrote.
        if (!user || user->id != id || user->roles.size() != 1 || user->name.empty() ||
            (user->name[0] != 'v' && user->name != "loaded")) {
          ++bad;
        }
      }
    });
  }
  for (int round = 1; round <= 50; ++round) {
    writer.set(std::to_string(round % kIds),
               User{round % kIds, "v" + std::to_string(round), {"r"}});
    std::this_thread::sleep_for(milliseconds(2));
  }
  // The last write of each id reaches the reader's near tier.
  for (int i = 0; i < kIds; ++i) writer.set(std::to_string(i), User{i, "vlast", {"r"}});
  EXPECT_TRUE(eventually([&] {
    for (int i = 0; i < kIds; ++i) {
      const auto user = reader.get_or_load_shared(std::to_string(i), load_alice);
      if (!user || user->name != "vlast") return false;
    }
    return true;
  }));
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  for (int i = 0; i < kIds; ++i) writer.invalidate(std::to_string(i));
}

}  // namespace
}  // namespace rediscache
