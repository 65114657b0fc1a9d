// WriteBehind<T>: writes go to the cache at once and to the database later, in batches, through
// a durable Redis Stream queue drained by a background flusher.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/codec.hpp"
#include "rediscache/cache/detail/write_behind_counters.hpp"
#include "rediscache/cache/detail/write_behind_queue.hpp"
#include "rediscache/export.hpp"
#include "rediscache/util/error_handler.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache {

/// Options of a WriteBehind. Validated by its constructor: std::invalid_argument naming the
/// field ("WriteBehindOptions::max_batch").
struct WriteBehindOptions {
  /// Name of the queue; its keys are "{<queue>}:wb:stream", "{<queue>}:wb:dead",
  /// "{<queue>}:wb:lease" and "{<queue>}:wb:last:<id>" (one hash tag, so a Redis Cluster keeps
  /// them on one node). Characters [A-Za-z0-9_.-], at most 128 bytes. Empty: the cache's
  /// namespace (CacheOptions::name). Every process writing one table must use the same queue.
  std::string queue;
  /// Most stream entries the flusher hands to the batch writer at once (before coalescing),
  /// 1..10000.
  std::size_t max_batch = 100;
  /// Longest time the flusher waits for a batch to fill once it holds at least one entry.
  /// Positive. An entry reaches the database within about max_delay + poll_interval plus the
  /// writer's time, when nothing fails.
  std::chrono::milliseconds max_delay{50};
  /// How often an idle flusher looks for new entries (also how fast writes of other processes
  /// are noticed). flush() and destruction wake it at once. Positive.
  std::chrono::milliseconds poll_interval{20};
  /// Batch writer calls that may fail in a row before the batch is split: each operation then
  /// gets one call of its own, and those that still fail go to the dead-letter stream. At least 1.
  std::size_t max_attempts = 20;
  /// Pause after the first failed call; doubles after each further failure. Positive.
  std::chrono::milliseconds initial_backoff{100};
  /// Longest pause between retries; at least initial_backoff.
  std::chrono::milliseconds max_backoff{10000};
  /// Only one flusher per queue writes at a time (so per-key order holds across processes): it
  /// holds a lease renewed on every poll. A flusher that dies loses it after this long, and
  /// another process's flusher takes over. Must exceed the longest batch writer call. Positive.
  std::chrono::milliseconds flusher_lease{10000};
  /// Entries delivered to a flusher that stopped (crashed) are claimed by the next one once they
  /// have been idle this long (XAUTOCLAIM). Positive.
  std::chrono::milliseconds claim_min_idle{5000};
  /// On destruction the flusher keeps writing for at most this long to drain the queue (only
  /// when it holds the lease); what is left stays queued for the next flusher. Zero: no drain.
  std::chrono::milliseconds drain_timeout{5000};
  /// Expiry of the queue's streams, renewed by every write and every flusher poll, so a queue
  /// that no process uses any more disappears. Longer than any expected outage of all
  /// flushers, since queued writes expire with it. Positive.
  std::chrono::milliseconds queue_ttl = std::chrono::hours(24 * 7);
  /// Durability on failover. When positive, write() and remove() return only after this many
  /// replicas of the queue's master have acknowledged the entry: `WAIT wait_replicas
  /// wait_timeout` runs on the connection that added it, in the same round trip. When fewer
  /// acknowledge in time they throw NotReplicated, after updating the cache as usual: the entry
  /// is queued on the master all the same and will be written unless that master fails over
  /// before a replica copies it. 0: no WAIT; replication is asynchronous, so an entry
  /// acknowledged by a master that dies a moment later can be lost with it. See
  /// docs/write-policies.md, "Durability on failover", for what each setting guarantees.
  std::size_t wait_replicas = 0;
  /// Longest time write() and remove() wait for `wait_replicas` acknowledgements. Positive
  /// (Redis's own `WAIT n 0` would wait forever). Unused while wait_replicas is 0.
  std::chrono::milliseconds wait_timeout{1000};
  /// Run a flusher in this instance. Off: this instance only enqueues; another process's
  /// flusher writes to the database.
  bool run_flusher = true;
  /// Called (from the flusher thread, or from write() when the cache update fails) with an
  /// error that is not thrown to anyone: writer failures, Redis failures. `context` names the
  /// operation. Must not throw (exceptions are swallowed). Unset: errors are only counted.
  ErrorHandler on_error;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// A snapshot of a write-behind queue (WriteBehind::stats()).
struct WriteBehindStats {
  // Shared by every process using the queue (read from Redis):
  std::uint64_t queue_depth = 0;  ///< Entries waiting or being written (not yet acknowledged).
  std::chrono::milliseconds oldest_pending_age{0};  ///< Age of the oldest queued entry, by the
                                                    ///< Redis clock; 0 when the queue is empty.
  std::uint64_t dead_letter_depth = 0;              ///< Entries in the dead-letter stream.
  // This instance only: one std::uint64_t per entry of REDISCACHE_WRITE_BEHIND_COUNTERS
  // (cache/detail/write_behind_counters.hpp), which says what each counts: enqueued, batches,
  // written, coalesced, retries, writer_failures, dead_letters, claimed, replayed, redis_errors,
  // cache_errors.
#define REDISCACHE_WRITE_BEHIND_STATS_FIELD(field, metric, help) std::uint64_t field = 0;
  REDISCACHE_WRITE_BEHIND_COUNTERS(REDISCACHE_WRITE_BEHIND_STATS_FIELD)
#undef REDISCACHE_WRITE_BEHIND_STATS_FIELD
  bool flusher_active = false;  ///< This instance's flusher holds the lease now.
};

/// An entry of the dead-letter stream.
struct DeadLetter {
  std::string entry_id;  ///< Its id in the dead-letter stream.
  WriteKind kind = WriteKind::kUpsert;
  std::string id;              ///< The record id.
  std::string error;           ///< what() of the writer's last exception.
  std::uint64_t attempts = 0;  ///< Writer calls that failed for it.
};

/// One database operation handed to the batch writer.
template <class T>
struct WriteOp {
  WriteKind kind = WriteKind::kUpsert;
  std::string id;
  /// The value to store; set for kUpsert, empty for kRemove.
  std::optional<T> value;
};

/// Write-behind (write-back) over a CacheAside.
///
/// `write(id, value)` appends the database operation to a Redis Stream, then puts the value in
/// the cache, and returns: three round trips, no database access. A background flusher (one per
/// queue across all processes, elected by a lease) reads entries with a consumer group, keeps only
/// the latest operation per id within a batch, calls the user's batch writer, and acknowledges and
/// deletes the entries only after the writer returned. Per-id order is kept: entries are written in
/// stream order, a failing batch blocks the ones behind it, and a remove after a write is never
/// applied before it.
///
/// Guarantees:
/// - Delivery is at least once: an entry is written again after a crash between the writer's
///   return and the acknowledgement, or when a batch is retried. The writer must be idempotent
///   (an upsert, a delete that ignores missing rows) and transactional per call.
/// - A process that dies (even SIGKILL mid-batch) loses nothing that write() acknowledged: its
///   lease expires, the next flusher claims its delivered entries (XAUTOCLAIM) and writes them
///   before anything newer.
/// - A failing database delays writes (retries with exponential backoff), then dead-letters
///   them after `max_attempts` failures, with the error text: see dead_letters(),
///   replay_dead_letters().
/// - The queue is as durable as Redis is: use appendonly (AOF) and replicas for data that must
///   survive a Redis crash. Replication is asynchronous: with `wait_replicas` 0, an entry that
///   write() acknowledged can be lost when its master fails over before a replica copied it;
///   with `wait_replicas` N, write() returns only once N replicas hold it (else NotReplicated).
///
/// Thread-safe. The cache must outlive this object. The destructor stops the flusher: it drains
/// the queue for up to `drain_timeout`, then returns within about that plus one writer call.
template <class T, class C = Codec<T>>
class WriteBehind {
 public:
  /// Writes a batch to the database: at most one operation per id. Throwing fails the whole
  /// batch (it is retried). Called on the flusher thread only, never concurrently.
  using BatchWriter = std::function<void(const std::vector<WriteOp<T>>& ops)>;

  /// Validates `options` (std::invalid_argument naming the field), creates the stream and its
  /// consumer group (one round trip; the Client's errors propagate) and starts the flusher.
  WriteBehind(CacheAside<T, C>& cache, BatchWriter writer, WriteBehindOptions options = {})
      : cache_(cache),
        writer_(std::move(writer)),
        updates_{[this](std::string_view id, const std::string& payload) {
                   cache_.set(id, C::decode(payload));
                 },
                 [this](std::string_view id) { cache_.invalidate(id); }},
        queue_(cache.client(), options.queue.empty() ? cache.options().name : options.queue,
               make_raw_writer(), validated(options, writer_)) {}

  /// Caches `value` for `id` (ttl ± jitter) and queues the upsert. Three round trips (the first
  /// also waits for replicas when `wait_replicas` is set). Throws the Client's errors when the
  /// operation could not be queued (then nothing was written anywhere by this call; after
  /// IoError, whether it was queued is unknown). Once it returns, the write reaches the database
  /// even if this process dies, and, with `wait_replicas`, even if the queue's master fails over
  /// to one of the replicas that acknowledged it. Throws NotReplicated when `wait_replicas` is set
  /// and too few replicas acknowledged within `wait_timeout`: the write is queued and cached all
  /// the same (calling write() again with the same value is safe). A failure to update the cache
  /// after queueing is not thrown (the write will happen): it is counted in `cache_errors` and
  /// reported to `on_error`.
  void write(std::string_view id, const T& value) {
    detail::WriteBehindQueue::Enqueued queued =
        queue_.enqueue(WriteKind::kUpsert, id, C::encode(value));
    try {
      cache_.set(id, value);
    } catch (const std::exception& e) {
      queue_.cache_failed("write-behind cache update", e);
    }
    queue_.settle(id, std::move(queued.entry_id), updates_);
    if (queued.not_replicated) std::rethrow_exception(queued.not_replicated);
  }

  /// Removes `id` from the cache and queues the database delete, behind any write queued
  /// before. Three round trips; errors as write(), NotReplicated included.
  void remove(std::string_view id) {
    detail::WriteBehindQueue::Enqueued queued = queue_.enqueue(WriteKind::kRemove, id, {});
    try {
      cache_.invalidate(id);
    } catch (const std::exception& e) {
      queue_.cache_failed("write-behind cache invalidation", e);
    }
    queue_.settle(id, std::move(queued.entry_id), updates_);
    if (queued.not_replicated) std::rethrow_exception(queued.not_replicated);
  }

  /// Waits until every operation queued (by any process) before the call has left the queue:
  /// written to the database or, after repeated failures, moved to the dead-letter stream
  /// (stats().dead_letter_depth). Wakes this instance's flusher so it skips `max_delay`.
  /// Returns false when `timeout` passed first. Polls Redis; throws the Client's errors.
  [[nodiscard]] bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return queue_.flush(timeout);
  }

  /// Moves up to `max_entries` dead letters back into the queue, oldest first, as new writes
  /// (they are written after everything queued so far, so a dead letter replayed after a newer
  /// write of the same id overwrites it). Returns how many moved. Throws the Client's errors.
  std::size_t replay_dead_letters(std::size_t max_entries = 1000) {
    return queue_.replay_dead_letters(max_entries);
  }

  /// The oldest `max_entries` dead letters (one round trip). Throws the Client's errors.
  [[nodiscard]] std::vector<DeadLetter> dead_letters(std::size_t max_entries = 100) {
    return queue_.dead_letters(max_entries);
  }

  /// Counters of this instance plus the queue's depth and age (one round trip). Throws the
  /// Client's errors.
  [[nodiscard]] WriteBehindStats stats() { return queue_.stats(); }

  /// The stream holding queued operations, and the dead-letter stream (for tools and tests).
  [[nodiscard]] const std::string& stream_key() const noexcept { return queue_.stream_key(); }
  [[nodiscard]] const std::string& dead_letter_key() const noexcept {
    return queue_.dead_letter_key();
  }

 private:
  static const WriteBehindOptions& validated(const WriteBehindOptions& options,
                                             const BatchWriter& writer) {
    if (!writer) throw std::invalid_argument("WriteBehind writer must not be empty");
    options.validate();
    return options;
  }

  detail::WriteBehindQueue::BatchWriter make_raw_writer() {
    return [this](const std::vector<detail::RawWriteOp>& raw) {
      std::vector<WriteOp<T>> ops;
      ops.reserve(raw.size());
      for (std::size_t i = 0; i < raw.size(); ++i) {
        WriteOp<T> op;
        op.kind = raw[i].kind;
        op.id = raw[i].id;
        if (op.kind == WriteKind::kUpsert) {
          try {
            op.value.emplace(C::decode(raw[i].payload));
          } catch (const std::exception& e) {
            throw detail::UndecodableEntry(i, e.what());
          }
        }
        ops.push_back(std::move(op));
      }
      writer_(ops);
      queue_.invalidate_removed(raw, updates_);
    };
  }

  CacheAside<T, C>& cache_;
  BatchWriter writer_;
  // How the queue's settle and after-remove steps reach this typed cache.
  detail::WriteBehindQueue::CacheUpdates updates_;
  detail::WriteBehindQueue queue_;  // last: its flusher calls writer_, so it must stop first
};

}  // namespace rediscache
