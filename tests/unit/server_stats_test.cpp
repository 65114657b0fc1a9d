// Unit tests of ServerStats: reading INFO text, and the warnings for poorly configured caches.
#include "rediscache/observe/server_stats.hpp"

#include <string>

#include <gtest/gtest.h>

#include "rediscache/client/info.hpp"

namespace rediscache {
namespace {

// Trimmed INFO output of redis-server 7.0.15, with CRLF line ends as the server sends them.
constexpr const char* kInfo =
    "# Server\r\n"
    "redis_version:7.0.15\r\n"
    "uptime_in_seconds:3600\r\n"
    "\r\n"
    "# Clients\r\n"
    "connected_clients:12\r\n"
    "blocked_clients:1\r\n"
    "\r\n"
    "# Memory\r\n"
    "used_memory:1048576\r\n"
    "used_memory_human:1.00M\r\n"
    "maxmemory:2097152\r\n"
    "maxmemory_policy:allkeys-lru\r\n"
    "\r\n"
    "# Stats\r\n"
    "total_commands_processed:5000\r\n"
    "total_net_input_bytes:100\r\n"
    "total_net_output_bytes:200\r\n"
    "rejected_connections:0\r\n"
    "expired_keys:7\r\n"
    "evicted_keys:3\r\n"
    "keyspace_hits:900\r\n"
    "keyspace_misses:100\r\n"
    "\r\n"
    "# Replication\r\n"
    "role:master\r\n"
    "\r\n"
    "# Keyspace\r\n"
    "db0:keys=10,expires=4,avg_ttl=3000\r\n"
    "db10:keys=5,expires=5,avg_ttl=0\r\n"
    "db2:keys=1,expires=0,avg_ttl=0\r\n";

TEST(ServerStats, FromInfo_DefaultSections_ReadsEveryField) {
  const ServerStats s = from_info(Info::parse(kInfo));
  EXPECT_EQ(s.redis_version, "7.0.15");
  EXPECT_EQ(s.role, "master");
  EXPECT_EQ(s.uptime_seconds, 3600U);
  EXPECT_EQ(s.keyspace_hits, 900U);
  EXPECT_EQ(s.keyspace_misses, 100U);
  ASSERT_TRUE(s.hit_rate.has_value());
  EXPECT_DOUBLE_EQ(*s.hit_rate, 0.9);
  EXPECT_EQ(s.evicted_keys, 3U);
  EXPECT_EQ(s.expired_keys, 7U);
  EXPECT_EQ(s.used_memory, 1048576U);
  EXPECT_EQ(s.maxmemory, 2097152U);
  EXPECT_EQ(s.maxmemory_policy, "allkeys-lru");
  EXPECT_EQ(s.connected_clients, 12U);
  EXPECT_EQ(s.blocked_clients, 1U);
  EXPECT_EQ(s.total_commands_processed, 5000U);
  EXPECT_EQ(s.total_net_input_bytes, 100U);
  EXPECT_EQ(s.total_net_output_bytes, 200U);
  ASSERT_TRUE(s.memory_fraction().has_value());
  EXPECT_DOUBLE_EQ(*s.memory_fraction(), 0.5);
}

TEST(ServerStats, FromInfo_Keyspace_SortedByDatabaseIndex) {
  const ServerStats s = from_info(Info::parse(kInfo));
  ASSERT_EQ(s.keyspace.size(), 3U);
  EXPECT_EQ(s.keyspace[0].db, 0);
  EXPECT_EQ(s.keyspace[0].keys, 10U);
  EXPECT_EQ(s.keyspace[0].expires, 4U);
  EXPECT_EQ(s.keyspace[0].avg_ttl_ms, 3000U);
  EXPECT_EQ(s.keyspace[1].db, 2);
  EXPECT_EQ(s.keyspace[2].db, 10);
  EXPECT_EQ(s.total_keys(), 16U);
}

TEST(ServerStats, FromInfo_NoLookupsYet_HitRateUnset) {
  const ServerStats s =
      from_info(Info::parse("# Stats\r\nkeyspace_hits:0\r\nkeyspace_misses:0\r\n"));
  EXPECT_FALSE(s.hit_rate.has_value());
}

TEST(ServerStats, FromInfo_EmptyOrOddText_ZerosWithoutThrowing) {
  const ServerStats s = from_info(
      Info::parse("garbage\r\n# Stats\r\nkeyspace_hits:lots\r\n# Keyspace\r\ndbx:keys=1\r\n"
                  "db3:nonsense\r\n"));
  EXPECT_EQ(s.keyspace_hits, 0U);
  EXPECT_FALSE(s.hit_rate.has_value());
  EXPECT_FALSE(s.memory_fraction().has_value());
  ASSERT_EQ(s.keyspace.size(), 1U);
  EXPECT_EQ(s.keyspace[0].db, 3);
  EXPECT_EQ(s.keyspace[0].keys, 0U);
}

bool mentions(const std::vector<std::string>& lines, const std::string& word) {
  for (const auto& line : lines) {
    if (line.find(word) != std::string::npos) return true;
  }
  return false;
}

ServerStats healthy() {
  ServerStats s;
  s.maxmemory = 1000;
  s.used_memory = 100;
  s.maxmemory_policy = "allkeys-lru";
  s.keyspace_hits = 9000;
  s.keyspace_misses = 1000;
  s.hit_rate = 0.9;
  s.keyspace.push_back({0, 10, 0, 0});
  return s;
}

TEST(ServerStatsWarnings, HealthyCache_NoWarning) { EXPECT_TRUE(warnings(healthy()).empty()); }

TEST(ServerStatsWarnings, NoMaxmemory_Warns) {
  ServerStats s = healthy();
  s.maxmemory = 0;
  const auto w = warnings(s);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_TRUE(mentions(w, "maxmemory is not set"));
}

TEST(ServerStatsWarnings, NoevictionPolicy_Warns) {
  ServerStats s = healthy();
  s.maxmemory_policy = "noeviction";
  const auto w = warnings(s);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_TRUE(mentions(w, "noeviction"));
}

TEST(ServerStatsWarnings, VolatilePolicyWithKeysWithoutTtl_Warns) {
  ServerStats s = healthy();
  s.maxmemory_policy = "volatile-lru";
  s.keyspace = {{0, 10, 4, 0}, {1, 5, 5, 0}};
  const auto w = warnings(s);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_TRUE(mentions(w, "6 of 15 keys"));

  s.keyspace = {{0, 10, 10, 0}};
  EXPECT_TRUE(warnings(s).empty());
}

TEST(ServerStatsWarnings, MemoryNearLimit_Warns) {
  ServerStats s = healthy();
  s.used_memory = 950;
  EXPECT_TRUE(mentions(warnings(s), "95.0 % of maxmemory"));
}

TEST(ServerStatsWarnings, LowHitRate_WarnsOnlyWithEnoughLookups) {
  ServerStats s = healthy();
  s.keyspace_hits = 10;
  s.keyspace_misses = 90;
  s.hit_rate = 0.1;
  EXPECT_TRUE(warnings(s).empty());  // 100 lookups: too few to judge
  s.keyspace_hits = 1000;
  s.keyspace_misses = 9000;
  EXPECT_TRUE(mentions(warnings(s), "hit rate is 10.0 %"));
}

TEST(ServerStatsWarnings, RejectedConnections_Warns) {
  ServerStats s = healthy();
  s.rejected_connections = 2;
  EXPECT_TRUE(mentions(warnings(s), "2 connections were rejected"));
}

}  // namespace
}  // namespace rediscache
