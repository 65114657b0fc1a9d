// Redis Cluster: the options of a cluster-aware Client (`Client::cluster`) and the key-slot
// function the cluster routes by, for callers who lay out keys with {hash tags}.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/export.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/topology/server_address.hpp"

namespace rediscache {

/// How a cluster client finds and talks to the cluster. Validated by `Client::cluster`; invalid
/// values throw `std::invalid_argument` naming the field.
struct REDISCACHE_EXPORT ClusterOptions {
  /// Nodes asked for the slot map at start and whenever every known node fails; at least one.
  std::vector<ServerAddress> seeds;
  /// Template for every node's connections: credentials, timeouts, client name. `host` and `port`
  /// are replaced by each node's address; `unix_socket` must be empty and `db` must be 0 (a
  /// cluster has one database).
  ConnectionOptions connection;
  /// Pool options of each node's own pool (one pool per node).
  PoolOptions pool;
  /// The slot map is reloaded this often in the background, besides after a MOVED reply and
  /// after a connection failure. Positive.
  std::chrono::milliseconds refresh_interval{5000};
  /// Most MOVED/ASK redirections one command follows before its error reaches the caller; 1..16.
  int max_redirects = 5;
  /// How long one command keeps retrying TRYAGAIN, CLUSTERDOWN and unreachable nodes (with
  /// backoff, reloading the slot map) before the error reaches the caller. Non-negative.
  std::chrono::milliseconds retry_timeout{2000};
  /// Send read-only commands (GET, MGET, EXISTS, TTL, H*GET*, ...) to replicas with READONLY,
  /// spreading hot keys. Reads may then return values a few milliseconds stale (replication is
  /// asynchronous), and a read right after your own write may miss it. Writes always go to the
  /// master. While a shard has no replica in the slot map (a cluster just created, whose
  /// replicas are still joining or loading; a failover), the map is reloaded every second
  /// instead of every `refresh_interval`, for up to a minute, so replicas serve reads within
  /// seconds of becoming ready.
  bool read_from_replicas = false;

  /// Throws `std::invalid_argument` naming the first invalid field.
  void validate() const;
};

/// The cluster hash slot of `key` (0..16383): CRC16 (XMODEM) of the key, or of the part between
/// the first '{' and the next '}' when that part is not empty (a hash tag), modulo 16384. Keys
/// with the same hash tag always live on the same node and may be used together in multi-key
/// commands, transactions and scripts. Thread-safe, no I/O.
[[nodiscard]] REDISCACHE_EXPORT std::uint16_t cluster_slot(std::string_view key) noexcept;

}  // namespace rediscache
