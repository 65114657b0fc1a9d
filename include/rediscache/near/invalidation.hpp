// Invalidation across instances for NearCache: a background listener that drops keys when Redis
// (server-assisted client-side caching) or another instance (pub/sub) says they changed, and
// the publisher that instances use to announce their own writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/near/detail/invalidation_counters.hpp"
#include "rediscache/near/near_cache.hpp"
#include "rediscache/near/near_tier_options.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/util/error_handler.hpp"

namespace rediscache {

class Pipeline;

/// A snapshot of an InvalidationListener's state and counters.
struct InvalidationStats {
  bool connected = false;  ///< Invalidations flow and the near cache is enabled.
  /// The mode in force (kAuto until the first successful connect decides).
  InvalidationMode mode = InvalidationMode::kAuto;
  long long subscriber_id = 0;  ///< CLIENT ID of the pub/sub connection; 0 when down.
  long long tracking_id = 0;    ///< CLIENT ID of the tracking connection; 0 when none.
  /// Masters listened to while connected (each master of a cluster; else 1); 0 when down.
  std::size_t nodes = 0;
  // One std::uint64_t per entry of REDISCACHE_INVALIDATION_COUNTERS
  // (near/detail/invalidation_counters.hpp), which says what each counts: connects,
  // connect_failures, connection_losses, messages, keys_invalidated, flushes, malformed, errors.
#define REDISCACHE_INVALIDATION_STATS_FIELD(field, help) std::uint64_t field = 0;
  REDISCACHE_INVALIDATION_COUNTERS(REDISCACHE_INVALIDATION_STATS_FIELD)
#undef REDISCACHE_INVALIDATION_STATS_FIELD
};

/// Keeps a NearCache coherent with Redis. Owns one background thread and, while connected, a
/// pub/sub connection (plus, in server-assisted mode, a tracking connection that does nothing
/// but keep CLIENT TRACKING registered; tracking is per connection, and in broadcast mode the
/// registering connection does not have to be the one that reads, so the data pool is left
/// untouched). Tracking is also per server: on a Redis Cluster the listener holds both
/// connections on every master, and loses nothing when a key lives on another node.
///
/// The cache is disabled (every get misses, nothing is stored) from construction until the
/// first connect succeeds, and again as soon as a connection is found lost: then it is flushed,
/// because invalidations may have been missed, and reads go to Redis while the listener
/// reconnects in the background with exponential backoff. On reconnect the cache is flushed once
/// more (poisoning fetches that began during the outage) and enabled.
///
/// Loss is noticed at once when the server closes either connection (CLIENT KILL, restart),
/// within ~50 ms for the tracking connection, and within health_check_interval +
/// command_timeout when the server vanishes silently. Losing any master's connections counts
/// as a loss: every connection is closed, and the reconnect reads the masters again (so after a
/// failover the new master is listened to).
///
/// The thread never throws: failures are counted and passed to on_error. Thread-safe.
class REDISCACHE_EXPORT InvalidationListener {
 public:
  /// Validates `options` (std::invalid_argument naming the field), disables and clears `cache`,
  /// and starts the thread, which connects in the background (see wait_connected()).
  /// Listens on the one server `connection` names.
  InvalidationListener(ConnectionOptions connection, std::shared_ptr<NearCache> cache,
                       InvalidationOptions options = {});
  /// Listens on every master of `client` (Client::master_connection_options(), read again on
  /// every reconnect): the server, Sentinel's current master, or each master of a cluster.
  InvalidationListener(const Client& client, std::shared_ptr<NearCache> cache,
                       InvalidationOptions options = {});
  /// Stops and joins the thread: within about connect_timeout + command_timeout at worst (a
  /// connect or PING in progress), usually within 50 ms. Leaves the cache disabled.
  ~InvalidationListener();
  InvalidationListener(const InvalidationListener&) = delete;
  InvalidationListener& operator=(const InvalidationListener&) = delete;

  /// True while invalidations flow and the cache is enabled.
  [[nodiscard]] bool connected() const noexcept;
  /// Waits up to `timeout` for connected(); returns it.
  [[nodiscard]] bool wait_connected(std::chrono::milliseconds timeout) const;
  /// The mode in force (kAuto before the first connect).
  [[nodiscard]] InvalidationMode mode() const noexcept;
  [[nodiscard]] InvalidationStats stats() const;
  [[nodiscard]] const InvalidationOptions& options() const noexcept;

 private:
  InvalidationListener(std::function<std::vector<ConnectionOptions>()> node_source,
                       std::shared_ptr<NearCache> cache, InvalidationOptions options);

  struct State;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

/// Publishes invalidations on a channel for InvalidationListeners in other instances (and this
/// one). Message format: 'k' + key, 'p' + prefix, or '*' (drop everything); binary-safe. Copies
/// share the client. Thread-safe.
class REDISCACHE_EXPORT InvalidationPublisher {
 public:
  /// Throws std::invalid_argument when `channel` is empty.
  InvalidationPublisher(Client client, std::string channel);

  /// Publishes one message per key, pipelined: one round trip. Throws the Client's errors.
  void keys(ArgList keys);
  /// Every instance drops the keys starting with `prefix`. One round trip.
  void prefix(std::string_view prefix);
  /// Every instance drops its whole near cache. One round trip.
  void all();
  /// Queues the PUBLISH of a key invalidation in `pipeline`, so that a write and its
  /// announcement share one round trip.
  void append_key(Pipeline& pipeline, std::string_view key) const;

  [[nodiscard]] const std::string& channel() const noexcept { return channel_; }

  static std::string key_message(std::string_view key);
  static std::string prefix_message(std::string_view prefix);
  static std::string flush_message();

 private:
  Client client_;
  std::string channel_;
};

}  // namespace rediscache
