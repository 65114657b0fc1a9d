// NearCache: a bounded, sharded, thread-safe in-process cache of Redis values for hot keys, with
// adaptive W-TinyLFU eviction and a guard that lets an invalidation win over a fetch in progress.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/export.hpp"

namespace rediscache {

/// Which entries a full near cache gives up.
enum class NearCachePolicy {
  /// W-TinyLFU (Einziger, Friedman, Manes 2017): an LRU admission window in front of a
  /// segmented LRU, with a count-min sketch of recent access frequencies deciding whether a
  /// newcomer may displace the main region's victim. Keeps hot keys through scans. The window's
  /// size adapts to the workload (see NearCacheOptions::adaptive_window).
  kWTinyLfu,
  /// Segmented LRU (probation + protected) without the window and the frequency filter.
  kSegmentedLru,
  /// Plain LRU; the baseline the others are measured against.
  kLru,
};

/// Options of a NearCache. Validated by its constructor (std::invalid_argument naming the field,
/// e.g. "NearCacheOptions::max_entries").
struct NearCacheOptions {
  /// Most entries held at once, over all shards; at least 1.
  std::size_t max_entries = 10000;
  /// Most bytes held at once, over all shards, counting NearCache::charge() per entry (key +
  /// value + a fixed overhead); at least 1. An entry larger than max_bytes / shard_count() is
  /// never held.
  std::size_t max_bytes = std::size_t{64} << 20;
  /// Longest an entry is served locally, whatever its Redis TTL; positive. This bounds staleness
  /// even if an invalidation is lost without the connection loss being noticed.
  std::chrono::milliseconds max_lifetime{10000};
  /// Independent shards, each with its own mutex: 0 (automatic) or a power of two in 1..1024.
  /// Automatic is kAutoShards, or fewer (a power of two, at least 1) so that each shard holds at
  /// least kMinEntriesPerAutoShard entries: a shard of a few entries has too little to choose
  /// from, and its own window, ghosts and sketch see too few accesses (docs/near-cache.md
  /// measures it). A value set here is used as given, except that fewer are used when
  /// max_entries is smaller (each shard holds at least one entry).
  std::size_t shards = 0;
  static constexpr std::size_t kAutoShards = 16;
  static constexpr std::size_t kMinEntriesPerAutoShard = 128;
  /// Eviction policy.
  NearCachePolicy policy = NearCachePolicy::kWTinyLfu;
  /// kWTinyLfu: share of each shard's capacity given to the admission window at the start, in
  /// (0, 0.5]; the window keeps this size when adaptive_window is false.
  double window_fraction = 0.01;
  /// kWTinyLfu: resize each shard's window as it runs, from ghost entries (as ARC sizes its
  /// recency list): a miss on a key the window recently rejected grows the window, a miss on a
  /// key the main region recently evicted shrinks it. Recency-heavy workloads get a large window
  /// (close to LRU), frequency-heavy ones a small one. Between 1 entry and the shard's capacity
  /// minus one. Costs each shard up to max_entries / shards remembered 64-bit hashes (about 80
  /// bytes each) and nothing on a hit.
  bool adaptive_window = true;
  /// Time source for expiry (monotonic). Unset: steady_clock::now. Tests inject a fake clock.
  /// Must be thread-safe.
  std::function<std::chrono::steady_clock::time_point()> clock;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// A snapshot of a NearCache's counters.
struct NearCacheStats {
  std::uint64_t hits = 0;           ///< get() calls answered locally.
  std::uint64_t misses = 0;         ///< get() calls that found no live entry (or cache disabled).
  std::uint64_t expired = 0;        ///< Entries dropped on access because their lifetime ended.
  std::uint64_t inserts = 0;        ///< Values stored by complete().
  std::uint64_t rejected = 0;       ///< Values refused: too large, or lost W-TinyLFU admission.
  std::uint64_t stale_fetches = 0;  ///< Fetched values dropped because an invalidation or a
                                    ///< flush came in while they were being fetched.
  std::uint64_t evictions = 0;      ///< Entries evicted to stay within the bounds.
  std::uint64_t invalidations = 0;  ///< Entries dropped by invalidate()/invalidate_prefix().
  std::uint64_t flushes = 0;        ///< clear() calls (explicit, or on invalidation loss).
  std::size_t entries = 0;          ///< Entries held now.
  std::size_t bytes = 0;            ///< Bytes held now (sum of charges).
  bool enabled = false;             ///< Whether the cache serves and stores right now.
};

namespace detail {
class NearCacheShard;
}  // namespace detail

/// The in-process tier. Values are byte strings (what Redis holds). Every operation locks one
/// shard's mutex only (clear() and invalidate_prefix() lock each shard in turn), never does I/O,
/// and never throws except std::bad_alloc. Thread-safe.
///
/// Reads follow the fetch protocol of Redis client-side caching, so an invalidation that arrives
/// while a value is being fetched from Redis wins:
///
///     if (auto v = near.get(key)) return *v;            // local hit, no I/O
///     NearCache::Fetch fetch = near.begin_fetch(key);   // mark "fetch in progress"
///     auto [value, pttl] = /* GET + PTTL from Redis */;
///     if (value) near.complete(fetch, *value, pttl);   // dropped if invalidated meanwhile
///
/// A disabled cache (see set_enabled) misses on every get() and stores nothing; the invalidation
/// listener disables it while it cannot guarantee invalidations arrive.
class REDISCACHE_EXPORT NearCache {
 public:
  using Clock = std::chrono::steady_clock;

  /// Bytes charged per entry on top of its key and value: node, map slot and list links.
  static constexpr std::size_t kEntryOverhead = 96;
  /// What an entry costs against NearCacheOptions::max_bytes.
  static constexpr std::size_t charge(std::size_t key_bytes, std::size_t value_bytes) noexcept {
    return key_bytes + value_bytes + kEntryOverhead;
  }

  /// A fetch in progress for one key, from begin_fetch() to complete() or destruction. Move-only;
  /// must not outlive its cache. Not thread-safe (one thread completes it).
  class REDISCACHE_EXPORT Fetch {
   public:
    Fetch(Fetch&& other) noexcept;
    Fetch& operator=(Fetch&& other) noexcept;
    Fetch(const Fetch&) = delete;
    Fetch& operator=(const Fetch&) = delete;
    /// Ends the fetch without storing anything.
    ~Fetch();
    [[nodiscard]] const std::string& key() const noexcept { return key_; }

   private:
    friend class NearCache;
    Fetch(NearCache* cache, std::string key, std::size_t hash, std::uint64_t generation,
          std::uint64_t epoch, Clock::time_point started) noexcept;
    void end() noexcept;

    NearCache* cache_ = nullptr;
    std::string key_;
    std::size_t hash_ = 0;
    std::uint64_t generation_ = 0;
    std::uint64_t epoch_ = 0;
    Clock::time_point started_;
  };

  /// Validates `options` (std::invalid_argument naming the field). Starts enabled.
  explicit NearCache(NearCacheOptions options);
  ~NearCache();
  NearCache(const NearCache&) = delete;
  NearCache& operator=(const NearCache&) = delete;

  /// The live value of `key`, or nullopt (absent, expired, held decoded, or the cache is
  /// disabled). Records the access for the eviction policy either way.
  [[nodiscard]] std::optional<std::string> get(std::string_view key);

  /// A value held in decoded form (what a typed tier keeps: CacheAside's near tier holds decoded,
  /// immutable values so that a hit does not decode again). Type-erased; the tier that stored it
  /// knows its type.
  using Decoded = std::shared_ptr<const void>;
  /// The live decoded value of `key`, shared (not copied), or null (absent, expired, held as
  /// bytes, or the cache is disabled). Records the access as get() does.
  [[nodiscard]] Decoded get_decoded(std::string_view key);

  /// Marks `key` as being fetched. Call it before sending the Redis read; an invalidation of
  /// the key (or a clear()) between this call and complete() makes complete() drop its value.
  [[nodiscard]] Fetch begin_fetch(std::string_view key);

  /// Stores the fetched `value` unless the key was invalidated, or the cache cleared or disabled,
  /// since begin_fetch(). Its local lifetime runs from begin_fetch() (before the read, so it never
  /// outlives the Redis entry) for the shorter of `redis_ttl` (the PTTL read with the value;
  /// nullopt when the key has no expiry) and max_lifetime. A non-positive `redis_ttl` stores
  /// nothing. Ends the fetch. Returns whether the value was stored (it may still lose W-TinyLFU
  /// admission later, or be rejected when larger than a shard's byte budget).
  bool complete(Fetch& fetch, std::string_view value,
                std::optional<std::chrono::milliseconds> redis_ttl);
  /// complete() for a value held decoded: `decoded` (not null) is shared by every get_decoded()
  /// until the entry goes, and charged `bytes` (the tier's estimate of its size) in place of
  /// the value's bytes. One cache holds either kind; get() misses a decoded entry, and
  /// get_decoded() one held as bytes.
  bool complete_decoded(Fetch& fetch, Decoded decoded, std::size_t bytes,
                        std::optional<std::chrono::milliseconds> redis_ttl);

  /// Drops `key`, and makes any fetch of it in progress drop its value.
  void invalidate(std::string_view key);
  /// Drops every key that starts with `prefix` and poisons fetches of such keys. Walks every
  /// shard: O(entries).
  void invalidate_prefix(std::string_view prefix);
  /// Drops everything and poisons every fetch in progress.
  void clear();

  /// Disabled: get() misses and complete() stores nothing. Disabling does not clear; the
  /// invalidation listener disables, then clears, when its connection drops, and clears, then
  /// enables, once invalidations flow again.
  void set_enabled(bool enabled) noexcept;
  [[nodiscard]] bool enabled() const noexcept;

  /// Entries and bytes held now (sums over shards, each read under its lock).
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t bytes() const;
  [[nodiscard]] NearCacheStats stats() const;
  /// kWTinyLfu: the admission windows' sizes now, in entries, summed over shards (0 for the
  /// other policies). Moves over time when NearCacheOptions::adaptive_window is set.
  [[nodiscard]] std::size_t window_entries() const;
  /// How many shards the entries are split over (see NearCacheOptions::shards).
  [[nodiscard]] std::size_t shard_count() const noexcept { return shards_.size(); }
  [[nodiscard]] const NearCacheOptions& options() const noexcept { return options_; }

 private:
  friend class Fetch;
  [[nodiscard]] detail::NearCacheShard& shard_for(std::size_t hash) const noexcept;
  [[nodiscard]] Clock::time_point now() const;
  // complete() and complete_decoded(): the lifetime, then the shard's complete().
  bool finish(Fetch& fetch, std::string_view value, Decoded decoded, std::size_t value_bytes,
              std::optional<std::chrono::milliseconds> redis_ttl);

  NearCacheOptions options_;
  std::vector<std::unique_ptr<detail::NearCacheShard>> shards_;
  std::size_t shard_mask_ = 0;
  std::atomic<std::uint64_t> epoch_{0};  // bumped by clear(): fetches begun earlier are stale
  std::atomic<bool> enabled_{true};
  std::atomic<std::uint64_t> flushes_{0};
};

}  // namespace rediscache
