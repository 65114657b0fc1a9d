// Tags and invalidation by tag (CacheOptions::tags): one tag over caches of different types and
// processes, entries with several tags, a tag invalidated while a load carrying it is in flight,
// set() with tags, get_many, the near tier in both invalidation modes, hostile stamps, and the
// options' bounds. Under REDISCACHE_TEST_TOPOLOGY=cluster the same tests run on a cluster, where
// an entry and its tags' stamps live in different slots.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cache_aside_support.hpp"
#include "rediscache/cache/load_context.hpp"
#include "rediscache/cache/write_through.hpp"
#include "rediscache/near/invalidation.hpp"

namespace tags_test_model {

struct Order {
  int id = 0;
  std::string state;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, state)

}  // namespace tags_test_model

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)
using rediscache::InvalidationMode;
using rediscache::LoadContext;
using rediscache::NearTierOptions;
using rediscache::TagOptions;
using tags_test_model::Order;

using OrderCache = CacheAside<Order>;

// Options whose tags live in a namespace of this test alone; the cleanup removes both.
struct TagFixture {
  Endpoint ep;
  CacheOptions options = base_options();
  NamespaceCleanup entries{ep, options.name};
  NamespaceCleanup stamps{ep, "{" + options.name + "-tags}"};
  explicit TagFixture(Endpoint e) : ep(std::move(e)) {
    TagOptions tags;
    tags.name_space = options.name + "-tags";
    options.tags = tags;
  }
  // Options for another cache (its own entries) sharing this fixture's tags.
  [[nodiscard]] CacheOptions sibling(const std::string& suffix) const {
    CacheOptions other = options;
    other.name = options.name + "-" + suffix;
    return other;
  }
};

// A deciding loader that tags its value and counts its calls.
template <class T>
auto tagging_loader(std::atomic<int>& loads, T value, std::vector<std::string> tags) {
  return [&loads, value, tags](LoadContext<T>& ctx) -> std::optional<T> {
    ++loads;
    ctx.set_tags(tags);
    return value;
  };
}

TEST(CacheAsideTags, OneTagOnTwoCachesOfDifferentTypes_InvalidatedFromAnotherProcess_BothMiss) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  const CacheOptions order_options = f.sibling("orders");
  const NamespaceCleanup order_cleanup{ep, order_options.name};
  StringCache users(make_client(ep), f.options);
  OrderCache orders(make_client(ep), order_options);
  std::atomic<int> user_loads{0};
  std::atomic<int> order_loads{0};
  const auto user_loader = tagging_loader<std::string>(user_loads, "ada", {"tenant:7"});
  const auto order_loader = tagging_loader<Order>(order_loads, Order{1, "paid"}, {"tenant:7"});
  ASSERT_EQ(users.get_or_load("u1", user_loader), "ada");
  ASSERT_EQ(orders.get_or_load("o1", order_loader)->state, "paid");
  ASSERT_EQ(users.get_or_load("u1", user_loader), "ada");  // hits
  ASSERT_EQ(orders.get_or_load("o1", order_loader)->state, "paid");
  ASSERT_EQ(user_loads.load(), 1);
  ASSERT_EQ(order_loads.load(), 1);

  // Another process, with a cache of yet another type and name, invalidates the tag.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 1;
    try {
      CacheAside<std::vector<int>> other(make_client(ep), f.sibling("other"));
      other.invalidate_tag("tenant:7");
      code = 0;
    } catch (...) {  // NOLINT(bugprone-empty-catch): the exit code says it
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  EXPECT_EQ(users.get_or_load("u1", user_loader), "ada");
  EXPECT_EQ(orders.get_or_load("o1", order_loader)->state, "paid");
  EXPECT_EQ(user_loads.load(), 2);  // both were misses
  EXPECT_EQ(order_loads.load(), 2);
  EXPECT_EQ(users.stats().tag_misses, 1u);
  EXPECT_EQ(orders.stats().tag_misses, 1u);
  // The reloaded entries were loaded after the invalidation: hits again.
  EXPECT_EQ(users.get_or_load("u1", user_loader), "ada");
  EXPECT_EQ(orders.get_or_load("o1", order_loader)->state, "paid");
  EXPECT_EQ(user_loads.load(), 2);
  EXPECT_EQ(order_loads.load(), 2);
}

TEST(CacheAsideTags, EntryWithThreeTags_AnyOneInvalidates_UntaggedAndOtherEntriesUntouched) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::atomic<int> loads{0};
  const auto three = tagging_loader<std::string>(loads, "v", {"a", "b", "c"});
  const auto other = tagging_loader<std::string>(loads, "w", {"d"});
  const auto untagged = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::string("x");
  };
  ASSERT_EQ(cache.get_or_load("three", three), "v");
  ASSERT_EQ(cache.get_or_load("other", other), "w");
  ASSERT_EQ(cache.get_or_load("plain", untagged), "x");
  ASSERT_EQ(loads.load(), 3);

  for (const std::string tag : {"b", "c", "a"}) {
    cache.invalidate_tag(tag);
    const int before = loads.load();
    EXPECT_EQ(cache.get_or_load("three", three), "v");
    EXPECT_EQ(loads.load(), before + 1) << "tag " << tag;  // a miss
    EXPECT_EQ(cache.get_or_load("three", three), "v");
    EXPECT_EQ(loads.load(), before + 1) << "tag " << tag;  // then a hit
  }
  EXPECT_EQ(cache.get_or_load("other", other), "w");
  EXPECT_EQ(cache.get_or_load("plain", untagged), "x");
  EXPECT_EQ(loads.load(), 6);  // 3 first loads + 3 reloads of "three"
  EXPECT_EQ(cache.stats().tag_invalidations, 3u);
  EXPECT_EQ(cache.stats().tag_misses, 3u);

  // Repeated tags count once; invalidate_tags takes many in one call.
  const auto repeated = tagging_loader<std::string>(loads, "r", {"d", "e", "d"});
  ASSERT_EQ(cache.get_or_load("repeated", repeated), "r");
  cache.invalidate_tags({"e", "zz"});
  const int before = loads.load();
  EXPECT_EQ(cache.get_or_load("repeated", repeated), "r");
  EXPECT_EQ(cache.get_or_load("other", other), "w");  // "d" was not invalidated
  EXPECT_EQ(loads.load(), before + 1);
}

TEST(CacheAsideTags, TagInvalidatedWhileALoadCarryingItIsInFlight_LoadDoesNotResurrectIt) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<int> loads{0};
  // The first load reads the database before the change and returns after the invalidation.
  const auto loader = [&](LoadContext<std::string>& ctx) -> std::optional<std::string> {
    ctx.set_tags({"product:9"});
    if (++loads == 1) {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait_for(lock, 20s, [&] { return release; });
      return std::string("before-change");
    }
    return std::string("after-change");
  };
  std::optional<std::string> first;
  std::thread reader([&] { first = cache.get_or_load("p9", loader); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return entered; }));
  }
  cache.invalidate_tag("product:9");  // the database changed while the load ran
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
  reader.join();
  EXPECT_EQ(first, "before-change");  // its own caller gets what it loaded
  // The stored entry predates the invalidation: a miss, and the next load is cached.
  EXPECT_EQ(cache.get_or_load("p9", loader), "after-change");
  EXPECT_EQ(cache.get_or_load("p9", loader), "after-change");
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(cache.stats().tag_misses, 1u);
}

TEST(CacheAsideTags, ReadStartedAfterTheInvalidation_DoesNotJoinALoadFromBeforeIt) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  f.options.lock.max_wait = 10s;  // the second read waits for the first load's lease
  StringCache cache(make_client(ep), f.options);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<int> loads{0};
  const auto loader = [&](LoadContext<std::string>& ctx) -> std::optional<std::string> {
    ctx.set_tags({"t"});
    if (++loads == 1) {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait_for(lock, 20s, [&] { return release; });
      return std::string("old");
    }
    return std::string("new");
  };
  std::thread first([&] { cache.get_or_load("k", loader); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return entered; }));
  }
  cache.invalidate_tag("t");
  std::optional<std::string> second;
  std::thread late([&] { second = cache.get_or_load("k", loader); });
  std::this_thread::sleep_for(50ms);  // let it reach the lease (it must not join the flight)
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
  first.join();
  late.join();
  EXPECT_EQ(second, "new");
  EXPECT_EQ(loads.load(), 2);
}

TEST(CacheAsideTags, SetWithTags_InvalidatedByTag_SetWithoutTags_NotAffected) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::atomic<int> loads{0};
  const auto loader = [&](std::string_view id) -> std::optional<std::string> {
    ++loads;
    return "loaded-" + std::string(id);
  };
  cache.set("a", "set-a", {"group:1"});
  cache.set("b", "set-b");
  EXPECT_EQ(cache.get_or_load("a", loader), "set-a");
  EXPECT_EQ(cache.get_or_load("b", loader), "set-b");
  cache.invalidate_tag("group:1");
  EXPECT_EQ(cache.get_or_load("a", loader), "loaded-a");
  EXPECT_EQ(cache.get_or_load("b", loader), "set-b");
  EXPECT_EQ(loads.load(), 1);
  // A set after the invalidation holds.
  cache.set("a", "set-again", {"group:1"});
  EXPECT_EQ(cache.get_or_load("a", loader), "set-again");
}

TEST(CacheAsideTags, GetMany_TaggedEntries_InvalidatedOnesReloadInOneBatch) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(std::to_string(i));
  std::atomic<int> batches{0};
  std::vector<std::string> last_batch;
  // Even ids carry "even", every id carries its own tag.
  const auto loader = [&](std::vector<LoadContext<std::string>>& contexts) {
    ++batches;
    last_batch.clear();
    std::unordered_map<std::string, std::string> out;
    for (auto& ctx : contexts) {
      const std::string id(ctx.id());
      const int n = std::stoi(id);
      ctx.set_tags(n % 2 == 0 ? std::vector<std::string>{"even", "id:" + id}
                              : std::vector<std::string>{"id:" + id});
      last_batch.push_back(id);
      out.emplace(id, "v" + id);
    }
    return out;
  };
  auto values = cache.get_many(ids, loader);
  ASSERT_EQ(values.size(), ids.size());
  ASSERT_EQ(batches.load(), 1);
  values = cache.get_many(ids, loader);
  ASSERT_EQ(batches.load(), 1);  // all hits
  cache.invalidate_tags({"even", "id:3"});
  values = cache.get_many(ids, loader);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(values[i], "v" + ids[i]);
  EXPECT_EQ(batches.load(), 2);
  EXPECT_EQ(last_batch.size(), 11u);  // ten even ids and "3", in one batch
  values = cache.get_many(ids, loader);
  EXPECT_EQ(batches.load(), 2);
}

TEST(CacheAsideTags, WriteThroughWithTags_EntryCachedThenInvalidatedByTag) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::unordered_map<std::string, std::string> database;
  std::mutex db_mu;
  rediscache::WriteThrough<std::string> writes(cache,
                                               [&](std::string_view id, const std::string& value) {
                                                 const std::lock_guard<std::mutex> lock(db_mu);
                                                 database[std::string(id)] = value;
                                               });
  std::atomic<int> loads{0};
  const auto loader = [&](std::string_view id) -> std::optional<std::string> {
    ++loads;
    const std::lock_guard<std::mutex> lock(db_mu);
    return database.at(std::string(id));
  };
  EXPECT_EQ(writes.write("w", "one", {"account:1"}), rediscache::WriteOutcome::kCached);
  EXPECT_EQ(cache.get_or_load("w", loader), "one");
  EXPECT_EQ(loads.load(), 0);  // the write cached it
  cache.invalidate_tag("account:1");
  EXPECT_EQ(cache.get_or_load("w", loader), "one");
  EXPECT_EQ(loads.load(), 1);
  // Bad tags are refused before the database is written.
  EXPECT_THROW(writes.write("x", "two", {""}), std::invalid_argument);
  const std::lock_guard<std::mutex> lock(db_mu);
  EXPECT_EQ(database.count("x"), 0u);
}

class CacheAsideTagsNear : public ::testing::TestWithParam<InvalidationMode> {};

TEST_P(CacheAsideTagsNear, NearHeldTaggedEntry_TagInvalidatedByAnotherInstance_MissAtOnce) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  NearTierOptions near;
  near.cache.max_entries = 100;
  near.invalidation.mode = GetParam();
  near.invalidation.channel = f.options.name + ":near-invalidate";
  near.invalidation.initial_backoff = 10ms;
  f.options.near_cache = near;
  StringCache reader(make_client(ep), f.options);
  StringCache writer(make_client(ep), f.options);  // another instance (own near tier)
  std::atomic<int> loads{0};
  const auto loader = tagging_loader<std::string>(loads, "v", {"hot"});
  ASSERT_EQ(reader.get_or_load("h", loader), "v");
  // Read until the entry is served from the reader's near tier.
  const auto deadline = std::chrono::steady_clock::now() + rediscache::test::kEventually;
  while (reader.stats().near.hits == 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(reader.get_or_load("h", loader), "v");
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GT(reader.stats().near.hits, 0u);
  const int before = loads.load();
  writer.invalidate_tag("hot");
  EXPECT_EQ(reader.get_or_load("h", loader), "v");
  EXPECT_EQ(loads.load(), before + 1);  // the very next read missed
  EXPECT_GE(reader.stats().tag_misses, 1u);
}

INSTANTIATE_TEST_SUITE_P(Modes, CacheAsideTagsNear,
                         ::testing::Values(InvalidationMode::kServerAssisted,
                                           InvalidationMode::kPubSub),
                         [](const ::testing::TestParamInfo<InvalidationMode>& info) {
                           return info.param == InvalidationMode::kPubSub ? "PubSub"
                                                                          : "ServerAssisted";
                         });

TEST(CacheAsideTags, GarbageInAStamp_EntryIsAMiss_NeverACrash) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  StringCache cache(make_client(ep), f.options);
  std::atomic<int> loads{0};
  const auto loader = tagging_loader<std::string>(loads, "v", {"g"});
  ASSERT_EQ(cache.get_or_load("k", loader), "v");
  Client raw = make_client(ep);
  const std::string stamp = "{" + f.options.tags->name_space + "}:t:g";
  for (const std::string garbage : {"not a number", "-5", "99999999999999999999", ""}) {
    raw.set(stamp, garbage);
    const int before = loads.load();
    EXPECT_EQ(cache.get_or_load("k", loader), "v");
    EXPECT_EQ(loads.load(), before + 1) << "stamp '" << garbage << "'";
  }
  // Another type under the stamp: the MGET reads it as nil (never invalidated): the entry holds.
  raw.del({stamp});
  raw.command({"RPUSH", stamp, "x"});
  const int before = loads.load();
  EXPECT_EQ(cache.get_or_load("k", loader), "v");
  EXPECT_EQ(cache.get_or_load("k", loader), "v");
  EXPECT_LE(loads.load(), before + 1);
}

TEST(CacheAsideTags, Options_BadTagsAndMisuse_ClearErrors) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  {
    CacheOptions o = f.options;
    o.entry_format = rediscache::EntryFormat::kPlain;
    o.negative_ttl.reset();
    o.compress_above.reset();
    try {
      StringCache bad(make_client(ep), o);
      ADD_FAILURE() << "kPlain with tags accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("CacheOptions::tags"), std::string::npos) << e.what();
    }
  }
  for (const std::string& ns :
       std::vector<std::string>{"", "has space", "br{ace}", std::string(129, 'n')}) {
    CacheOptions o = f.options;
    o.tags->name_space = ns;
    EXPECT_THROW(StringCache(make_client(ep), o), std::invalid_argument) << "'" << ns << "'";
  }
  {
    CacheOptions o = f.options;
    o.tags->remembered_keys = 0;
    EXPECT_THROW(StringCache(make_client(ep), o), std::invalid_argument);
  }
  StringCache cache(make_client(ep), f.options);
  EXPECT_THROW(cache.invalidate_tag(""), std::invalid_argument);
  EXPECT_THROW(cache.invalidate_tag(std::string(201, 't')), std::invalid_argument);
  EXPECT_THROW(cache.set("k", "v", {std::string(201, 't')}), std::invalid_argument);
  EXPECT_THROW(cache.set("k", "v", std::vector<std::string>(33, "t")), std::invalid_argument);
  const auto too_many = [](LoadContext<std::string>& ctx) -> std::optional<std::string> {
    std::vector<std::string> tags;
    for (int i = 0; i < 33; ++i) tags.push_back("t" + std::to_string(i));
    ctx.set_tags(tags);
    return std::string("v");
  };
  try {
    cache.get_or_load("k", too_many);
    ADD_FAILURE() << "33 tags accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("LoadContext::tags"), std::string::npos) << e.what();
  }
  // Without CacheOptions::tags: a logic error, never a silent untagged entry.
  CacheOptions untagged = f.sibling("untagged");
  untagged.tags.reset();
  const NamespaceCleanup cleanup{ep, untagged.name};
  StringCache plain(make_client(ep), untagged);
  EXPECT_THROW(plain.invalidate_tag("t"), std::logic_error);
  EXPECT_THROW(plain.set("k", "v", {"t"}), std::logic_error);
  const auto tagging = [](LoadContext<std::string>& ctx) -> std::optional<std::string> {
    ctx.set_tags({"t"});
    return std::string("v");
  };
  EXPECT_THROW(plain.get_or_load("k", tagging), std::logic_error);
}

TEST(CacheAsideTags, RedisDown_TaggedReadsLoadFromTheDatabase) {
  REDISCACHE_REQUIRE_REDIS(ep);
  TagFixture f(ep);
  CacheOptions o = f.options;
  o.breaker.enabled = false;
  StringCache cache(rediscache::test::unreachable_client(), o);
  std::atomic<int> loads{0};
  const auto loader = tagging_loader<std::string>(loads, "v", {"t"});
  EXPECT_EQ(cache.get_or_load("k", loader), "v");
  EXPECT_EQ(cache.get_or_load("k", loader), "v");
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(cache.invalidate_tag("t"), rediscache::WriteResult::kQueued);  // replayed later
  o.recovery.enabled = false;
  StringCache strict(rediscache::test::unreachable_client(), o);
  EXPECT_THROW(strict.invalidate_tag("t"), rediscache::Error);
}

}  // namespace
