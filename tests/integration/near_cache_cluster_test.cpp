// The near cache on a Redis Cluster: client tracking is per server, so the listener must hold a
// tracking connection on every master, or writes to keys on the other masters would never be
// announced and the near cache would serve old values. Needs the shared cluster (scripts/test).
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "near_cache_test_util.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/near/invalidation.hpp"
#include "rediscache/near/near_cached_client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

using test::kEventually;

Client cluster_client(const std::vector<test::Endpoint>& seeds) {
  return Client::cluster(test::cluster_options_for(seeds));
}

/// Polls until every key reads `expected`; false after kEventually.
bool all_read(NearCachedClient& client, const std::vector<std::string>& keys,
              const std::string& expected) {
  const auto deadline = Clock::now() + kEventually;
  for (const std::string& key : keys) {
    while (client.get(key) != expected) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  return true;
}

/// At least 12 keys under `prefix`, and enough that each of the 3 masters serves some.
std::vector<std::string> keys_on_every_master(Client& cluster, const std::string& prefix) {
  std::vector<std::string> keys;
  std::set<std::string> masters;
  for (int i = 0; masters.size() < 3 || keys.size() < 12; ++i) {
    keys.push_back(prefix + "k" + std::to_string(i));
    masters.insert(cluster.pool_for(keys.back()).endpoint());
  }
  return keys;
}

/// Caches every key in `reader` (a second read of each must be a local hit), overwrites them
/// all through `writer`, and expects `reader` to see every new value.
void expect_writes_seen(NearCachedClient& reader, Client& writer,
                        const std::vector<std::string>& keys) {
  for (const std::string& key : keys) writer.set(key, "v1");
  ASSERT_TRUE(all_read(reader, keys, "v1"));
  const std::uint64_t hits = reader.near_cache().stats().hits;
  for (const std::string& key : keys) EXPECT_EQ(reader.get(key), "v1");
  ASSERT_EQ(reader.near_cache().stats().hits, hits + keys.size()) << "values were not cached";
  for (const std::string& key : keys) writer.set(key, "v2");
  EXPECT_TRUE(all_read(reader, keys, "v2")) << "a write on some master was never announced";
}

TEST(NearCacheCluster, ServerAssisted_WritesOnEveryMasterInvalidate) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  const std::string prefix = test::untagged_prefix();
  Client writer = cluster_client(seeds);
  const std::vector<std::string> keys = keys_on_every_master(writer, prefix);
  NearCachedClient reader(cluster_client(seeds),
                          test::near_options(InvalidationMode::kServerAssisted, prefix));
  ASSERT_TRUE(reader.listener().wait_connected(kEventually));
  EXPECT_EQ(reader.listener().mode(), InvalidationMode::kServerAssisted);
  EXPECT_EQ(reader.listener().stats().nodes, 3u);
  // A plain Client publishes nothing: only the servers' tracking can announce these writes.
  expect_writes_seen(reader, writer, keys);
  // A delete of keys on every master: one call, every copy dropped, the count summed.
  EXPECT_EQ(reader.del(keys), static_cast<long long>(keys.size()));
  for (const std::string& key : keys) EXPECT_EQ(reader.get(key), std::nullopt);
}

TEST(NearCacheCluster, PubSub_OneSubscriptionHearsWritersOnEveryNode) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  const std::string prefix = test::untagged_prefix();
  Client plain = cluster_client(seeds);
  const std::vector<std::string> keys = keys_on_every_master(plain, prefix);
  NearCachedClient reader(cluster_client(seeds),
                          test::near_options(InvalidationMode::kPubSub, prefix));
  NearCachedClient writer(cluster_client(seeds),
                          test::near_options(InvalidationMode::kPubSub, prefix));
  ASSERT_TRUE(reader.listener().wait_connected(kEventually));
  EXPECT_EQ(reader.listener().stats().nodes, 1u);
  for (const std::string& key : keys) writer.set(key, "v1");
  ASSERT_TRUE(all_read(reader, keys, "v1"));
  for (const std::string& key : keys) writer.set(key, "v2");
  EXPECT_TRUE(all_read(reader, keys, "v2"));
  plain.del(keys);
}

}  // namespace
}  // namespace rediscache
