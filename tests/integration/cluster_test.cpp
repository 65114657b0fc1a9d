// Redis Cluster and Sentinel under Client: routing by slot, multi-key splitting, live
// resharding under load, a killed master, and a sentinel failover. Needs the shared cluster and
// sentinel servers (scripts/test starts them); a private cluster for the killed-master test.
#include "rediscache/topology/cluster.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "cluster_support.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/client/transaction.hpp"
#include "rediscache/topology/sentinel.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::test::ClusterNode;
using rediscache::test::Endpoint;
using rediscache::test::raw_command;

Client cluster_client(const std::vector<Endpoint>& seeds, rediscache::PoolOptions pool = {}) {
  return Client::cluster(rediscache::test::cluster_options_for(seeds, pool));
}

void delete_keys(Client& c, const std::vector<std::string>& keys) {
  try {
    if (!keys.empty()) c.del(keys);
  } catch (const std::exception&) {
    // cleanup is best effort
  }
}

TEST(ClusterClient, SlotsMatchTheServer) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  const std::vector<std::string> keys = {"123456789",
                                         "foo",
                                         "{user1000}.following",
                                         "a{b}c",
                                         "foo{}{bar}",
                                         "foo{{bar}}zap",
                                         std::string("x\0y", 3),
                                         rediscache::test::untagged_prefix() + "k"};
  for (const std::string& key : keys) {
    EXPECT_EQ(std::to_string(rediscache::cluster_slot(key)),
              raw_command(seeds[0], {"CLUSTER", "KEYSLOT", key}))
        << key;
  }
}

TEST(ClusterClient, KeysSpreadOverAllThreeMasters) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  Client c = cluster_client(seeds);
  const std::string prefix = rediscache::test::untagged_prefix();
  std::vector<std::string> keys;
  keys.reserve(300);
  for (int i = 0; i < 300; ++i) keys.push_back(prefix + std::to_string(i));
  for (const auto& key : keys) c.set(key, "v", rediscache::SetOptions{60s});

  const auto masters = rediscache::test::cluster_masters(seeds);
  ASSERT_EQ(masters.size(), 3u);
  // Counted again (bounded) while a key is found on no master: a test running beside this one
  // (LiveResharding) may be moving the slot of one of these keys, and a migrating key answers
  // ASK or MOVED to a plain EXISTS on both sides until the move completes.
  std::vector<int> here(masters.size());
  const auto count = [&] {
    int total = 0;
    for (std::size_t m = 0; m < masters.size(); ++m) {
      here[m] = 0;
      for (const auto& key : keys) {
        if (raw_command(masters[m].endpoint, {"EXISTS", key}) == "1") ++here[m];
      }
      total += here[m];
    }
    return total;
  };
  int total = count();
  for (const auto give_up = std::chrono::steady_clock::now() + 10s;
       total != 300 && std::chrono::steady_clock::now() < give_up; total = count()) {
    std::this_thread::sleep_for(100ms);
  }
  for (std::size_t m = 0; m < masters.size(); ++m) {
    EXPECT_GT(here[m], 50) << "master " << masters[m].endpoint.port;
  }
  EXPECT_EQ(total, 300);
  EXPECT_GE(c.dbsize(), 300);
  delete_keys(c, keys);
}

TEST(ClusterClient, MultiKeyCommandsSplitByNode_ResultsInOrder) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  Client c = cluster_client(seeds);
  const std::string prefix = rediscache::test::untagged_prefix();
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    items.emplace_back(prefix + std::to_string(i), "value-" + std::to_string(i));
    keys.push_back(prefix + std::to_string(i));
    if (i % 10 == 0) keys.push_back(prefix + "missing-" + std::to_string(i));
  }
  c.mset(items);
  const auto values = c.mget(keys);
  ASSERT_EQ(values.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].find("missing") != std::string::npos) {
      EXPECT_FALSE(values[i]) << keys[i];
    } else {
      ASSERT_TRUE(values[i]) << keys[i];
      EXPECT_EQ("value-" + keys[i].substr(prefix.size()), *values[i]);
    }
  }
  EXPECT_EQ(c.exists(keys), 100);
  EXPECT_EQ(c.exists({keys[0], keys[0], keys[5]}), 3);  // a key named twice counts twice

  // A pipeline across slots: replies in queue order, errors in their own slots.
  auto p = c.pipeline();
  for (int i = 0; i < 50; ++i) {
    p.get(prefix + std::to_string(i));
    p.incrby(prefix + "n" + std::to_string(i), i);
  }
  p.hset(prefix + "0", "f", "v");  // WRONGTYPE
  p.command({"PING"});
  const auto replies = p.exec();
  ASSERT_EQ(replies.size(), 102u);
  for (int i = 0; i < 50; ++i) {
    const auto at = static_cast<std::size_t>(i) * 2;
    EXPECT_EQ(replies[at].str, "value-" + std::to_string(i));
    EXPECT_EQ(replies[at + 1].integer, i);
  }
  EXPECT_TRUE(replies[100].is_error());
  EXPECT_EQ(replies[101].str, "PONG");

  for (int i = 0; i < 50; ++i) keys.push_back(prefix + "n" + std::to_string(i));
  EXPECT_EQ(c.unlink(keys), 150);
  EXPECT_EQ(c.del(keys), 0);

  // scan_each walks every master.
  std::set<std::string> found;
  c.mset(items);
  rediscache::ScanOptions scan;
  scan.match = prefix + "*";
  scan.count = 500;
  c.scan_each(scan, [&](std::string_view key) { found.emplace(key); });
  EXPECT_EQ(found.size(), 100u);
  delete_keys(c, std::vector<std::string>(found.begin(), found.end()));
}

// Multiplexed per node: a cross-slot pipeline (and MGET, split by node) whose nodes' pooled
// connections are all busy goes to each node's shared connection, every batch written before
// any reply is awaited; under 32 threads on pools of 1, every reply is still the caller's own.
TEST(ClusterClient, Multiplexed_CrossSlotPipelines_ShareEachNodesConnection) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  rediscache::ClusterOptions options = rediscache::test::cluster_options_for(seeds, {});
  options.pool.size = 1;
  options.pool.multiplex = true;  // also in the pooled rerun of scripts/test
  Client c = Client::cluster(options);
  const std::string prefix = rediscache::test::untagged_prefix();
  std::vector<std::string> keys;
  std::set<rediscache::ConnectionPool*> pools;
  for (int i = 0; i < 60; ++i) {
    keys.push_back(prefix + std::to_string(i));
    pools.insert(&c.pool_for(keys.back()));
  }
  ASSERT_GE(pools.size(), 2u) << "the keys should span several masters";
  {
    std::vector<rediscache::Lease> held;  // every node's one pooled connection is busy
    std::map<rediscache::ConnectionPool*, std::uint64_t> before;
    for (rediscache::ConnectionPool* pool : pools) {
      held.push_back(pool->lease());
      before[pool] = pool->stats().multiplexed_requests;
    }
    auto p = c.pipeline();
    for (const std::string& key : keys) p.set(key, "v:" + key);
    for (const std::string& key : keys) p.command({"GETEX", key});
    const auto replies = p.exec();
    ASSERT_EQ(replies.size(), 2 * keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(replies[keys.size() + i].str, "v:" + keys[i]);
    }
    const auto values = c.mget(keys);
    for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(values[i].value_or(""), "v:" + keys[i]);
    for (rediscache::ConnectionPool* pool : pools) {
      EXPECT_GT(pool->stats().multiplexed_requests, before[pool]) << pool->endpoint();
    }
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        auto p = c.pipeline();
        const std::string value = std::to_string(t) + ":" + std::to_string(round);
        for (int k = 0; k < 6; ++k)
          p.set(keys[(t * 6 + k) % keys.size()] + ":" + std::to_string(t), value);
        for (int k = 0; k < 6; ++k)
          p.command({"GETEX", keys[(t * 6 + k) % keys.size()] + ":" + std::to_string(t)});
        const auto replies = p.exec();
        for (int k = 6; k < 12; ++k) {
          if (replies[static_cast<std::size_t>(k)].str != value) ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  std::vector<std::string> cleanup = keys;
  for (int t = 0; t < 32; ++t) {
    for (int k = 0; k < 6; ++k) {
      cleanup.push_back(keys[(t * 6 + k) % keys.size()] + ":" + std::to_string(t));
    }
  }
  delete_keys(c, cleanup);
}

TEST(ClusterClient, CrossSlotTransactionsAndScripts_ReplyErrorCrossslot) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  Client c = cluster_client(seeds);
  const std::string prefix = rediscache::test::untagged_prefix();
  const std::string a = prefix + "a", b = prefix + "b";
  ASSERT_NE(rediscache::cluster_slot(a), rediscache::cluster_slot(b));

  auto tx = c.transaction();
  tx.queue({"SET", a, "1"});
  try {
    tx.queue({"SET", b, "1"});
    FAIL() << "expected CROSSSLOT";
  } catch (const rediscache::ReplyError& e) {
    EXPECT_EQ(e.server_code(), "CROSSSLOT");
    EXPECT_NE(std::string(e.what()).find("hash tag"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.transaction({a, b}), rediscache::ReplyError);

  const rediscache::Script two_keys(
      "return redis.call('MSET', KEYS[1], ARGV[1], KEYS[2], ARGV[1])");
  EXPECT_THROW(c.eval(two_keys, {a, b}, {"x"}), rediscache::ReplyError);

  // One hash tag: one slot, so transactions and scripts work.
  const std::string ta = "{" + prefix + "}a", tb = "{" + prefix + "}b";
  auto watched = c.transaction({ta, tb});
  watched.queue({"SET", ta, "1"}).queue({"INCR", ta}).queue({"SET", tb, "x"});
  const auto result = watched.exec();
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)[1].integer, 2);
  c.eval(two_keys, {ta, tb}, {"y"});
  EXPECT_EQ(c.mget({ta, tb})[1].value(), "y");
  delete_keys(c, {ta, tb, a});
}

// How often `node` ran `command` (lower case), from INFO commandstats.
long long calls_of(const Endpoint& node, const std::string& command) {
  const std::string stats = raw_command(node, {"INFO", "commandstats"});
  const std::string field = "cmdstat_" + command + ":calls=";
  const auto at = stats.find(field);
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + field.size()));
}

long long get_calls(const Endpoint& node) { return calls_of(node, "get"); }

// The replica of the master that serves `key` (from the master's INFO: "slave0:ip=...,port=P").
Endpoint replica_of(const Endpoint& master) {
  const std::string replication = raw_command(master, {"INFO", "replication"});
  const auto at = replication.find("slave0:");
  if (at == std::string::npos) return {};
  const auto port_at = replication.find("port=", at);
  return {master.host, std::stoi(replication.substr(port_at + 5)), master.tls};
}

// Reads `key` through `c` until one read lands on `replica` (the client's slot map lists it),
// for at most `limit`. A cluster just created gossips its replicas in as "loading" for a few
// seconds, so a client started then begins with masters only.
bool wait_until_reads_reach(Client& c, const std::string& key, const Endpoint& replica,
                            std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const long long before = get_calls(replica);
    (void)c.get(key);
    if (get_calls(replica) > before) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// `key` set to "v" through `c` (read_from_replicas), on its master and its replica, and reads
// reaching the replica; an empty replica (port 0) with a failure recorded when not.
struct ReplicatedKey {
  Endpoint master;
  Endpoint replica;
};

ReplicatedKey set_on_a_replica(Client& c, const std::string& key) {
  c.set(key, "v", rediscache::SetOptions{60s});
  const Endpoint master = rediscache::test::cluster_node_for(c, key);
  raw_command(master, {"WAIT", "1", "2000"});  // the replica has the write
  const Endpoint replica = replica_of(master);
  if (replica.port == 0) {
    ADD_FAILURE() << "no replica: " << raw_command(master, {"INFO", "replication"});
    return {master, {}};
  }
  if (!wait_until_reads_reach(c, key, replica, 15s)) {
    ADD_FAILURE() << "the client's slot map never listed the replica";
    return {master, {}};
  }
  return {master, replica};
}

TEST(ClusterClient, ReadFromReplicas_ReadsGoToTheReplica_WritesToTheMaster) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  rediscache::ClusterOptions options = rediscache::test::cluster_options_for(seeds);
  options.read_from_replicas = true;
  Client c = Client::cluster(options);
  const std::string key = rediscache::test::untagged_prefix() + "hot";
  const auto [master, replica] = set_on_a_replica(c, key);
  if (replica.port == 0) return;

  const long long replica_before = get_calls(replica);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.get(key).value_or(""), "v");
  EXPECT_GE(get_calls(replica) - replica_before, 20);
  // None reaches the master. Counted with GETRANGE, which only the replica-read tests send (and
  // only to replicas): other tests running beside this one send GETs to the masters.
  const long long master_reads = calls_of(master, "getrange");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.command({"GETRANGE", key, "0", "-1"}).str, "v");
  EXPECT_EQ(calls_of(master, "getrange") - master_reads, 0);
  EXPECT_TRUE(c.set(key, "w", rediscache::SetOptions{60s}));  // a write still reaches the master
  EXPECT_EQ(raw_command(master, {"GET", key}), "w");
  c.del({key});
}

// Replica reads join the replica's shared connection once its pooled one is busy: READONLY,
// the read and READWRITE go out together (so the connection stays fit for a master's commands),
// every read is answered correctly, and none reaches the master. It reads with GETRANGE, which no
// other test sends, so the counts are its own while ctest runs other tests on the same cluster.
TEST(ClusterClient, ReadFromReplicas_Multiplexed_ManyThreadsShareTheReplicasConnection) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  rediscache::ClusterOptions options = rediscache::test::cluster_options_for(seeds);
  options.read_from_replicas = true;
  options.pool.size = 1;
  options.pool.multiplex = true;  // also in the pooled rerun of scripts/test
  Client c = Client::cluster(options);
  const std::string key = rediscache::test::untagged_prefix() + "shared-replica";
  const auto [master, replica] = set_on_a_replica(c, key);
  if (replica.port == 0) return;

  const long long master_reads = calls_of(master, "getrange");
  const long long replica_reads = calls_of(replica, "getrange");
  const long long replica_readwrites = calls_of(replica, "readwrite");
  constexpr int kThreads = 32;
  constexpr int kReads = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReads; ++i) {
        if (c.command({"GETRANGE", key, "0", "-1"}).str != "v") ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(calls_of(replica, "getrange") - replica_reads, kThreads * kReads);
  EXPECT_EQ(calls_of(master, "getrange") - master_reads, 0);
  // Only reads on the shared connection send READWRITE: with one pooled connection and 32
  // threads, some of them did.
  EXPECT_GT(calls_of(replica, "readwrite") - replica_readwrites, 0);
  c.del({key});
}

// A client started the moment a cluster is created sees its replicas as masters of empty
// shards or as "loading"; it must reload the map every second until they are online rather
// than wait for refresh_interval (a minute here).
TEST(ClusterClient, ReadFromReplicas_ClientStartedWithAFreshCluster_UsesReplicasWithinSeconds) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  rediscache::test::PrivateCluster cluster;
  rediscache::ClusterOptions options;
  for (const Endpoint& node : cluster.nodes()) options.seeds.push_back({node.host, node.port});
  options.read_from_replicas = true;
  options.refresh_interval = 60s;
  Client c = Client::cluster(options);
  const std::string key = rediscache::test::untagged_prefix() + "fresh";
  c.set(key, "v", rediscache::SetOptions{60s});
  const Endpoint master = rediscache::test::cluster_node_for(c, key);
  const Endpoint replica = replica_of(master);
  ASSERT_NE(replica.port, 0) << raw_command(master, {"INFO", "replication"});
  EXPECT_TRUE(wait_until_reads_reach(c, key, replica, 20s))
      << "reads stayed on the master: the slot map was not reloaded while replicas joined";
}

TEST(ClusterClient, LiveResharding_EightThreads_NoErrorsNoWrongValues) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);
  rediscache::PoolOptions pool;
  pool.size = 8;
  Client c = cluster_client(seeds, pool);
  const std::string prefix = rediscache::test::untagged_prefix();
  // Four hash tags: four slots whose keys move while the threads work on them.
  std::vector<std::string> tags;
  tags.reserve(4);
  for (int t = 0; t < 4; ++t) tags.push_back(prefix + "tag" + std::to_string(t));
  constexpr int kThreads = 8;
  constexpr int kKeysPerThread = 40;
  const auto key_of = [&](int thread, int i) {
    return "{" + tags[static_cast<std::size_t>(i % 4)] + "}:" + std::to_string(thread) + ":" +
           std::to_string(i);
  };
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeysPerThread; ++i) c.set(key_of(t, i), "0", rediscache::SetOptions{120s});
  }

  std::atomic<bool> stop{false};
  std::atomic<long> operations{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::vector<std::vector<int>> last(kThreads, std::vector<int>(kKeysPerThread, 0));
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client mine = c;  // copies share the topology
      int version = 0;
      while (!stop.load()) {
        for (int i = 0; i < kKeysPerThread && !stop.load(); ++i) {
          try {
            const std::string key = key_of(t, i);
            const std::string value = std::to_string(++version);
            mine.set(key, value, rediscache::SetOptions{120s});
            last[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] = version;
            const auto back = mine.get(key);
            if (!back || *back != value) {
              std::lock_guard<std::mutex> lock(errors_mu);
              errors.push_back("wrong value for " + key);
            }
            if (i % 8 == 0) {
              const auto many = mine.mget({key, key_of(t, (i + 1) % kKeysPerThread)});
              if (many.size() != 2 || !many[0] || *many[0] != value) {
                std::lock_guard<std::mutex> lock(errors_mu);
                errors.push_back("wrong mget for " + key);
              }
            }
            operations.fetch_add(1);
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(errors_mu);
            errors.emplace_back(e.what());
          }
        }
      }
    });
  }

  const auto masters = rediscache::test::cluster_masters(seeds);
  ASSERT_EQ(masters.size(), 3u);
  std::this_thread::sleep_for(200ms);
  for (const std::string& tag : tags) {
    const int slot = rediscache::cluster_slot(tag);
    const Endpoint owner = rediscache::test::cluster_node_for(c, "{" + tag + "}");
    const ClusterNode* from = nullptr;
    const ClusterNode* to = nullptr;
    for (const ClusterNode& m : masters) {
      if (m.endpoint.port == owner.port) {
        from = &m;
      } else if (to == nullptr) {
        to = &m;
      }
    }
    ASSERT_NE(from, nullptr);
    ASSERT_NE(to, nullptr);
    rediscache::test::move_slot(slot, *from, *to, masters);
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& thread : threads) thread.join();

  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors.front();
  EXPECT_GT(operations.load(), kThreads * 10);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeysPerThread; ++i) {
      const int expected = last[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
      if (expected == 0) continue;
      EXPECT_EQ(c.get(key_of(t, i)).value_or("absent"), std::to_string(expected)) << key_of(t, i);
    }
  }
  std::vector<std::string> keys;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeysPerThread; ++i) keys.push_back(key_of(t, i));
  }
  delete_keys(c, keys);
}

// Options for the failover tests on a private cluster: a quick slot-map refresh and a short
// connect timeout, so the client notices a killed master within a second or two.
rediscache::ClusterOptions failover_options(const rediscache::test::PrivateCluster& cluster) {
  rediscache::ClusterOptions options;
  for (const Endpoint& node : cluster.nodes()) options.seeds.push_back({node.host, node.port});
  options.refresh_interval = 500ms;
  options.connection.connect_timeout = 300ms;
  return options;
}

TEST(ClusterClient, MasterKilled_ReplicaPromoted_RequestsResume) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);  // the shared cluster only says that clusters are wanted
  rediscache::test::PrivateCluster cluster;
  Client c = Client::cluster(failover_options(cluster));
  const std::string key = rediscache::test::untagged_prefix() + "survivor";
  c.set(key, "before");
  raw_command(rediscache::test::cluster_node_for(c, key), {"WAIT", "1", "2000"});
  const Endpoint victim = rediscache::test::cluster_node_for(c, key);
  cluster.kill(victim);

  const auto killed_at = std::chrono::steady_clock::now();
  bool resumed = false;
  int failures = 0;
  while (std::chrono::steady_clock::now() - killed_at < 30s) {
    try {
      c.set(key, "after");
      resumed = c.get(key).value_or("") == "after";
      if (resumed) break;
    } catch (const rediscache::Error&) {
      ++failures;  // the slot has no master until the replica is promoted
    }
  }
  const auto took = std::chrono::steady_clock::now() - killed_at;
  ASSERT_TRUE(resumed) << "no promotion within 30 s";
  EXPECT_NE(rediscache::test::cluster_node_for(c, key).port, victim.port);
  std::cout << "[ info ] writes resumed "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after the kill (" << failures << " failed calls meanwhile)\n";
}

// With WriteBehindOptions::wait_replicas, an entry write() acknowledged survives the loss of
// the stream's master: a thread keeps writing (one new id per write) while that master is
// SIGKILLed; after its replica took over, a flusher delivers every acknowledged entry. Writes
// after the failover throw NotReplicated, since the promoted replica has no replica of its own.
TEST(ClusterClient, MasterKilled_WriteBehindWithWait_NoAcknowledgedEntryLost) {
  REDISCACHE_REQUIRE_CLUSTER(seeds);  // the shared cluster only says that clusters are wanted
  rediscache::test::PrivateCluster cluster;
  Client c = Client::cluster(failover_options(cluster));
  rediscache::CacheOptions cache_options;
  cache_options.name = "wbwait";
  cache_options.ttl = 60s;
  rediscache::CacheAside<std::string> cache(c, cache_options);
  rediscache::WriteBehindOptions wb_options;
  wb_options.run_flusher = false;  // entries stay queued until the flusher below
  wb_options.wait_replicas = 1;
  wb_options.wait_timeout = 1s;
  rediscache::WriteBehind<std::string> wb(
      cache, [](const std::vector<rediscache::WriteOp<std::string>>&) {}, wb_options);

  std::mutex mu;
  std::map<std::string, std::string> acknowledged;  // guarded by mu
  int not_replicated = 0;                           // guarded by mu
  int other_errors = 0;                             // guarded by mu
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string id = "e" + std::to_string(i);
      const std::string value = "v" + std::to_string(i);
      try {
        wb.write(id, value);
        const std::lock_guard<std::mutex> lock(mu);
        acknowledged[id] = value;
      } catch (const rediscache::NotReplicated&) {
        const std::lock_guard<std::mutex> lock(mu);
        ++not_replicated;  // queued, but not confirmed: may or may not survive
      } catch (const rediscache::Error&) {
        const std::lock_guard<std::mutex> lock(mu);
        ++other_errors;  // no master for the slot yet
        std::this_thread::sleep_for(20ms);
      }
    }
  });
  const auto acknowledged_count = [&] {
    const std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (acknowledged_count() < 30 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  const Endpoint victim = rediscache::test::cluster_node_for(c, wb.stream_key());
  cluster.kill(victim);  // the writer thread is mid-stream
  bool promoted = false;
  while (!promoted && std::chrono::steady_clock::now() < deadline) {
    try {
      promoted = rediscache::test::cluster_node_for(c, wb.stream_key()).port != victim.port;
    } catch (const rediscache::Error&) {
      std::this_thread::sleep_for(50ms);  // the slot has no master until the promotion
    }
  }
  // The promoted replica has no replica: a write now is queued but cannot be confirmed.
  bool refused = false;
  while (promoted && !refused && std::chrono::steady_clock::now() < deadline) {
    try {
      wb.write("after", "x");
    } catch (const rediscache::NotReplicated&) {
      refused = true;
    } catch (const rediscache::Error&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(promoted) << "no promotion within 30 s";
  EXPECT_TRUE(refused);

  std::mutex written_mu;
  std::map<std::string, std::string> written;  // guarded by written_mu
  rediscache::WriteBehindOptions flushing;
  flushing.max_delay = 10ms;
  flushing.poll_interval = 10ms;
  rediscache::WriteBehind<std::string> flusher(
      cache,
      [&](const std::vector<rediscache::WriteOp<std::string>>& ops) {
        const std::lock_guard<std::mutex> lock(written_mu);
        for (const auto& op : ops) written[op.id] = op.value.value_or("");
      },
      flushing);
  ASSERT_TRUE(flusher.flush(15s));
  const std::lock_guard<std::mutex> lock(mu);
  const std::lock_guard<std::mutex> written_lock(written_mu);
  std::vector<std::string> lost;
  for (const auto& [id, value] : acknowledged) {
    const auto found = written.find(id);
    if (found == written.end() || found->second != value) lost.push_back(id);
  }
  EXPECT_TRUE(lost.empty()) << lost.size() << " of " << acknowledged.size()
                            << " acknowledged entries lost, first "
                            << (lost.empty() ? std::string() : lost.front());
  std::cout << "[ info ] " << acknowledged.size() << " entries acknowledged, " << not_replicated
            << " not replicated, " << other_errors << " failed during the failover; "
            << written.size() << " written after it\n";
}

TEST(SentinelClient, Failover_ClientFollowsNewMaster) {
  const auto sentinels = rediscache::test::sentinel_endpoints();
  if (sentinels.empty()) {
    if (rediscache::test::servers_required()) FAIL() << "REDISCACHE_TEST_SENTINELS unset";
    GTEST_SKIP() << "no sentinels: set REDISCACHE_TEST_SENTINELS or run scripts/test";
  }
  rediscache::SentinelOptions options;
  for (const Endpoint& s : sentinels) options.sentinels.push_back({s.host, s.port});
  // Over TLS (REDISCACHE_TEST_TLS) the sentinels and the data nodes share one TLS set-up.
  options.connection = rediscache::test::connection_options(sentinels.front());
  options.master_name = rediscache::test::sentinel_master_name();
  options.refresh_interval = 200ms;
  options.retry_timeout = 3s;
  Client c = Client::sentinel(options);
  const std::string key = rediscache::test::untagged_prefix() + "k";
  c.set(key, "before", rediscache::SetOptions{60s});
  const std::string old_master = c.endpoint();

  // Right after start or a previous failover the sentinels may answer NOGOODSLAVE/INPROGRESS.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    answer = raw_command(sentinels[0], {"SENTINEL", "FAILOVER", options.master_name});
    if (answer == "OK") break;
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_EQ(answer, "OK");

  bool followed = false;
  int failures = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      c.set(key, "after", rediscache::SetOptions{60s});
      if (c.endpoint() != old_master && c.get(key).value_or("") == "after") {
        followed = true;
        break;
      }
    } catch (const rediscache::Error&) {
      ++failures;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(followed) << "still on " << c.endpoint() << " (" << failures << " failures)";
  const std::string role =
      raw_command(Endpoint{c.connection_options().host, c.connection_options().port,
                           c.connection_options().tls.enabled},
                  {"ROLE"});
  EXPECT_EQ(role.substr(0, 6), "master");
  c.del({key});
}

}  // namespace
