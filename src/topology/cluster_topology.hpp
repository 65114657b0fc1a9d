// ClusterTopology: the slot map of a Redis Cluster, one pool per node, and the redirection rules
// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) applied to every command.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "rediscache/topology/cluster.hpp"
#include "topology/topology.hpp"
#include "util/background_loop.hpp"

namespace rediscache::detail {

inline constexpr int kSlotCount = 16384;

/// Thread-safe. Reads of the slot map are lock-free (one atomic load); a background thread
/// reloads the map every `refresh_interval` and soon after a MOVED reply or a node failure.
class ClusterTopology final : public Topology {
 public:
  /// Loads the slot map from the seeds; throws IoError when no seed answers with one.
  explicit ClusterTopology(ClusterOptions options);
  ~ClusterTopology() override;
  ClusterTopology(const ClusterTopology&) = delete;
  ClusterTopology& operator=(const ClusterTopology&) = delete;

  Reply execute(int slot, const Command& command, std::optional<std::chrono::milliseconds> block,
                const std::string** endpoint) override;
  ConnectionPool& master_for(int slot) override;
  ConnectionPool& any_pool() override;
  std::vector<ConnectionPool*> masters() override;
  [[nodiscard]] bool sharded() const noexcept override { return true; }
  void note_stale(const Reply* redirect) noexcept override;

  /// Reloads the slot map now (unless one was loaded within the last 50 ms and `force` is
  /// false). Returns false when no node answered.
  bool refresh(bool force);

 private:
  // The nodes serving a slot range; interned, never freed before the topology.
  struct Shard {
    ConnectionPool* master = nullptr;
    std::vector<ConnectionPool*> replicas;
  };
  struct Range {
    int first = 0;
    int last = 0;
    std::string master_host;
    int master_port = 0;
    std::vector<std::pair<std::string, int>> replicas;
  };

  const Shard* intern(ConnectionPool* master, std::vector<ConnectionPool*> replicas);
  ConnectionPool& pick(int slot, bool read_only, bool* replica);
  bool load_from(ConnectionPool& pool, std::vector<Range>& ranges);
  void apply(const std::vector<Range>& ranges, const std::string& default_host);

  const ClusterOptions options_;
  PoolRegistry pools_;
  std::array<std::atomic<const Shard*>, kSlotCount> slots_{};
  std::atomic<ConnectionPool*> any_{nullptr};

  std::mutex shards_mu_;
  std::map<std::vector<ConnectionPool*>, std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_
  std::vector<ConnectionPool*> masters_;                                   // guarded by shards_mu_

  std::mutex refresh_mu_;                                 // one reload at a time
  std::chrono::steady_clock::time_point last_refresh_{};  // guarded by refresh_mu_

  // read_from_replicas and a shard without a replica in the last map applied: true right after
  // a cluster is created (replicas gossip in as "loading"), after a failover, or in a cluster
  // that has no replicas at all.
  std::atomic<bool> replicas_missing_{false};
  // The interval the refresher should wait next: 1 s while replicas are missing (for at most
  // kReplicaWaitLimit), refresh_interval otherwise. Called on the refresher's thread only.
  std::chrono::milliseconds next_interval();
  std::optional<std::chrono::steady_clock::time_point> missing_since_;  // refresher thread only

  std::optional<BackgroundLoop> refresher_;  // reloads; started once the first map is in
};

}  // namespace rediscache::detail
