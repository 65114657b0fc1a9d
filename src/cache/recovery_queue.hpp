// RecoveryQueue: the invalidations a cache could not deliver while Redis was unreachable, kept in
// memory until they can be replayed (CacheOptions::recovery). Pure bookkeeping, no Redis: the
// cache core decides what to queue and replays it (recovery.cpp).
//
// Everything queued is an invalidation: a DEL of one entry, a near-cache announcement of one,
// a tag invalidation, a namespace version bump. An invalidation replayed late can only make an
// entry a miss that a newer write put there, never bring an old value back, so replaying in
// order against new traffic is safe. A set() that failed is queued as the DEL of its key for the
// same reason: writing its value late could overwrite a newer one another process wrote.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rediscache::detail {

/// Coalesced per target: a second operation on the same entry (or tag) replaces the first and
/// moves to the back, so the queue holds at most one operation per entry, one per tag and one
/// bump, in the order of their last request. Bounded by a count and by bytes. Thread-safe.
class RecoveryQueue {
 public:
  enum class Kind : std::uint8_t {
    kDelete,    ///< DEL the entry of `target` (an id) and its lease, then announce it
    kAnnounce,  ///< announce `target` (a key) to other near caches: its write reached Redis
    kTag,       ///< invalidate the tag `target`
    kBump,      ///< bump the namespace version
  };

  struct Op {
    Kind kind = Kind::kDelete;
    std::string target;     // id (kDelete), key (kAnnounce), tag (kTag), empty (kBump)
    std::string key;        // kDelete: the entry's key when queued
    std::uint64_t seq = 0;  // changes when a newer request replaces this one
  };

  enum class Pushed : std::uint8_t { kQueued, kCoalesced, kFull };

  /// Accounting per operation beyond its strings (list and index nodes).
  static constexpr std::size_t kOverheadBytes = 160;

  RecoveryQueue(std::size_t max_operations, std::size_t max_bytes)
      : max_operations_(max_operations), max_bytes_(max_bytes) {}

  /// Queues an operation, or replaces the pending one of the same kind on the same target.
  /// kFull: nothing changed, the bounds would be exceeded.
  Pushed push(Kind kind, std::string target, std::string key);
  /// Drops the pending operation on entry `id`, if any (a write of it reached Redis since).
  void cancel_entry(const std::string& id);

  /// Copies of the first `n` operations, in order.
  [[nodiscard]] std::vector<Op> front(std::size_t n) const;
  /// Removes each of `done` that was not replaced since it was copied; returns how many.
  std::size_t settle(const std::vector<Op>& done);
  /// Removes and returns everything (the cache is going away).
  std::vector<Op> take_all();

  /// True when a read in this process must not trust the entry under `key` carrying `tags`:
  /// its DEL, one of its tags or a version bump is still pending. Lock-free when empty.
  [[nodiscard]] bool outdates(const std::string& key, const std::vector<std::string>& tags) const;

  [[nodiscard]] bool empty() const noexcept { return size_.load(std::memory_order_acquire) == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  [[nodiscard]] std::size_t bytes() const;

 private:
  using Order = std::list<Op>;
  static std::string index_key(Kind kind, const std::string& target);
  static std::size_t cost(const Op& op) noexcept;
  void erase_locked(Order::iterator it);

  const std::size_t max_operations_;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  Order order_;                                             // guarded by mu_
  std::unordered_map<std::string, Order::iterator> index_;  // guarded by mu_
  std::unordered_multiset<std::string> deleted_keys_;       // guarded by mu_; kDelete keys
  std::size_t bytes_ = 0;                                   // guarded by mu_
  std::uint64_t next_seq_ = 1;                              // guarded by mu_
  std::atomic<std::size_t> size_{0};
};

}  // namespace rediscache::detail
