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

/// One slot range of a slot map as a node reported it.
struct ClusterRange {
  int first = 0;
  int last = 0;
  std::string master_host;  ///< Empty: the node that was asked.
  int master_port = 0;
  std::vector<std::pair<std::string, int>> replicas;
};

/// What parsing a slot map reply found. Replies come from the network and are untrusted: a range
/// outside 0..16383 or with a master whose port is not 1..65535 is dropped, a replica with an
/// invalid port too, and both are counted here.
struct ClusterMapParse {
  bool understood = false;           ///< The reply had the expected shape.
  std::vector<ClusterRange> ranges;  ///< Usable ranges only.
  std::size_t dropped_ranges = 0;
  std::size_t dropped_nodes = 0;
};

/// Parses a CLUSTER SHARDS reply (Redis 7+). `understood` is false when it is not a shard list
/// (an error reply from an older server: ask CLUSTER SLOTS). `host` replaces empty or "?" IPs.
/// With `tls`, a node's `tls-port` is used where it reports one (a tls-cluster node reports its
/// TLS port there, and `port` only for a plain one).
ClusterMapParse parse_cluster_shards(const Reply& reply, const std::string& host, bool tls = false);

/// Parses a CLUSTER SLOTS reply: [[first, last, [ip, port, id], [replica ip, port, id]...], ...].
ClusterMapParse parse_cluster_slots(const Reply& reply, const std::string& host);

/// Thread-safe. Reads of the slot map are lock-free (one atomic load); a background thread
/// reloads the map every `refresh_interval` and soon after a MOVED reply or a node failure.
class ClusterTopology final : public Topology {
 public:
  /// Loads the slot map from the seeds; throws IoError when no seed answers with a usable one
  /// (at least one slot range served by a valid address).
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
  /// false). Returns false when no node answered with a usable map; the last good map stays.
  bool refresh(bool force);

 private:
  // The nodes serving a slot range; interned, never freed before the topology.
  struct Shard {
    ConnectionPool* master = nullptr;
    std::vector<ConnectionPool*> replicas;
  };
  using Range = ClusterRange;

  /// One command's way through the cluster: where it goes next, and what it has used of its
  /// redirection and retry budgets.
  struct Route {
    int slot = kNoSlot;
    bool read_only = false;  // may go to a replica
    bool replica = false;    // target is a replica (send READONLY first)
    bool asking = false;     // after ASK: send ASKING first
    ConnectionPool* target = nullptr;
    int redirects = 0;
    int attempt = 0;
    std::optional<std::chrono::steady_clock::time_point> deadline;  // set by the first retry
  };
  /// Phase 1: sends the command once to route.target. Returns nullopt after an I/O failure
  /// that may be retried (the route then names the next target); rethrows the others.
  std::optional<Reply> send_once(Route& route, const Command& command,
                                 std::optional<std::chrono::milliseconds> block);
  /// Phase 2, for an error reply: follows MOVED/ASK or waits out TRYAGAIN, CLUSTERDOWN,
  /// LOADING and READONLY. True when the command goes again along the updated route.
  bool follow(Route& route, const Reply& reply);
  /// Starts the retry budget on first use; false once it is spent.
  bool may_retry(Route& route) const;
  /// Backs off, then picks the slot's node again.
  void retry_later(Route& route);

  const Shard* intern(ConnectionPool* master, std::vector<ConnectionPool*> replicas);
  ConnectionPool& pick(int slot, bool read_only, bool* replica);
  bool load_from(ConnectionPool& pool, std::vector<Range>& ranges);
  // False, changing nothing, when no range is usable (the last good map stays).
  bool apply(const std::vector<Range>& ranges, const std::string& default_host);

  const ClusterOptions options_;
  PoolRegistry pools_;
  std::array<std::atomic<const Shard*>, kSlotCount> slots_{};
  std::atomic<ConnectionPool*> any_{nullptr};

  std::mutex shards_mu_;
  std::map<std::vector<ConnectionPool*>, std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_
  std::vector<ConnectionPool*> masters_;                                   // guarded by shards_mu_

  std::mutex refresh_mu_;                                 // one reload at a time
  std::chrono::steady_clock::time_point last_refresh_{};  // guarded by refresh_mu_

  std::atomic<std::size_t> dropped_entries_{0};  // slot ranges and nodes refused while parsing

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
