// Redlock: a lock granted by a majority of N independent Redis servers, so that it survives the
// loss of a minority of them. Read the assumptions on Redlock before relying on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/helpers/detail/lock_counters.hpp"

namespace rediscache {

namespace detail {
class RedlockCore;
}  // namespace detail

/// How a Redlock behaves. Validated by the constructor (std::invalid_argument naming the field).
struct RedlockOptions {
  /// Prefix of the lock key on every server: `<key_prefix>{<name>}`. No '{' or '}'.
  std::string key_prefix = "redlock:";
  /// Lifetime of the lock on each server; at least 1 ms.
  std::chrono::milliseconds ttl{10000};
  /// Clock-drift allowance as a fraction of `ttl`, subtracted from the validity time (the
  /// Redlock paper uses 0.01). In [0, 1).
  double clock_drift_factor = 0.01;
  /// Constant added to the drift allowance (the servers' expiry resolution). Non-negative.
  std::chrono::milliseconds clock_drift_min{2};
  /// First pause of `lock()` after a failed round; doubles up to `retry_max`, with jitter.
  std::chrono::milliseconds retry_min{5};
  /// Longest pause of `lock()` between rounds; at least `retry_min`.
  std::chrono::milliseconds retry_max{200};

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// Counters of one Redlock, read as one snapshot.
struct RedlockStats {
  // One std::uint64_t per entry of REDISCACHE_REDLOCK_COUNTERS (helpers/detail/lock_counters.hpp),
  // which says what each counts: acquisitions, failed_rounds, server_errors, releases.
#define REDISCACHE_REDLOCK_STATS_FIELD(field, metric, help) std::uint64_t field = 0;
  REDISCACHE_REDLOCK_COUNTERS(REDISCACHE_REDLOCK_STATS_FIELD)
#undef REDISCACHE_REDLOCK_STATS_FIELD
};

class Redlock;

/// Proof of holding a Redlock: move-only; releases the lock on every server when destroyed.
/// Not thread-safe. The lock is only trustworthy until `valid_until()`.
class REDISCACHE_EXPORT RedlockGuard {
 public:
  RedlockGuard(RedlockGuard&& other) noexcept;
  RedlockGuard& operator=(RedlockGuard&& other) noexcept;
  RedlockGuard(const RedlockGuard&) = delete;
  RedlockGuard& operator=(const RedlockGuard&) = delete;
  /// Releases on every server (one round trip per server, errors swallowed and counted).
  ~RedlockGuard();

  [[nodiscard]] const std::string& name() const noexcept;
  /// The random token (128 bits) stored on every server.
  [[nodiscard]] const std::string& token() const noexcept;
  /// Local (steady clock) time until which the lock is held by a quorum, after subtracting the
  /// time the acquisition took and the drift allowance.
  [[nodiscard]] std::chrono::steady_clock::time_point valid_until() const noexcept;
  /// True until `valid_until()` passes (and while the guard owns the lock).
  [[nodiscard]] bool valid() const noexcept;
  [[nodiscard]] bool owns() const noexcept;

  /// Releases on every server now. Returns true when a quorum still held our token. Never
  /// throws for per-server failures (they count as "not held"); the guard owns nothing after.
  [[nodiscard]] bool unlock();
  /// Resets the expiry to `ttl` on every server that still holds our token; returns true, and
  /// moves `valid_until()`, when a quorum did so in time. Throws std::invalid_argument("ttl").
  [[nodiscard]] bool extend(std::chrono::milliseconds ttl);

 private:
  friend class Redlock;
  RedlockGuard(std::shared_ptr<detail::RedlockCore> core, std::string name, std::string token,
               std::chrono::steady_clock::time_point valid_until) noexcept;
  void release_noexcept() noexcept;

  std::shared_ptr<detail::RedlockCore> core_;
  std::string name_;
  std::string token_;
  std::chrono::steady_clock::time_point valid_until_{};
};

/// The Redlock algorithm over N independent servers (not replicas of each other): a lock is
/// granted when `SET key token NX PX ttl` succeeds on at least N/2+1 of them and the time this
/// took, plus the drift allowance, is less than the TTL; otherwise it is released on all of
/// them (including the ones that did not answer, since their SET may have been applied).
///
/// Assumptions and limits (see Martin Kleppmann, "How to do distributed locking", 2016, and
/// antirez's reply): safety relies on bounded clock drift between servers and on the holder
/// finishing before `valid_until()`; a process pause (GC, swap) or a server that restarts
/// without persistence and forgets the key breaks mutual exclusion without anyone noticing.
/// Redlock has no fencing token (independent servers cannot agree on a monotonic counter), so
/// it suits efficiency locks (avoid doing work twice), not correctness locks: for those use
/// DistributedLock's fencing token checked by the resource itself. Thread-safe.
class REDISCACHE_EXPORT Redlock {
 public:
  /// `servers` are independent masters (at least 1; 3 or 5 are usual). Throws
  /// std::invalid_argument naming "servers" or the invalid option.
  explicit Redlock(std::vector<Client> servers, RedlockOptions options = {});

  /// One round over all servers (one round trip each, in sequence). An empty result means no
  /// quorum in time; everything was rolled back. Per-server errors count as refusals and are
  /// never thrown. Throws std::invalid_argument("name") for an empty name.
  [[nodiscard]] std::optional<RedlockGuard> try_lock(std::string_view name);
  /// Rounds until acquired or `wait_timeout` passes, with backoff and jitter between them.
  /// Throws std::invalid_argument naming "name" or "wait_timeout" (negative).
  [[nodiscard]] std::optional<RedlockGuard> lock(std::string_view name,
                                                 std::chrono::milliseconds wait_timeout);

  /// Servers that must grant the lock: N/2+1.
  [[nodiscard]] std::size_t quorum() const noexcept;
  [[nodiscard]] const RedlockOptions& options() const noexcept;
  /// A snapshot of the counters (no round trip).
  [[nodiscard]] RedlockStats stats() const;

 private:
  std::shared_ptr<detail::RedlockCore> core_;
};

}  // namespace rediscache
