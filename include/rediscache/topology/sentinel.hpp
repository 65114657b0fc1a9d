// Redis Sentinel: the options of a Client that finds the current master through sentinels and
// follows failovers by itself (`Client::sentinel`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "rediscache/export.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/topology/server_address.hpp"

namespace rediscache {

/// How a sentinel-managed client resolves and follows the master. Validated by
/// `Client::sentinel`; invalid values throw `std::invalid_argument` naming the field.
struct REDISCACHE_EXPORT SentinelOptions {
  /// Sentinels asked, in order, for the master's address; at least one.
  std::vector<ServerAddress> sentinels;
  /// Name of the monitored master (`sentinel monitor <name> ...`); not empty.
  std::string master_name = "mymaster";
  /// ACL user for the sentinels (empty: default user).
  std::string sentinel_user;
  /// Password for the sentinels (empty: no AUTH).
  std::string sentinel_password;
  /// TLS towards the sentinels when it differs from the data nodes' (`connection.tls`), for
  /// example sentinels on a plain port in front of TLS data nodes, or another CA. Unset: the
  /// sentinels use `connection.tls`. `server_name`, when empty, defaults to each sentinel's host.
  std::optional<TlsOptions> sentinel_tls;
  /// Connections to the data nodes (master): credentials, db, timeouts, client name. `host` and
  /// `port` are replaced by the resolved master's address; `unix_socket` must be empty.
  ConnectionOptions connection;
  /// The master's pool.
  PoolOptions pool;
  /// The sentinels are asked for the master this often in the background (so a failover is
  /// noticed even by a client that sees no error), besides after a connection failure or a
  /// READONLY reply. Positive.
  std::chrono::milliseconds refresh_interval{1000};
  /// How long one command keeps retrying while no master is reachable (with backoff,
  /// re-resolving through the sentinels) before the error reaches the caller. Non-negative.
  std::chrono::milliseconds retry_timeout{2000};

  /// Throws `std::invalid_argument` naming the first invalid field.
  void validate() const;
};

}  // namespace rediscache
