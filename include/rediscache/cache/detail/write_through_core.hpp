// WriteThroughCore: the type-independent part of WriteThrough<T>: the per-id write lock that
// serialises writes of one id across processes, and the statistics.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "rediscache/cache/detail/write_through_counters.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache {

struct WriteThroughOptions;
struct WriteThroughStats;

namespace detail {

/// See write_through.hpp for the contract. Thread-safe.
class REDISCACHE_EXPORT WriteThroughCore {
 public:
  /// What lock() achieved.
  enum class Lock {
    kHeld,         ///< This write holds the lock of the id.
    kBusy,         ///< Another write held it for all of lock_wait.
    kUnavailable,  ///< Redis failed; the write goes on without the lock.
  };
  /// Which counter an event goes to: one enumerator per entry of
  /// REDISCACHE_WRITE_THROUGH_COUNTERS (kWrite, kRemove, kWriterFailure, kCached, kInvalidated,
  /// kCacheFailure, kLockLost, kLockBusy, kLockUnavailable).
  enum class Event {
#define REDISCACHE_WRITE_THROUGH_EVENT(field, event, metric, help) event,
    REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_WRITE_THROUGH_EVENT)
#undef REDISCACHE_WRITE_THROUGH_EVENT
  };

  /// Validates `options` (std::invalid_argument naming the field). Does not contact Redis.
  WriteThroughCore(Client client, std::string cache_name, const WriteThroughOptions& options);
  ~WriteThroughCore();
  WriteThroughCore(const WriteThroughCore&) = delete;
  WriteThroughCore& operator=(const WriteThroughCore&) = delete;

  /// A fresh lock token.
  [[nodiscard]] static std::string new_token();
  /// Takes the id's lock (SET NX PX), polling with backoff up to lock_wait.
  Lock lock(std::string_view id, const std::string& token);
  /// True while `token` still holds the id's lock (one round trip); false also on Redis errors.
  bool holds(std::string_view id, const std::string& token) noexcept;
  /// Releases the lock if `token` holds it (one round trip). Never throws.
  void unlock(std::string_view id, const std::string& token) noexcept;
  /// "<cache name>:wlock:<id>".
  [[nodiscard]] std::string lock_key(std::string_view id) const;

  void count(Event event) noexcept;
  /// Reports an error that is not thrown to on_error (never throws).
  void report(std::string_view context, const std::exception& error) noexcept;
  [[nodiscard]] WriteThroughStats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace detail
}  // namespace rediscache
