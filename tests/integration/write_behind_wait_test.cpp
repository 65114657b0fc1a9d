// WriteBehind's durability option (WriteBehindOptions::wait_replicas) on a private master with
// one replica: write() returns once the replica holds the entry, and throws NotReplicated within
// wait_timeout when the replica is gone, with the entry queued and cached all the same. The
// master-killed case on a cluster is in cluster_test.cpp.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/cache/write_behind.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"
#include "write_policy_support.hpp"

namespace rediscache::test {
namespace {

using std::chrono::milliseconds;
using Ops = std::vector<WriteOp<std::string>>;

// A master and a replica of it (diskless sync without delay), linked when the constructor returns.
struct ReplicatedPair {
  RedisServer master;
  std::unique_ptr<RedisServer> replica;

  ReplicatedPair() : master({"--repl-diskless-sync-delay", "0"}) {
    replica = std::make_unique<RedisServer>(
        std::vector<std::string>{"--replicaof", master.host(), std::to_string(master.port()),
                                 "--repl-diskless-sync-delay", "0"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // The replica says its link is up once it has loaded the master's data; the master counts
    // it for WAIT once it is "online" there.
    while (replica->command({"INFO", "replication"}).find("master_link_status:up") ==
               std::string::npos ||
           master.command({"INFO", "replication"}).find("state=online") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("replica never synced");
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
};

WriteBehindOptions waiting_options(milliseconds wait_timeout) {
  WriteBehindOptions options;
  options.run_flusher = false;  // entries stay in the stream, where the test can see them
  options.wait_replicas = 1;
  options.wait_timeout = wait_timeout;
  return options;
}

// A batch writer into a map (stands in for the database).
struct MapWriter {
  std::mutex mu;
  std::map<std::string, std::string> rows;  // guarded by mu

  WriteBehind<std::string>::BatchWriter writer() {
    return [this](const Ops& ops) {
      const std::lock_guard<std::mutex> lock(mu);
      for (const auto& op : ops) {
        if (op.kind == WriteKind::kUpsert) {
          rows[op.id] = *op.value;
        } else {
          rows.erase(op.id);
        }
      }
    };
  }
  std::map<std::string, std::string> snapshot() {
    const std::lock_guard<std::mutex> lock(mu);
    return rows;
  }
};

TEST(WriteBehindWait, ReplicaInSync_WriteReturnsOnceTheReplicaHoldsTheEntry) {
  REDISCACHE_SINGLE_NODE_ONLY();  // private servers: the cluster rerun would repeat it as is
  ReplicatedPair pair;
  const std::string name = unique_name("wbwait");
  CacheAside<std::string> cache(make_client(pair.master.endpoint()), policy_cache_options(name));
  MapWriter db;
  WriteBehind<std::string> wb(cache, db.writer(), waiting_options(milliseconds(5000)));

  wb.write("a", "1");
  // WAIT returned: the replica has the entry now, not eventually.
  EXPECT_EQ(pair.replica->command({"XLEN", wb.stream_key()}), "1");
  wb.remove("a");
  EXPECT_EQ(pair.replica->command({"XLEN", wb.stream_key()}), "2");
}

TEST(WriteBehindWait, ReplicaDown_NotReplicatedWithinTimeout_EntryQueuedAndCached) {
  REDISCACHE_SINGLE_NODE_ONLY();
  ReplicatedPair pair;
  const std::string name = unique_name("wbwait");
  CacheAside<std::string> cache(make_client(pair.master.endpoint()), policy_cache_options(name));
  MapWriter db;
  {
    // A generous timeout while the replica is up: a loaded machine can be slow to acknowledge.
    WriteBehind<std::string> patient(cache, db.writer(), waiting_options(milliseconds(10000)));
    patient.write("before", "kept");
  }
  pair.replica->kill();
  const milliseconds wait_timeout(300);
  WriteBehind<std::string> wb(cache, db.writer(), waiting_options(wait_timeout));

  const auto started = std::chrono::steady_clock::now();
  try {
    wb.write("secret-id", "secret-value");
    FAIL() << "write() returned without a replica";
  } catch (const NotReplicated& e) {
    const auto took = std::chrono::steady_clock::now() - started;
    // Redis times WAIT out on its own clock (checked every 100 ms at the default hz).
    EXPECT_GE(took, wait_timeout - milliseconds(50));
    EXPECT_LT(took, wait_timeout + std::chrono::seconds(5));
    EXPECT_EQ(e.code(), Errc::kNotReplicated);
    EXPECT_EQ(e.required(), 1);
    EXPECT_EQ(e.acknowledged(), 0);
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(pair.master.port())), std::string::npos)
        << what;
    EXPECT_NE(what.find("WAIT"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
  // The entry is queued on the master and the cache holds the value, as without WAIT.
  EXPECT_EQ(pair.master.command({"XLEN", wb.stream_key()}), "2");
  const auto from_database = [](std::string_view) -> std::optional<std::string> {
    return "from the database";
  };
  EXPECT_EQ(cache.get_or_load("secret-id", from_database), "secret-value");
  EXPECT_THROW(wb.remove("before"), NotReplicated);
  EXPECT_EQ(cache.get_or_load("before", from_database), "from the database");

  // A flusher writes what was queued, replicated or not.
  WriteBehindOptions flushing;
  flushing.max_delay = milliseconds(10);
  flushing.poll_interval = milliseconds(10);
  WriteBehind<std::string> flusher(cache, db.writer(), flushing);
  ASSERT_TRUE(flusher.flush(std::chrono::seconds(10)));
  EXPECT_EQ(db.snapshot(), (std::map<std::string, std::string>{{"secret-id", "secret-value"}}));
}

}  // namespace
}  // namespace rediscache::test
