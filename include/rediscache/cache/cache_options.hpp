// Options and statistics of the cache policies (CacheAside, and the write policies built on it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rediscache/cache/detail/cache_counters.hpp"
#include "rediscache/export.hpp"
#include "rediscache/near/near_cache.hpp"
#include "rediscache/near/near_tier_options.hpp"
#include "rediscache/util/error_handler.hpp"
#include "rediscache/util/stats.hpp"

namespace rediscache {

/// How a cache refreshes hot entries before they expire.
enum class RefreshMode {
  /// Entries are reloaded only after they expire.
  kNone,
  /// Probabilistic early expiration (Vattani et al., VLDB 2015): a reader reloads early, in its own
  /// call, with a probability that grows as expiry nears and with the entry's measured load time.
  /// Other readers keep the current value.
  kXFetch,
  /// Once less than `threshold` of the TTL is left, a read schedules a reload on the cache's
  /// background executor and returns the current value at once.
  kThreshold,
};

/// How a cache's entries are stored in Redis.
enum class EntryFormat {
  /// The default: a 24-byte binary header (magic, format version, flags, logical expiry, load
  /// time, checksum; see src/cache/entry.hpp), then the codec's payload, zstd-compressed from
  /// `compress_above`. Carries what stale serving, XFetch, negative caching and the integrity
  /// check need; only rediscache can read it.
  kFramed,
  /// For a cache shared with services in other languages: the value in Redis is the codec's
  /// payload alone (JSON text with the default codec), expiry is the Redis TTL alone. Gives up
  /// stale serving (`stale_window` must be 0), refresh-ahead (`refresh.mode` must be kNone:
  /// XFetch needs the recorded load time and logical expiry), cached "not found"
  /// (`negative_ttl` must be unset), compression (`compress_above` must be unset) and the
  /// entry checksum (only a payload the codec rejects is caught). A value that does not decode
  /// is counted in `decode_errors`, reported, and treated as a miss whose load overwrites it;
  /// it is never deleted (see docs/cache-aside.md, "Sharing entries with other languages").
  kPlain,
};

/// Cross-process stampede protection: on a miss, one process takes a short Redis lock (a lease, SET
/// NX PX with a random token) and loads; the others poll for its value.
struct StampedeLockOptions {
  /// Off: every process that misses loads (in-process single flight still applies).
  bool enabled = true;
  /// Lifetime of the lock (PX). A load slower than this still returns its value but does not cache
  /// it, because an invalidation may have happened meanwhile. Positive.
  std::chrono::milliseconds ttl{10000};
  /// How long a process that did not get the lock waits for the holder's value before it loads by
  /// itself (and then returns without caching). Positive.
  std::chrono::milliseconds max_wait{3000};
  /// First pause between polls; doubles (with jitter) up to `max_backoff`. Positive.
  std::chrono::milliseconds initial_backoff{5};
  /// Longest pause between polls; at least `initial_backoff`.
  std::chrono::milliseconds max_backoff{100};
};

/// Refresh ahead of expiry.
struct RefreshOptions {
  RefreshMode mode = RefreshMode::kNone;
  /// XFetch's beta (> 0): above 1 refreshes earlier, below 1 later.
  double xfetch_beta = 1.0;
  /// kThreshold: refresh once less than this fraction of the TTL is left, in (0, 1).
  double threshold = 0.2;
  /// kThreshold: background refresh threads, 1..16, started with the cache and joined by its
  /// destructor (which waits for loads in progress and drops queued ones).
  std::size_t threads = 1;
  /// kThreshold: queued refreshes beyond this are dropped (and counted); at least 1.
  std::size_t max_queue = 64;
};

/// The circuit breaker in front of Redis: after `failure_threshold` consecutive failed Redis calls
/// it opens and reads skip Redis (straight to the loader) for `cool_down`; then one call probes
/// Redis (half-open) and closes the breaker on success or re-opens it on failure. A dead Redis then
/// costs one connect timeout per cool-down, not one per request.
struct BreakerOptions {
  bool enabled = true;
  /// Consecutive connection failures or timeouts that open the breaker; at least 1.
  std::uint32_t failure_threshold = 3;
  /// How long the breaker stays open before a probe. Positive.
  std::chrono::milliseconds cool_down{2000};
};

/// Tags on entries and invalidation by tag (CacheAside::invalidate_tag; docs/cache-aside.md).
/// Every cache that shares tags, in any process, uses the same namespace.
struct TagOptions {
  /// Where the tags' invalidation stamps and the tag clock live: keys "{<name_space>}:..."
  /// (one hash slot, so on a cluster all of them sit on one node). 1..128 bytes of
  /// [A-Za-z0-9_.:-].
  std::string name_space = "rediscache:tags";
  /// How many keys this cache remembers the tags of, so that a hit reads the entry and its
  /// tags' stamps in one round trip (a key it does not know costs one more, once).
  /// 1..16,777,216.
  std::size_t remembered_keys = 65536;
};

/// Auto-recovery of the invalidations Redis missed (CacheOptions::recovery; docs/cache-aside.md).
/// When invalidate(), invalidate_tag(s)(), invalidate_all() or set() cannot reach Redis (a
/// connection failure, a timeout, or the circuit breaker open), the invalidation is queued in
/// memory and the call returns WriteResult::kQueued instead of throwing; a failed set() is queued
/// as the invalidation of its entry (its value written late could overwrite a newer one). The
/// queue is replayed in order as soon as Redis answers again; until then, reads in this process
/// treat the entries concerned as misses. Error replies (NOPERM, ...) still throw.
struct RecoveryOptions {
  /// Off: those calls throw the Client's errors, as invalidate_now() always does.
  bool enabled = true;
  /// Operations kept at most (one per entry, tag or version bump: later requests on the same
  /// target replace earlier ones). A request past the bound is dropped, counted in
  /// `recovery_dropped` and reported. 1..16,777,216.
  std::size_t max_operations = 65536;
  /// Memory the queue may hold (ids, keys and tags plus about 160 bytes per operation).
  /// 1 KiB..1 GiB.
  std::size_t max_bytes = std::size_t{16} << 20;
  /// How often a replay is tried while operations are pending (besides right after any call of
  /// this cache reached Redis). The circuit breaker still gates each try. 1 ms..1 h.
  std::chrono::milliseconds retry_interval{250};
  /// How long the cache's destructor keeps trying to replay what is still pending; what is left
  /// then is counted in `recovery_dropped` and reported (never silent). 0..1 min.
  std::chrono::milliseconds drain_timeout{1000};
};

/// What became of an invalidation or set (see RecoveryOptions).
enum class WriteResult : std::uint8_t {
  kApplied,  ///< Redis has it.
  kQueued,   ///< Redis was unreachable: queued, replayed when Redis answers again.
};

/// Options of a CacheAside (and of the write policies built on it). Validated by the constructor:
/// std::invalid_argument naming the field ("CacheOptions::ttl").
struct REDISCACHE_EXPORT CacheOptions {
  /// The namespace: keys are "<name>:v<N>{:<id>}" (unless `key_layout` says otherwise).
  /// Characters [A-Za-z0-9_.-], 1..128 bytes.
  std::string name;
  /// Lifetime of an entry. Required and positive unless `allow_no_ttl` is set ("always set a TTL":
  /// an entry without one stays stale forever and fills memory).
  std::optional<std::chrono::milliseconds> ttl;
  /// Explicit opt-out: with no `ttl`, entries never expire. Refresh-ahead needs a ttl.
  bool allow_no_ttl = false;
  /// Each TTL is multiplied by a random factor in [1 - jitter, 1 + jitter], so keys written
  /// together do not expire together. In [0, 1).
  double ttl_jitter = 0.1;
  /// Lifetime of a cached "not found" (the loader returned nullopt), jittered too. Unset: "not
  /// found" is not cached. Positive when set.
  std::optional<std::chrono::milliseconds> negative_ttl = std::chrono::seconds(30);
  /// How long after its TTL an entry may still be served when the loader throws (fail-safe).
  /// Entries are kept in Redis for ttl + stale_window; readers treat them as expired after ttl.
  /// Zero: never serve stale. Not negative.
  std::chrono::milliseconds stale_window{0};
  /// Soft load timeout. On a miss that has an expired copy within `stale_window`, a caller that
  /// has waited this long for the loader (its own call, another thread's single flight, or
  /// another process's lease) gets that copy (counted in `soft_timeouts` and `stale_served`);
  /// the load goes on in the background and caches its result under its lease when it returns.
  /// Without a usable stale copy it does nothing (see load_hard_timeout). Zero: off. With either
  /// timeout set, misses load on the cache's background executor (see max_background_loads).
  /// Not negative, at most a year; below load_hard_timeout when both are set.
  std::chrono::milliseconds load_soft_timeout{0};
  /// Hard load timeout: no get_or_load / get_many waits longer than this for a load. At the
  /// bound the caller gets the expired copy within `stale_window` if there is one, else a
  /// LoadTimeout error (counted in `hard_timeouts`); the load goes on in the background and
  /// caches its result. Zero: off (callers wait for the loader, however long it takes). Not
  /// negative, at most a year.
  std::chrono::milliseconds load_hard_timeout{0};
  /// With a load timeout set: the threads of the cache's late-load executor, so the most loads
  /// that run at once in the background (each also holds its key's single flight, so one hung
  /// key holds one thread). A miss that finds them all busy waits for one, up to its own bound
  /// (then stale or LoadTimeout, counted in `background_loads_rejected`); with only a soft
  /// timeout and no stale copy it loads in its own thread instead. 1..64.
  std::size_t max_background_loads = 4;
  /// The longest TTL a loader may give an entry through LoadContext::set_ttl. Positive, at most
  /// a year.
  std::chrono::milliseconds max_ttl = std::chrono::hours(24 * 365);
  /// Largest entry (header + payload after compression) the cache will store, 1 B..512 MiB. A
  /// larger value is still returned by get_or_load (uncached, counted in `oversize`); `set` throws
  /// std::length_error.
  std::size_t max_value_bytes = std::size_t{1} << 20;
  /// Payloads of at least this many bytes are compressed with zstd (kept plain when that does not
  /// make them smaller). Unset: never compress. Plain and compressed entries coexist.
  std::optional<std::size_t> compress_above = std::size_t{1024};
  /// zstd level, 1..19.
  int compression_level = 3;
  /// Cross-process stampede lock.
  StampedeLockOptions lock;
  /// Refresh ahead of expiry.
  RefreshOptions refresh;
  /// Circuit breaker in front of Redis.
  BreakerOptions breaker;
  /// How long a namespace version is trusted before it is re-read (see KeySpace). Positive.
  std::chrono::milliseconds version_check_interval{1000};
  /// Wall clock for logical expiry, the stale window and XFetch (entries store absolute expiry
  /// times, so all instances need roughly synchronised clocks). Unset: system_clock::now. Tests
  /// inject a fake clock to move time without sleeping. Must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// Called (from any thread, including background ones) when the cache swallows an error it cannot
  /// report otherwise: Redis failures on reads, refresh-ahead loader failures, values too large to
  /// cache. `context` names the operation; messages never contain keys or values. Must not throw
  /// (exceptions are caught and dropped). Unset: errors are only counted.
  ErrorHandler on_error;
  /// An in-process tier in front of Redis for hot keys (see near_cache.hpp and docs/near-cache.md):
  /// get_or_load and get_many read it first (get_many then reads the rest with GET + PTTL in one
  /// pipeline instead of one MGET), and set / invalidate / invalidate_all drop the key in every
  /// instance. With no tracked prefixes, "<name>:v" is tracked. Unset: no near tier.
  std::optional<NearTierOptions> near_cache;
  /// How entries are stored: kFramed (default) or kPlain for other languages (see EntryFormat,
  /// which lists the options kPlain rejects).
  EntryFormat entry_format = EntryFormat::kFramed;
  /// The key of an entry as a template (see KeySpaceOptions::layout): "{id}" exactly once,
  /// "{version}" at most once, every other character literal ("user:{id}", "user:{{id}}" for a
  /// cluster hash tag). Without "{version}", invalidate_all() throws std::logic_error. It must
  /// start with literal text other than '{' and not produce keys under "<name>:". Unset:
  /// "<name>:v<N>{:<id>}".
  std::optional<std::string> key_layout;
  /// Tags on entries (LoadContext::set_tags, set(id, value, tags)) and invalidate_tag. Unset:
  /// no tags, and nothing of them is read or written. Needs EntryFormat::kFramed.
  std::optional<TagOptions> tags;
  /// Auto-recovery of invalidations Redis missed (on by default; see RecoveryOptions).
  RecoveryOptions recovery;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// A snapshot of a cache's counters and latencies (CacheAside::stats()).
struct CacheStats {
  // One std::uint64_t per entry of REDISCACHE_CACHE_COUNTERS (cache/detail/cache_counters.hpp),
  // which says what each counts: hits, negative_hits, misses, loads, load_errors, stale_served,
  // soft_timeouts, hard_timeouts, background_loads_rejected, stale_kept, stampede_waits,
  // lock_timeouts, lease_lost, refreshes, refresh_dropped, redis_errors,
  // breaker_opens, breaker_rejections, decode_errors, oversize, encode_errors, writes,
  // invalidations, tag_invalidations, tag_misses, recovery_queued, recovery_replayed,
  // recovery_dropped, bytes_read, bytes_written.
#define REDISCACHE_CACHE_STATS_FIELD(field, metric, help) std::uint64_t field = 0;
  REDISCACHE_CACHE_COUNTERS(REDISCACHE_CACHE_STATS_FIELD)
#undef REDISCACHE_CACHE_STATS_FIELD
  LatencySummary get_latency;    ///< Whole get_or_load / get_many calls.
  LatencySummary load_latency;   ///< Loader calls.
  LatencySummary write_latency;  ///< Round trips that write entries.
  NearCacheStats near;           ///< The near tier's counters (all zero without one).
  /// Invalidations waiting for Redis (RecoveryOptions), at the time of the snapshot.
  std::uint64_t recovery_pending = 0;
};

}  // namespace rediscache
