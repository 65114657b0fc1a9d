// ServerStats: the figures that say whether a Redis server works well as a cache (hit rate,
// evictions, memory against maxmemory, clients, keys per database), read from INFO.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rediscache/client/info.hpp"
#include "rediscache/export.hpp"

namespace rediscache {

class Client;

/// One line of INFO's keyspace section ("db0:keys=10,expires=2,avg_ttl=3000").
struct KeyspaceStats {
  int db = 0;                    ///< Database index.
  std::uint64_t keys = 0;        ///< Keys in the database.
  std::uint64_t expires = 0;     ///< Keys with a TTL.
  std::uint64_t avg_ttl_ms = 0;  ///< Server's estimate of the average TTL, in milliseconds.
};

/// A server's cache-relevant figures at one moment. Counters (hits, misses, evictions, ...) are
/// totals since the server started (or since CONFIG RESETSTAT): rates come from the difference of
/// two snapshots. A field INFO did not report reads as 0 (or empty). A plain value.
struct ServerStats {
  std::string redis_version;          ///< "7.0.15".
  std::string role;                   ///< "master" or "slave".
  std::uint64_t uptime_seconds = 0;   ///< Seconds since the server started.
  std::uint64_t keyspace_hits = 0;    ///< Successful key lookups.
  std::uint64_t keyspace_misses = 0;  ///< Lookups of keys that did not exist.
  /// hits / (hits + misses); nullopt when there has been no lookup yet.
  std::optional<double> hit_rate;
  std::uint64_t evicted_keys = 0;              ///< Keys removed because of maxmemory.
  std::uint64_t expired_keys = 0;              ///< Keys removed because their TTL ran out.
  std::uint64_t used_memory = 0;               ///< Bytes allocated by the server.
  std::uint64_t maxmemory = 0;                 ///< Configured limit in bytes; 0 means no limit.
  std::string maxmemory_policy;                ///< "allkeys-lru", "noeviction", ...
  std::uint64_t connected_clients = 0;         ///< Client connections, including this one.
  std::uint64_t blocked_clients = 0;           ///< Clients waiting in a blocking command.
  std::uint64_t rejected_connections = 0;      ///< Connections refused because of maxclients.
  std::uint64_t total_commands_processed = 0;  ///< Commands since start.
  std::uint64_t total_net_input_bytes = 0;     ///< Bytes received since start.
  std::uint64_t total_net_output_bytes = 0;    ///< Bytes sent since start.
  std::vector<KeyspaceStats> keyspace;         ///< Databases that hold keys, by index.

  /// Keys in every database.
  [[nodiscard]] std::uint64_t total_keys() const noexcept;
  /// used_memory / maxmemory; nullopt when there is no limit.
  [[nodiscard]] std::optional<double> memory_fraction() const noexcept;
};

/// Reads the figures from parsed INFO output; needs the default sections (server, clients,
/// memory, stats, keyspace), which plain `INFO` returns. Odd or missing values read as 0.
/// Never throws except std::bad_alloc.
[[nodiscard]] REDISCACHE_EXPORT ServerStats from_info(const Info& info);

/// Sends one INFO (one round trip) and reads it with `from_info`. Throws what `Client::info`
/// throws (IoError, TimeoutError, PoolExhausted, ReplyError). Thread-safe as `Client` is.
[[nodiscard]] REDISCACHE_EXPORT ServerStats server_stats(Client& client);

/// Sentences about settings and figures that make a server a poor cache: no maxmemory (memory
/// grows until the machine runs out), a `noeviction` policy (writes fail once full), a
/// `volatile-*` policy while keys lack a TTL (those keys can never be evicted), memory close to
/// the limit, rejected connections, and a low hit rate over enough lookups. Empty when none
/// applies. Pure function of the snapshot.
[[nodiscard]] REDISCACHE_EXPORT std::vector<std::string> warnings(const ServerStats& stats);

}  // namespace rediscache
