// PoolState: the shared state behind ConnectionPool and its leases.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/connection.hpp"
#include "net/tls.hpp"
#include "rediscache/net/connection_pool.hpp"

namespace rediscache::detail {

class Multiplexer;

/// Reaches a pool's state, for code in src/ that sends batches through its multiplexer.
struct PoolAccess {
  static PoolState& state(ConnectionPool& pool) noexcept { return *pool.state_; }
  /// A free pooled connection at once (an idle one, or a new one while the pool has room), or
  /// nullopt when all `size` are in use: with PoolOptions::multiplex the command then takes the
  /// shared connection instead of waiting. Throws as lease() when a connect fails.
  static std::optional<Lease> try_lease(ConnectionPool& pool);
  /// The one choice every path makes: with PoolOptions::multiplex and a command that `may_share`,
  /// a free pooled connection or nullopt (join the pool's multiplexer); otherwise a lease,
  /// waited for as lease() does. Throws as lease() when a connect fails.
  static std::optional<Lease> lease_or_share(ConnectionPool& pool, bool may_share);
};

/// Thread-safe. The mutex guards only bookkeeping; connecting, probing and closing happen
/// outside it.
class PoolState {
 public:
  PoolState(ConnectionOptions connection, PoolOptions pool);
  ~PoolState();
  PoolState(const PoolState&) = delete;
  PoolState& operator=(const PoolState&) = delete;

  /// An idle connection that passes its checks, a new one, or one returned within the wait.
  /// Without `wait`: null at once when every connection is in use.
  std::unique_ptr<Connection> acquire(bool wait = true);
  /// Takes a connection back: reused if healthy and in sync, otherwise closed.
  void give_back(std::unique_ptr<Connection> connection) noexcept;
  void drain() noexcept;
  [[nodiscard]] PoolStats stats() const;

  const ConnectionOptions connection_options;
  const PoolOptions pool_options;
  const std::string endpoint;
  /// The pool's one TLS context (SSL_CTX and cached session), null without TLS. Built at
  /// construction, so unreadable certificate files fail there.
  const std::shared_ptr<TlsContext> tls;
  /// The shared connection's batching (PoolOptions::multiplex); null when off.
  std::unique_ptr<Multiplexer> multiplexer;

 private:
  [[nodiscard]] bool reusable(Connection& connection, Connection::Clock::time_point now) noexcept;
  void forget_one() noexcept;  // a connection slot was freed: let a waiter open a new one
  void record_wait(std::chrono::nanoseconds waited) noexcept;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_; back is most recently used
  std::size_t open_ = 0;                           // guarded by mu_; idle + leased + connecting

  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> discarded_{0};
  std::atomic<std::uint64_t> leases_{0};
  std::atomic<std::uint64_t> waits_{0};
  std::atomic<std::uint64_t> wait_timeouts_{0};
  std::atomic<std::int64_t> wait_ns_total_{0};
  std::atomic<std::int64_t> wait_ns_max_{0};
};

inline std::optional<Lease> PoolAccess::try_lease(ConnectionPool& pool) {
  PoolState& state = *pool.state_;
  std::unique_ptr<Connection> free = state.acquire(false);
  if (!free) return std::nullopt;
  return Lease(&state, std::move(free));
}

inline std::optional<Lease> PoolAccess::lease_or_share(ConnectionPool& pool, bool may_share) {
  if (may_share && pool.state_->multiplexer != nullptr) return try_lease(pool);
  return pool.lease();
}

}  // namespace rediscache::detail
