// Scaling out: the same Client over a Redis Cluster or through Redis Sentinel; code that takes a
// Client does not change. Run it against servers of your own:
//   scaling_out cluster host:port [host:port ...]    (default: REDISCACHE_TEST_CLUSTER_SEEDS)
//   scaling_out sentinel host:port [host:port ...]   (default: REDISCACHE_TEST_SENTINELS,
//                                                     master "mymaster")
// Without servers it prints what it would need and exits 0. Exits non-zero if a check fails.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <rediscache/rediscache.hpp>

namespace {

std::vector<rediscache::ServerAddress> addresses(int argc, char** argv, const char* variable) {
  std::vector<std::string> items(argv + (argc > 2 ? 2 : argc), argv + argc);
  if (items.empty()) {
    const char* text = std::getenv(variable);  // NOLINT(concurrency-mt-unsafe)
    std::stringstream in(text != nullptr ? text : "");
    for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  }
  std::vector<rediscache::ServerAddress> out;
  for (const std::string& item : items) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos) continue;
    out.push_back({item.substr(0, colon), std::atoi(item.c_str() + colon + 1)});
  }
  return out;
}

rediscache::Client connect_cluster(const std::vector<rediscache::ServerAddress>& seeds) {
  // [README:scaling-out-cluster]
  rediscache::ClusterOptions cluster;
  cluster.seeds = seeds;  // any reachable nodes: the slot map is learned from them
  cluster.connection.command_timeout = std::chrono::milliseconds(500);  // every node
  cluster.pool.size = 16;                                               // per node
  rediscache::Client client = rediscache::Client::cluster(cluster);
  // [/README]
  return client;
}

rediscache::Client connect_sentinel(const std::vector<rediscache::ServerAddress>& sentinels) {
  // [README:scaling-out-sentinel]
  rediscache::SentinelOptions sentinel;
  sentinel.sentinels = sentinels;  // asked in order for the master's address
  sentinel.master_name = "mymaster";
  rediscache::Client client = rediscache::Client::sentinel(sentinel);
  // [/README]
  return client;
}

// Application code: takes a Client, knows nothing of the topology.
bool use(rediscache::Client& client) {
  // [README:scaling-out-use]
  client.set("{user:42}:name", "Ada");  // one hash tag: one slot, one node
  client.set("{user:42}:email", "ada@example.com");
  client.set("{user:43}:name", "Grace");  // another slot, maybe another node
  auto names = client.mget({"{user:42}:name", "{user:43}:name"});  // split by node, in order
  // [/README]
  const bool ok =
      names.size() == 2 && names[0].value_or("") == "Ada" && names[1].value_or("") == "Grace";
  client.del({"{user:42}:name", "{user:42}:email", "{user:43}:name"});
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "cluster";
  const bool cluster = mode != "sentinel";
  const auto servers = addresses(
      argc, argv, cluster ? "REDISCACHE_TEST_CLUSTER_SEEDS" : "REDISCACHE_TEST_SENTINELS");
  if (servers.empty()) {
    std::cout << "no servers: scaling_out cluster|sentinel host:port [host:port ...]\n";
    return 0;
  }
  try {
    rediscache::Client client = cluster ? connect_cluster(servers) : connect_sentinel(servers);
    const bool ok = use(client);
    std::cout << (ok ? "ok" : "FAIL") << ": " << mode << " through " << client.endpoint() << "\n";
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "scaling_out: " << e.what() << "\n";
    return 1;
  }
}
