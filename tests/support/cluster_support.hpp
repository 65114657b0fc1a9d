// Cluster test helpers: the masters of a cluster, moving a slot between masters while clients
// run (CLUSTER SETSLOT IMPORTING/MIGRATING + MIGRATE), and a private 3+3 cluster for tests that
// kill a node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "test_env.hpp"

namespace rediscache::test {

/// A cluster node: its address and its node id.
struct ClusterNode {
  Endpoint endpoint;
  std::string id;
};

/// The nodes among `nodes` whose ROLE is master, with their ids.
std::vector<ClusterNode> cluster_masters(const std::vector<Endpoint>& nodes);

/// Moves `slot` from master `from` to master `to` the way redis-cli --cluster reshard does:
/// IMPORTING on `to`, MIGRATING on `from`, MIGRATE of its keys in batches, then SETSLOT NODE on
/// every master. Throws std::runtime_error on an unexpected reply.
void move_slot(int slot, const ClusterNode& from, const ClusterNode& to,
               const std::vector<ClusterNode>& masters);

/// A private Redis Cluster of 3 masters and 3 replicas (RedisServer processes with
/// --cluster-enabled), created with `redis-cli --cluster create --cluster-replicas 1` and ready
/// (cluster_state:ok everywhere, replicas in sync) when the constructor returns; throws
/// std::runtime_error otherwise. Stopped by the destructor. Create it from the test's main thread.
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  /// Every node's address.
  [[nodiscard]] std::vector<Endpoint> nodes() const;
  /// SIGKILLs the node at `endpoint` (no-op for an unknown one).
  void kill(const Endpoint& endpoint);

 private:
  std::vector<std::unique_ptr<RedisServer>> servers_;
};

}  // namespace rediscache::test
