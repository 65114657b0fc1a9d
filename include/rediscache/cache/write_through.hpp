// WriteThrough<T>: writes go to the database through the user's writer, then to the cache, in an
// order that never leaves the cache holding a value the database does not have.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/codec.hpp"
#include "rediscache/cache/detail/write_through_core.hpp"
#include "rediscache/cache/detail/write_through_counters.hpp"
#include "rediscache/export.hpp"
#include "rediscache/util/error_handler.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache {

/// Options of a WriteThrough. Validated by its constructor: std::invalid_argument naming the
/// field ("WriteThroughOptions::lock_ttl").
struct WriteThroughOptions {
  /// Lifetime of the per-id write lock ("<ns>:wlock:<id>"), which a write holds from before the
  /// database write until the cache is updated. A write slower than this (writer call plus two
  /// round trips) only invalidates the cache instead of setting it; a crashed writer's lock
  /// frees itself after this long. Positive.
  std::chrono::milliseconds lock_ttl{10000};
  /// How long a write waits for another write of the same id to finish before it throws
  /// TimeoutError without writing anything. Longer than lock_ttl by default, so a crashed
  /// holder never fails a write. Positive.
  std::chrono::milliseconds lock_wait{12000};
  /// First pause between attempts to take a busy lock; doubles up to max_backoff. Positive.
  std::chrono::milliseconds initial_backoff{1};
  /// Longest pause between attempts; at least initial_backoff.
  std::chrono::milliseconds max_backoff{20};
  /// Called when a cache update or invalidation after a successful database write failed (the
  /// write itself succeeded; see WriteOutcome::kCacheFailed). `context` names the operation.
  /// Must not throw (exceptions are swallowed). Unset: failures are only counted.
  ErrorHandler on_error;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// What a successful write() or remove() left in the cache.
enum class WriteOutcome {
  kCached,       ///< The cache holds the value just written.
  kInvalidated,  ///< The cache entry was deleted (remove(), a value too large to cache, or a
                 ///< write that outlived its lock); the next read loads it from the database.
  kCacheFailed,  ///< The database write succeeded but Redis failed: the entry could not be set
                 ///< nor deleted. Reported to on_error; an older value may be served until the
                 ///< entry's TTL if Redis kept it. (With CacheOptions::recovery on, only error
                 ///< replies end here; unreachable Redis gives kQueued.)
  kQueued,       ///< The database write succeeded but Redis could not be reached: the entry's
                 ///< invalidation is queued and replayed when Redis answers again
                 ///< (RecoveryOptions); until then this process reads the entry as a miss.
};

/// Counters of a WriteThrough (this instance).
struct WriteThroughStats {
  // One std::uint64_t per entry of REDISCACHE_WRITE_THROUGH_COUNTERS
  // (cache/detail/write_through_counters.hpp), which says what each counts: writes, removes,
  // writer_failures, cached, invalidated, cache_failures, queued, lock_lost, lock_busy,
  // lock_unavailable.
#define REDISCACHE_WRITE_THROUGH_STATS_FIELD(field, event, metric, help) std::uint64_t field = 0;
  REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_WRITE_THROUGH_STATS_FIELD)
#undef REDISCACHE_WRITE_THROUGH_STATS_FIELD
};

/// Write-through over a CacheAside: the database first, then the cache.
///
/// Ordering, per id: take the id's write lock in Redis (SET NX PX, waiting for a write of the
/// same id in any process) → the user's writer → if this write still holds the lock,
/// CacheAside::set (which also cancels the lease of any load in progress) → release the lock.
/// So:
/// - The writer throws: the entry is deleted (CacheAside::invalidate), the lock released and
///   the writer's exception propagates unchanged. The cache never holds the unwritten value.
/// - Concurrent writes of one id (threads or processes) run one after the other, so the cache
///   ends with the value of the write that reached the database last.
/// - A reader that missed and loaded the old row before the write cannot cache it afterwards:
///   the cache's set/invalidate cancel its load lease (memcache-style leases), and a store that
///   happened before is overwritten.
/// - Redis fails after the database write: the call still succeeds (the database has the
///   value) and returns kQueued when Redis was unreachable (the invalidation replays when it
///   answers again, see RecoveryOptions), kCacheFailed otherwise. When Redis is down before the
///   write, the database is written without the lock and the entry invalidated when Redis allows.
///
/// A write costs four round trips (lock, check, set, unlock) plus the writer. Thread-safe. The
/// cache must outlive this object.
template <class T, class C = Codec<T>>
class WriteThrough {
 public:
  /// Writes one record to the database; throws to report failure. Idempotent writers (upserts)
  /// are recommended but not required.
  using Writer = std::function<void(std::string_view id, const T& value)>;
  /// Deletes one record from the database; throws to report failure.
  using Remover = std::function<void(std::string_view id)>;

  /// Validates `options` (std::invalid_argument naming the field, and for an empty writer).
  /// Without a remover, remove() throws std::logic_error. Does not contact Redis.
  WriteThrough(CacheAside<T, C>& cache, Writer writer, Remover remover,
               WriteThroughOptions options = {})
      : cache_(cache),
        writer_(std::move(writer)),
        remover_(std::move(remover)),
        core_(cache.client(), cache.options().name, options) {
    if (!writer_) throw std::invalid_argument("WriteThrough writer must not be empty");
  }
  WriteThrough(CacheAside<T, C>& cache, Writer writer, WriteThroughOptions options = {})
      : WriteThrough(cache, std::move(writer), Remover{}, std::move(options)) {}

  /// Writes `value` to the database through the writer, then to the cache (see the class
  /// comment for the order). Throws: the writer's exception unchanged (the cache entry is then
  /// deleted); TimeoutError when another write of the id held the lock for all of lock_wait
  /// (nothing written). Redis failures after the database write are not thrown: the outcome
  /// says what the cache holds.
  WriteOutcome write(std::string_view id, const T& value) { return write(id, value, {}); }

  /// write() whose cache entry carries `tags` (CacheAside::set with tags; the cache needs
  /// CacheOptions::tags): CacheAside::invalidate_tag makes it a miss like any tagged entry. Bad
  /// tags throw std::invalid_argument before the database is written.
  WriteOutcome write(std::string_view id, const T& value, const std::vector<std::string>& tags) {
    if (!tags.empty()) detail::check_entry_tags(tags, cache_.options(), "WriteThrough::write tags");
    return run(
        id, [&] { writer_(id, value); },
        [&]() -> WriteOutcome {
          try {
            return cache_.set(id, value, tags) == WriteResult::kQueued ? WriteOutcome::kQueued
                                                                       : WriteOutcome::kCached;
          } catch (const std::length_error&) {
            return invalidate(id);  // too large to cache: a miss reads it from the database
          }
        },
        detail::WriteThroughCore::Event::kWrite);
  }

  /// Deletes the record from the database through the remover, then the cache entry (so the
  /// next read caches "not found"). Same order, locking and errors as write(). Throws
  /// std::logic_error when no remover was given.
  WriteOutcome remove(std::string_view id) {
    if (!remover_) throw std::logic_error("WriteThrough::remove needs a remover");
    return run(
        id, [&] { remover_(id); }, [&] { return invalidate(id); },
        detail::WriteThroughCore::Event::kRemove);
  }

  [[nodiscard]] WriteThroughStats stats() const { return core_.stats(); }
  /// The key of the id's write lock.
  [[nodiscard]] std::string lock_key(std::string_view id) const { return core_.lock_key(id); }

 private:
  using Event = detail::WriteThroughCore::Event;

  template <class Database, class Cache>
  WriteOutcome run(std::string_view id, const Database& database, const Cache& update_cache,
                   Event success) {
    const std::string token = detail::WriteThroughCore::new_token();
    const detail::WriteThroughCore::Lock lock = core_.lock(id, token);
    if (lock == detail::WriteThroughCore::Lock::kBusy) {
      throw TimeoutError(
          "rediscache: WriteThrough: the write lock of the id stayed busy for "
          "lock_wait; nothing was written");
    }
    const bool held = lock == detail::WriteThroughCore::Lock::kHeld;
    try {
      database();
    } catch (...) {
      core_.count(Event::kWriterFailure);
      // The database did not take the value; whatever the cache holds must go, in case the
      // writer changed something before failing.
      try {
        cache_.invalidate(id);
        core_.count(Event::kInvalidated);
      } catch (const std::exception& e) {
        core_.report("write-through invalidation after a writer failure", e);
      }
      if (held) core_.unlock(id, token);
      throw;
    }
    core_.count(success);
    WriteOutcome outcome = WriteOutcome::kCacheFailed;
    try {
      if (held && core_.holds(id, token)) {
        outcome = update_cache();
      } else {
        // Without the lock, another write of the id may have reached the database after ours:
        // only a delete is safe.
        if (held) core_.count(Event::kLockLost);
        outcome = invalidate(id);
      }
    } catch (const std::exception& e) {
      core_.report("write-through cache update", e);
      try {
        outcome = invalidate(id);
      } catch (const std::exception& again) {
        core_.report("write-through invalidation", again);
        outcome = WriteOutcome::kCacheFailed;
      }
    }
    if (held) core_.unlock(id, token);
    core_.count(outcome == WriteOutcome::kCached        ? Event::kCached
                : outcome == WriteOutcome::kInvalidated ? Event::kInvalidated
                : outcome == WriteOutcome::kQueued      ? Event::kQueued
                                                        : Event::kCacheFailure);
    return outcome;
  }

  WriteOutcome invalidate(std::string_view id) {
    return cache_.invalidate(id) == WriteResult::kQueued ? WriteOutcome::kQueued
                                                         : WriteOutcome::kInvalidated;
  }

  CacheAside<T, C>& cache_;
  Writer writer_;
  Remover remover_;
  detail::WriteThroughCore core_;
};

}  // namespace rediscache
