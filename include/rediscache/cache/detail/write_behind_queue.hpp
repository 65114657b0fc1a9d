// WriteBehindQueue: the type-independent engine of WriteBehind<T>: a Redis Stream with a consumer
// group, a leased flusher thread, retries, the dead-letter stream and statistics. Bytes only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache {

struct WriteBehindOptions;
struct WriteBehindStats;
struct DeadLetter;

/// What a queued database operation does.
enum class WriteKind : std::uint8_t {
  kUpsert,  ///< Insert or replace the row of the id with the value.
  kRemove,  ///< Delete the row of the id (deleting a missing row must succeed).
};

namespace detail {

/// One queued operation as stored in the stream: the value is still encoded.
struct RawWriteOp {
  WriteKind kind = WriteKind::kUpsert;
  std::string id;
  std::string payload;   // Codec bytes; empty for kRemove
  std::string entry_id;  // stream id of the entry this operation came from (the latest one)
};

/// Thrown by a raw batch writer when the payload of `ops[index]` cannot be decoded: the queue
/// moves that entry alone to the dead-letter stream and retries the rest at once.
class UndecodableEntry : public std::runtime_error {
 public:
  UndecodableEntry(std::size_t index, const std::string& what)
      : std::runtime_error(what), index_(index) {}
  [[nodiscard]] std::size_t index() const noexcept { return index_; }

 private:
  std::size_t index_;
};

/// The engine behind WriteBehind<T>; see write_behind.hpp for the contract. Thread-safe.
class REDISCACHE_EXPORT WriteBehindQueue {
 public:
  /// Receives the coalesced operations of one batch (at most one per id).
  using BatchWriter = std::function<void(const std::vector<RawWriteOp>&)>;

  /// Validates `options` (std::invalid_argument naming the field), creates the consumer group
  /// (one round trip; the Client's errors propagate) and starts the flusher if asked to.
  WriteBehindQueue(Client client, const std::string& queue_name, BatchWriter writer,
                   const WriteBehindOptions& options);
  ~WriteBehindQueue();
  WriteBehindQueue(const WriteBehindQueue&) = delete;
  WriteBehindQueue& operator=(const WriteBehindQueue&) = delete;

  /// The latest queued operation of an id: its entry id, and the operation unless the entry has
  /// already been written and deleted from the queue.
  struct Latest {
    std::string entry_id;
    std::optional<RawWriteOp> op;
  };

  /// What enqueue() did.
  struct Enqueued {
    std::string entry_id;
    /// Set (a NotReplicated) when `wait_replicas` replicas did not acknowledge the entry in
    /// time; the entry is queued all the same. The caller throws it once the cache is updated.
    std::exception_ptr not_replicated;
  };

  /// XADDs the operation, renews the stream's expiry and records the entry as the latest of
  /// `id`: one round trip (a script; with `wait_replicas`, followed by WAIT on the same
  /// connection in the same round trip). Throws the Client's errors when nothing is known to be
  /// queued.
  Enqueued enqueue(WriteKind kind, std::string_view id, std::string_view payload);
  /// The latest operation queued for `id` when it is not `entry_id`; nullopt when it is, or
  /// when nothing is known (one round trip).
  std::optional<Latest> latest_if_not(std::string_view id, std::string_view entry_id);
  void count_cache_error() noexcept;

  /// What the queue does to the typed cache in front of it, untyped: store an id's codec
  /// payload, or drop the id. WriteBehind<T> supplies both; they may throw.
  struct CacheUpdates {
    std::function<void(std::string_view id, const std::string& payload)> set;
    std::function<void(std::string_view id)> invalidate;
  };
  /// A failure to update the cache after the operation was queued: counted (cache_errors) and
  /// reported to WriteBehindOptions::on_error (or the log sink). Never throws.
  void cache_failed(std::string_view context, const std::exception& error) noexcept;
  /// After a caller's own cache update for the entry `applied` of `id`: re-applies the latest
  /// queued operation of the id until the cache holds it (concurrent writers of one id may
  /// update the cache in another order than they entered the stream; the stream decides). One
  /// round trip when nobody raced, at most 16 rounds. Failures go to cache_failed().
  void settle(std::string_view id, std::string applied, const CacheUpdates& cache) noexcept;
  /// After a batch was written: drops from the cache each removed id that has no newer queued
  /// operation (a read between remove() and the database delete may have cached the old row).
  void invalidate_removed(const std::vector<RawWriteOp>& written,
                          const CacheUpdates& cache) noexcept;
  bool flush(std::chrono::milliseconds timeout);
  std::size_t replay_dead_letters(std::size_t max_entries);
  std::vector<DeadLetter> dead_letters(std::size_t max_entries);
  WriteBehindStats stats();

  [[nodiscard]] const std::string& stream_key() const noexcept;
  [[nodiscard]] const std::string& dead_letter_key() const noexcept;
  [[nodiscard]] const std::string& lease_key() const noexcept;
  [[nodiscard]] const std::string& consumer_name() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace detail
}  // namespace rediscache
