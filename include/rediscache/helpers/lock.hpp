// DistributedLock: a mutual-exclusion lock held in one Redis server, with an RAII guard, a
// fencing token per acquisition and an optional watchdog that keeps the lock alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/helpers/detail/lock_counters.hpp"
#include "rediscache/util/error_handler.hpp"
#include "rediscache/util/stats.hpp"

namespace rediscache {

namespace detail {
class LockCore;
struct LockGuardState;
}  // namespace detail

/// How a DistributedLock behaves. Validated by the constructor (std::invalid_argument naming
/// the field).
struct LockOptions {
  /// Prefix of the lock's keys. The lock lives in `<key_prefix>{<name>}` and its fencing
  /// counter in `<key_prefix>{<name>}:fence`: the hash tag puts both in one cluster slot.
  /// Must not contain '{' or '}'.
  std::string key_prefix = "lock:";
  /// How long the lock lives unless extended: the longest a crashed holder can block others.
  /// At least 1 ms.
  std::chrono::milliseconds ttl{10000};
  /// First pause of `lock()` after a failed attempt; later pauses double up to `retry_max`.
  /// Each pause is drawn at random from [pause/2, pause] (jitter) and never outlasts the
  /// remaining TTL of the current holder or the caller's wait timeout. At least 1 ms.
  std::chrono::milliseconds retry_min{2};
  /// Longest pause between attempts of `lock()`; at least `retry_min`.
  std::chrono::milliseconds retry_max{100};
  /// Hand out a fencing token (INCR of the fence counter) with every acquisition, in the same
  /// atomic script as the acquisition. The counter key never expires (that would restart the
  /// sequence); it is one small string per lock name.
  bool fencing = true;
  /// Start a watchdog thread with each guard that extends the lock back to `ttl` every
  /// `watchdog_interval` while the guard lives, and stops when the guard is released.
  bool watchdog = false;
  /// Period of the watchdog; must be shorter than `ttl`. Unset: ttl / 3.
  std::optional<std::chrono::milliseconds> watchdog_interval;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// Counters of one DistributedLock (all guards made from it), read as one snapshot.
struct LockStats {
  // One std::uint64_t per entry of REDISCACHE_LOCK_COUNTERS (helpers/detail/lock_counters.hpp),
  // which says what each counts: acquisitions, failed_attempts, timeouts, releases,
  // releases_not_held, extensions, extensions_not_held, lost, errors.
#define REDISCACHE_LOCK_STATS_FIELD(field, metric, help) std::uint64_t field = 0;
  REDISCACHE_LOCK_COUNTERS(REDISCACHE_LOCK_STATS_FIELD)
#undef REDISCACHE_LOCK_STATS_FIELD
  LatencySummary wait;  ///< Time `lock()` spent before succeeding or giving up.
};

/// Proof of holding a DistributedLock: move-only, releases the lock when destroyed (if still
/// held), and stops its watchdog first. Not thread-safe: one thread uses a guard at a time
/// (its watchdog, if any, is internal and safe). May outlive the DistributedLock it came from.
class REDISCACHE_EXPORT LockGuard {
 public:
  LockGuard(LockGuard&& other) noexcept;
  LockGuard& operator=(LockGuard&& other) noexcept;
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  /// Stops the watchdog (joined within about one command timeout), then releases the lock if
  /// this guard has not already. Never throws: errors are counted in LockStats::errors and
  /// passed to the error handler.
  ~LockGuard();

  /// The random token (128 bits, URL-safe base64) stored as the lock's value.
  [[nodiscard]] const std::string& token() const noexcept;
  /// The fencing token of this acquisition: strictly greater than that of every earlier
  /// acquisition of the same lock name on the same server. Pass it with writes to the
  /// protected resource so that it can reject writes from a holder whose lock expired.
  /// 0 when `LockOptions::fencing` is off.
  [[nodiscard]] long long fence() const noexcept;
  /// False after `unlock()` or after moving from this guard.
  [[nodiscard]] bool owns() const noexcept;
  /// True once an extension (by the watchdog or by `extend()`) found the lock gone (expired or
  /// taken by someone else) while this guard lived: the critical section is no longer
  /// protected. Thread-safe.
  [[nodiscard]] bool lost() const noexcept;

  /// Releases the lock now (one round trip, after stopping the watchdog). Returns true when
  /// the lock was still ours and is now deleted; false when it had expired or belonged to
  /// another holder (nothing is deleted then). Throws IoError/TimeoutError/PoolExhausted; the
  /// guard no longer owns the lock afterwards either way.
  [[nodiscard]] bool unlock();
  /// Resets the lock's expiry to `ttl` if it is still ours (one round trip). Returns false,
  /// changing nothing, when it is not. Throws std::invalid_argument("ttl") for ttl < 1 ms,
  /// std::logic_error when the guard does not own the lock, and the Client's errors.
  [[nodiscard]] bool extend(std::chrono::milliseconds ttl);

 private:
  friend class DistributedLock;
  explicit LockGuard(std::unique_ptr<detail::LockGuardState> state) noexcept;
  void release_noexcept() noexcept;

  std::unique_ptr<detail::LockGuardState> state_;
};

/// A named lock in one Redis server (or one cluster slot), shared by every process that uses
/// the same name. Acquisition is one atomic `SET key token NX PX ttl` (with the fencing INCR in
/// the same script); release and extension are scripts that compare the token first, so a
/// holder whose lock expired can neither release nor extend someone else's.
///
/// Guarantees: while a guard's lock has not expired, no other caller acquires it. Limits: the
/// lock is only as safe as the TTL (a holder paused past its TTL — GC, swap, SIGSTOP — loses
/// it without noticing until it touches Redis; use `fence()` to make the resource reject it),
/// and a failover to a replica that had not received the SET can grant it twice (use Redlock
/// or fencing). Thread-safe: many threads may call `try_lock`/`lock` on one object.
class REDISCACHE_EXPORT DistributedLock {
 public:
  /// Throws std::invalid_argument naming "name" (empty) or the invalid option.
  DistributedLock(Client client, std::string name, LockOptions options = {},
                  ErrorHandler on_error = {});

  /// One attempt (one round trip). An empty result means another holder has the lock.
  /// Throws the Client's errors (IoError, TimeoutError, PoolExhausted, ReplyError).
  [[nodiscard]] std::optional<LockGuard> try_lock();
  /// Attempts until acquired or `wait_timeout` passes, pausing between attempts with
  /// exponential backoff and jitter (see LockOptions::retry_min). Makes at least one attempt.
  /// Throws std::invalid_argument("wait_timeout") when negative, and the Client's errors.
  [[nodiscard]] std::optional<LockGuard> lock(std::chrono::milliseconds wait_timeout);

  /// Deletes the lock if its value is `token` (one round trip). Returns false, changing
  /// nothing, otherwise. For holders that pass the token between processes; guards call it.
  [[nodiscard]] bool unlock(std::string_view token);
  /// Resets the lock's expiry to `ttl` if its value is `token` (one round trip); false,
  /// changing nothing, otherwise. Throws std::invalid_argument("ttl") for ttl < 1 ms.
  [[nodiscard]] bool extend(std::string_view token, std::chrono::milliseconds ttl);
  /// Whether anyone holds the lock right now (one round trip; a hint, stale at once).
  [[nodiscard]] bool is_locked();

  [[nodiscard]] const std::string& name() const noexcept;
  /// The Redis key of the lock.
  [[nodiscard]] const std::string& key() const noexcept;
  /// The Redis key of the fencing counter.
  [[nodiscard]] const std::string& fence_key() const noexcept;
  [[nodiscard]] const LockOptions& options() const noexcept;
  /// A snapshot of the counters of this lock and its guards (no round trip).
  [[nodiscard]] LockStats stats() const;

 private:
  std::optional<LockGuard> attempt(long long* holder_pttl);

  std::shared_ptr<detail::LockCore> core_;
};

}  // namespace rediscache
