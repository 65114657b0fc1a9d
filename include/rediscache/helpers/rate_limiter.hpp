// Rate limiters: sliding-window log, sliding-window counter and GCRA token bucket. Each decision
// is one atomic Lua script that reads the Redis server's clock, so all clients agree on time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/util/stats.hpp"

namespace rediscache {

/// The outcome of one rate-limit check.
struct [[nodiscard]] Decision {
  /// Whether the request may proceed (its cost was counted only if so).
  bool allowed = false;
  /// Units still available right after this decision (when denied, those that are available
  /// but fewer than the cost asked for).
  long long remaining = 0;
  /// When denied: how long until a request of the same cost would be allowed (assuming no
  /// other traffic). Zero when allowed.
  std::chrono::milliseconds retry_after{0};
  /// How long until the limiter for this key is back to its full allowance (nothing counted).
  std::chrono::milliseconds reset_after{0};
};

/// Counters of one limiter, read as one snapshot.
struct RateLimiterStats {
  std::uint64_t allowed = 0;  ///< Checks that returned allowed.
  std::uint64_t denied = 0;   ///< Checks that returned denied.
  LatencySummary latency;     ///< Duration of `check` (one round trip each).
};

/// The interface every algorithm implements. Thread-safe.
class REDISCACHE_EXPORT RateLimiter {
 public:
  virtual ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// Counts a request of `cost` units against `key` if the allowance has room, atomically
  /// (one round trip, one Lua script). Throws std::invalid_argument naming "key" (empty) or
  /// "cost" (< 1, or more than the limit/burst, which could never pass), and the Client's
  /// errors (IoError, TimeoutError, PoolExhausted, ReplyError).
  [[nodiscard]] virtual Decision check(std::string_view key, long long cost = 1) = 0;
  /// Forgets everything counted for `key` (one round trip, DEL). Throws
  /// std::invalid_argument("key") for an empty key, and the Client's errors.
  virtual void reset(std::string_view key) = 0;
  /// The one Redis key that holds the state of `key`: `<key_prefix><key>`.
  [[nodiscard]] virtual std::string redis_key(std::string_view key) const = 0;

  /// A snapshot of this limiter's counters (no round trip).
  [[nodiscard]] RateLimiterStats stats() const;

 protected:
  RateLimiter() = default;
  void record(const Decision& decision, std::chrono::nanoseconds latency) noexcept;

 private:
  Counter allowed_;
  Counter denied_;
  LatencyHistogram latency_;
};

/// Options of SlidingWindowLogLimiter. Validated by its constructor (std::invalid_argument
/// naming the field).
struct SlidingWindowLogOptions {
  /// Units allowed per window; at least 1.
  long long limit = 100;
  /// Length of the window; at least 1 ms.
  std::chrono::milliseconds window{60000};
  /// Prefix of the Redis keys (`<key_prefix><key>`). Limiters sharing a prefix share state.
  std::string key_prefix = "ratelimit:log:";

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// Options of SlidingWindowCounterLimiter. Validated by its constructor.
struct SlidingWindowCounterOptions {
  /// Units allowed per window; at least 1.
  long long limit = 100;
  /// Length of the window; at least 1 ms.
  std::chrono::milliseconds window{60000};
  /// Prefix of the Redis keys (`<key_prefix><key>`). Limiters sharing a prefix share state.
  std::string key_prefix = "ratelimit:swc:";

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// Sliding-window log: a sorted set per key holding one entry per counted unit, scored by the
/// server time. Exact: at most `limit` units in any window of length `window`. Memory grows
/// with the limit (one entry per unit, about 60 bytes each); denied requests are not logged.
/// The key expires one window after the last allowed request. Thread-safe.
class REDISCACHE_EXPORT SlidingWindowLogLimiter final : public RateLimiter {
 public:
  explicit SlidingWindowLogLimiter(Client client, SlidingWindowLogOptions options = {});
  [[nodiscard]] Decision check(std::string_view key, long long cost = 1) override;
  void reset(std::string_view key) override;
  [[nodiscard]] std::string redis_key(std::string_view key) const override;
  [[nodiscard]] const SlidingWindowLogOptions& options() const noexcept { return options_; }

 private:
  Client client_;
  SlidingWindowLogOptions options_;
  std::string instance_id_;  // makes log entries unique across processes
  std::atomic<std::uint64_t> sequence_{0};
};

/// Sliding-window counter: the count of the current fixed window plus the previous window's
/// count weighted by how much of it still overlaps the sliding window. Constant memory (one
/// small hash per key). An approximation of the log that assumes requests were spread evenly
/// over the previous window. Windows start at a key's first request, so a burst never
/// straddles a boundary it did not cause. The key expires two windows after its last
/// allowed request. Thread-safe.
class REDISCACHE_EXPORT SlidingWindowCounterLimiter final : public RateLimiter {
 public:
  explicit SlidingWindowCounterLimiter(Client client, SlidingWindowCounterOptions options = {});
  [[nodiscard]] Decision check(std::string_view key, long long cost = 1) override;
  void reset(std::string_view key) override;
  [[nodiscard]] std::string redis_key(std::string_view key) const override;
  [[nodiscard]] const SlidingWindowCounterOptions& options() const noexcept { return options_; }

 private:
  Client client_;
  SlidingWindowCounterOptions options_;
};

/// Options of the GCRA limiter. Validated by its constructor.
struct GcraOptions {
  /// Most units that can pass at once from a full bucket; at least 1.
  long long burst = 100;
  /// Units that flow back per `period` (the sustained rate); at least 1.
  long long rate = 10;
  /// The period of `rate`; at least 1 ms. `period / rate` must be at least 1 microsecond.
  std::chrono::milliseconds period{1000};
  /// Prefix of the Redis keys (`<key_prefix><key>`). Limiters sharing a prefix share state.
  std::string key_prefix = "ratelimit:gcra:";

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// Token bucket as the generic cell rate algorithm (as redis-cell and go-redis/redis_rate):
/// one number per key, the theoretical arrival time. Allows `burst` units at once and `rate`
/// units per `period` sustained. Constant memory; the key expires when the bucket is full
/// again. Thread-safe.
class REDISCACHE_EXPORT GcraLimiter final : public RateLimiter {
 public:
  explicit GcraLimiter(Client client, GcraOptions options = {});
  [[nodiscard]] Decision check(std::string_view key, long long cost = 1) override;
  void reset(std::string_view key) override;
  [[nodiscard]] std::string redis_key(std::string_view key) const override;
  [[nodiscard]] const GcraOptions& options() const noexcept { return options_; }

 private:
  Client client_;
  GcraOptions options_;
};

}  // namespace rediscache
