// The per-day recipes against the shared redis-server: DailyCounter (TTLs, a week's MGET),
// UniqueVisitors (HyperLogLog per day, counts over a range, merge), DailyActiveUsers (bitmaps,
// retention with BITOP AND).
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "recipes_test_util.hpp"
#include "test_env.hpp"
#include <rediscache/recipes/daily_active_users.hpp>
#include <rediscache/recipes/daily_counter.hpp>
#include <rediscache/recipes/unique_visitors.hpp>

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::recipes::DailyActiveUsers;
using rediscache::recipes::DailyActiveUsersOptions;
using rediscache::recipes::DailyCounter;
using rediscache::recipes::DailyCounterOptions;
using rediscache::recipes::Day;
using rediscache::recipes::UniqueVisitors;
using rediscache::recipes::UniqueVisitorsOptions;
using rediscache::test::KeyCleanup;
using rediscache::test::recipe_client;
using rediscache::test::unique_prefix;

const Day kMonday = Day::from_date(2026, 11, 23);

TEST(RecipesDailyCounter, Increment_SetsExpiryAndWeekReadsInOneMget) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  DailyCounterOptions options;
  options.prefix = prefix;
  options.retention = 8 * 24h;
  DailyCounter views(client, options);

  EXPECT_EQ(views.increment("home", kMonday), 1);
  EXPECT_EQ(views.increment("home", kMonday), 2);
  EXPECT_EQ(views.increment("home", kMonday + 2, 40), 40);
  EXPECT_EQ(views.increment("home", kMonday + 6, -3), -3);
  EXPECT_EQ(views.increment("about", kMonday), 1);

  EXPECT_EQ(views.key("home", kMonday), prefix + "home:2026-11-23");
  EXPECT_EQ(views.get("home", kMonday), 2);
  EXPECT_EQ(views.get("home", kMonday + 1), 0);
  EXPECT_EQ(views.range("home", kMonday, kMonday + 6),
            (std::vector<long long>{2, 0, 40, 0, 0, 0, -3}));
  EXPECT_EQ(views.range("about", kMonday - 1, kMonday), (std::vector<long long>{0, 1}));
  EXPECT_THROW(views.range("home", kMonday, kMonday - 1), std::invalid_argument);

  // Every counter key expires within the retention.
  for (const char* key :
       {"home:2026-11-23", "home:2026-11-25", "home:2026-11-29", "about:2026-11-23"}) {
    const long long ttl = client.pttl(prefix + key);
    EXPECT_GT(ttl, 0) << key;
    EXPECT_LE(ttl, 8LL * 24 * 3600 * 1000) << key;
  }
  EXPECT_EQ(cleanup.count(), 4u);
}

TEST(RecipesDailyCounter, ExpiredBucket_ReadsAsZero) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  DailyCounterOptions options;
  options.prefix = prefix;
  options.retention = 1s;
  DailyCounter counter(client, options);
  counter.increment("x", kMonday, 5);
  client.pexpire(counter.key("x", kMonday), 1ms);  // as if the retention had passed
  EXPECT_TRUE(rediscache::test::wait_until([&] { return counter.get("x", kMonday) == 0; }));
  EXPECT_EQ(counter.increment("x", kMonday), 1);
}

TEST(RecipesUniqueVisitors, CountOverRange_MatchesExactUnionWithinError) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  UniqueVisitorsOptions options;
  options.prefix = prefix;
  options.retention = 10 * 24h;
  options.merged_ttl = 600s;
  UniqueVisitors visitors(client, options);

  // Day d gets visitors [1000 d, 1000 d + 3000): overlapping windows over three days.
  std::set<std::string> everyone;
  std::vector<std::size_t> exact_per_day;
  for (int d = 0; d < 3; ++d) {
    std::vector<std::string> ids;
    for (int i = 1000 * d; i < 1000 * d + 3000; ++i) ids.push_back("user-" + std::to_string(i));
    EXPECT_TRUE(visitors.add(kMonday + d, ids));
    EXPECT_FALSE(visitors.add(kMonday + d, std::vector<std::string>{ids[0], ids[1]}));  // repeats
    everyone.insert(ids.begin(), ids.end());
    exact_per_day.push_back(ids.size());
  }
  EXPECT_FALSE(visitors.add(kMonday, std::vector<std::string>{}));

  const auto near = [](long long estimate, std::size_t exact) {
    const double error = std::abs(static_cast<double>(estimate) - static_cast<double>(exact));
    return error <= 0.03 * static_cast<double>(exact);  // well over 3 standard errors (0.81 %)
  };
  for (int d = 0; d < 3; ++d) {
    EXPECT_TRUE(near(visitors.count(kMonday + d), exact_per_day[d])) << visitors.count(kMonday + d);
  }
  const long long range = visitors.count(kMonday, kMonday + 2);
  EXPECT_TRUE(near(range, everyone.size())) << range << " vs " << everyone.size();
  EXPECT_EQ(visitors.count(kMonday + 3), 0);
  EXPECT_EQ(visitors.count(kMonday + 10, kMonday + 12), 0);

  // merge() stores the same union with its own expiry; merging again is idempotent.
  EXPECT_EQ(visitors.merge(kMonday, kMonday + 2), range);
  EXPECT_EQ(visitors.merge(kMonday, kMonday + 2), range);
  const std::string merged = visitors.merged_key(kMonday, kMonday + 2);
  EXPECT_EQ(client.pfcount({merged}), range);
  EXPECT_GT(client.pttl(merged), 0);
  EXPECT_LE(client.pttl(merged), 600 * 1000);
  for (int d = 0; d < 3; ++d) {
    const long long ttl = client.pttl(visitors.day_key(kMonday + d));
    EXPECT_GT(ttl, 9LL * 24 * 3600 * 1000);
    EXPECT_LE(ttl, 10LL * 24 * 3600 * 1000);
  }
  EXPECT_THROW(visitors.count(kMonday + 1, kMonday), std::invalid_argument);
}

TEST(RecipesDailyActiveUsers, RetentionAndPeriodCounts_MatchExactSets_NoScratchKeysLeft) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  DailyActiveUsersOptions options;
  options.prefix = prefix;
  options.retention = 40 * 24h;
  options.max_user_id = 1000;
  DailyActiveUsers dau(client, options);

  EXPECT_FALSE(dau.mark_active(kMonday, 1));
  EXPECT_TRUE(dau.mark_active(kMonday, 1));  // already marked
  dau.mark_active(kMonday, std::vector<std::uint64_t>{2, 3, 5, 8, 1000});
  dau.mark_active(kMonday + 1, std::vector<std::uint64_t>{2, 3, 4, 8, 13});
  dau.mark_active(kMonday + 2, std::vector<std::uint64_t>{0, 3, 8, 21});
  dau.mark_active(kMonday + 2, std::vector<std::uint64_t>{});

  EXPECT_EQ(dau.count(kMonday), 6);
  EXPECT_EQ(dau.count(kMonday + 1), 5);
  EXPECT_EQ(dau.count(kMonday + 2), 4);
  EXPECT_EQ(dau.count(kMonday + 3), 0);
  EXPECT_TRUE(dau.was_active(kMonday, 1000));
  EXPECT_FALSE(dau.was_active(kMonday, 4));
  EXPECT_FALSE(dau.was_active(kMonday, 5000));  // above max_user_id: never active

  EXPECT_EQ(dau.retained(kMonday, kMonday + 1), 3);                            // 2, 3, 8
  EXPECT_EQ(dau.count_active_on_all({kMonday, kMonday + 1, kMonday + 2}), 2);  // 3, 8
  EXPECT_EQ(dau.count_active_on_any({kMonday, kMonday + 1, kMonday + 2}), 10);
  EXPECT_EQ(dau.count_active_on_all({kMonday, kMonday + 5}), 0);  // a day without data
  EXPECT_EQ(dau.count_active_on_any({kMonday + 5}), 0);
  EXPECT_THROW(dau.count_active_on_all({}), std::invalid_argument);

  EXPECT_EQ(cleanup.count(), 3u);  // the three day keys, no scratch keys
  for (int d = 0; d < 3; ++d) {
    const long long ttl = client.pttl(dau.day_key(kMonday + d));
    EXPECT_GT(ttl, 39LL * 24 * 3600 * 1000);
  }
  // 1001 bits round up to 126 bytes.
  EXPECT_EQ(client.command({"STRLEN", dau.day_key(kMonday)}).integer, 126);
}

}  // namespace
