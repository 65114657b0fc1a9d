// SentinelTopology: the master that the sentinels name, verified with ROLE, and swapped for the
// new one after a failover, without the caller doing anything.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "rediscache/topology/sentinel.hpp"
#include "topology/topology.hpp"
#include "util/background_loop.hpp"

namespace rediscache::detail {

/// The master's address from a `SENTINEL get-master-addr-by-name` reply: an array of exactly two
/// bulk strings, a host (1..255 bytes, none of them a control character, space, '/' or NUL) and
/// a decimal port in 1..65535. nullopt for any other shape (nil: the sentinel does not know the
/// master). Pure: the reply is untrusted, and nothing in it can make this throw.
[[nodiscard]] std::optional<ServerAddress> parse_master_address(const Reply& reply);

/// True for a `ROLE` reply that says this node is a master: an array whose first element is
/// the bulk string "master". False for every other shape. Pure; never throws.
[[nodiscard]] bool is_master_role(const Reply& reply) noexcept;

/// Thread-safe. A background thread asks the sentinels every `refresh_interval`; a command that
/// cannot reach the master, or gets READONLY (it reached a demoted master), asks at once.
class SentinelTopology final : public Topology {
 public:
  /// Resolves the master; throws IoError when no sentinel names a reachable master.
  explicit SentinelTopology(SentinelOptions options);
  ~SentinelTopology() override;
  SentinelTopology(const SentinelTopology&) = delete;
  SentinelTopology& operator=(const SentinelTopology&) = delete;

  Reply execute(int slot, const Command& command, std::optional<std::chrono::milliseconds> block,
                const std::string** endpoint) override;
  ConnectionPool& master_for(int /*slot*/) override { return any_pool(); }
  ConnectionPool& any_pool() override { return *master_.load(std::memory_order_acquire); }
  std::vector<ConnectionPool*> masters() override { return {&any_pool()}; }
  [[nodiscard]] bool sharded() const noexcept override { return false; }
  void note_stale(const Reply* redirect) noexcept override;

  /// Asks the sentinels for the master and switches to it if ROLE confirms it (unless one was
  /// resolved within the last 50 ms and `force` is false). False when none could be confirmed.
  bool resolve(bool force);

 private:
  std::optional<ServerAddress> ask_sentinel(const ServerAddress& sentinel) const;

  const SentinelOptions options_;
  // TLS towards the sentinels (sentinel_tls, else connection.tls); null for plain sentinels.
  const std::shared_ptr<TlsContext> sentinel_tls_;
  PoolRegistry pools_;
  std::atomic<ConnectionPool*> master_{nullptr};

  std::mutex resolve_mu_;                                 // one resolution at a time
  std::chrono::steady_clock::time_point last_resolve_{};  // guarded by resolve_mu_

  std::optional<BackgroundLoop> refresher_;  // re-resolves; started once a master is known
};

}  // namespace rediscache::detail
