// ServerStats and the metrics exporters against real redis-servers.
#include "rediscache/observe/server_stats.hpp"

#include <string>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/observe/metrics.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using test::RedisServer;
using test::unique_prefix;

ConnectionOptions options_for(const std::string& host, int port) {
  ConnectionOptions o;
  o.host = host;
  o.port = port;
  return o;
}

TEST(ServerStatsLive, SharedServer_HitsAndMissesGrowWithOurLookups) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client(test::connection_options(ep));
  const std::string key = unique_prefix() + "k";
  client.set(key, "v");
  const ServerStats before = server_stats(client);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client.get(key).has_value());
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(client.get(key + ":missing").has_value());
  const ServerStats after = server_stats(client);
  // Other tests may share the server: our lookups are a lower bound.
  EXPECT_GE(after.keyspace_hits - before.keyspace_hits, 3U);
  EXPECT_GE(after.keyspace_misses - before.keyspace_misses, 2U);
  ASSERT_TRUE(after.hit_rate.has_value());
  EXPECT_GE(after.connected_clients, 1U);
  EXPECT_GT(after.used_memory, 0U);
  EXPECT_FALSE(after.redis_version.empty());
  EXPECT_GE(after.total_keys(), 1U);
  client.del({key});
}

TEST(ServerStatsLive, PrivateServer_MaxmemoryAndPolicyDriveWarnings) {
  RedisServer server;
  Client client(options_for(server.host(), server.port()));
  ServerStats s = server_stats(client);
  EXPECT_EQ(s.maxmemory, 0U);
  EXPECT_EQ(s.maxmemory_policy, "noeviction");
  EXPECT_EQ(warnings(s).size(), 2U);
  EXPECT_FALSE(s.hit_rate.has_value());  // a fresh server has had no lookups

  client.command({"CONFIG", "SET", "maxmemory", "64mb"});
  client.command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"});
  client.set("a", "1", {std::chrono::seconds(60)});
  client.set("b", "2");
  s = server_stats(client);
  EXPECT_EQ(s.maxmemory, 64U * 1024 * 1024);
  EXPECT_EQ(s.maxmemory_policy, "allkeys-lfu");
  EXPECT_TRUE(warnings(s).empty());
  ASSERT_EQ(s.keyspace.size(), 1U);
  EXPECT_EQ(s.keyspace[0].db, 0);
  EXPECT_EQ(s.keyspace[0].keys, 2U);
  EXPECT_EQ(s.keyspace[0].expires, 1U);

  client.command({"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"});
  s = server_stats(client);
  ASSERT_EQ(warnings(s).size(), 1U);
  EXPECT_NE(warnings(s)[0].find("1 of 2 keys"), std::string::npos) << warnings(s)[0];
}

TEST(ServerStatsLive, Prometheus_PoolAndServerSnapshotsFromLiveClient) {
  RedisServer server;
  Client client(options_for(server.host(), server.port()));
  for (int i = 0; i < 5; ++i) client.ping();
  PrometheusWriter out;
  write_metrics(out, client.pool().stats(), {{"pool", "main"}});
  write_metrics(out, server_stats(client), {{"server", "cache1"}});
  const std::string text = out.text();
  EXPECT_NE(text.find("rediscache_pool_connections_created_total{pool=\"main\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rediscache_server_connected_clients{server=\"cache1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("maxmemory_policy=\"noeviction\"} 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace rediscache
