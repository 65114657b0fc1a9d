// The one list of CacheAside's counters: each entry is (CacheStats field, Prometheus metric name,
// metric help). CacheStats's fields, the cache's internal counters, CacheCore::stats() and the
// metrics writer all expand it, so a new counter is one new line here.
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): an X-macro is the point
#define REDISCACHE_CACHE_COUNTERS(X)                                                               \
  /* Reads served from Redis with a value. */                                                      \
  X(hits, "rediscache_cache_hits_total", "Reads served from Redis with a value")                   \
  /* Reads served from a cached "not found". */                                                    \
  X(negative_hits, "rediscache_cache_negative_hits_total",                                         \
    "Reads served from a cached \"not found\"")                                                    \
  /* Reads that found no usable entry. */                                                          \
  X(misses, "rediscache_cache_misses_total", "Reads that found no usable entry")                   \
  /* Loader calls (a batch loader call counts once). */                                            \
  X(loads, "rediscache_cache_loads_total", "Loader calls")                                         \
  /* Loader calls that threw. */                                                                   \
  X(load_errors, "rediscache_cache_load_errors_total", "Loader calls that threw")                  \
  /* Expired values served because the loader threw. */                                            \
  X(stale_served, "rediscache_cache_stale_served_total",                                           \
    "Expired values served because the loader threw")                                              \
  /* Reads that waited for another caller's load, in this process (single flight) or another       \
   * (lock). */                                                                                    \
  X(stampede_waits, "rediscache_cache_stampede_waits_total",                                       \
    "Reads that waited for another caller's load")                                                 \
  /* Reads that served a stale copy at load_soft_timeout while the load went on. */                \
  X(soft_timeouts, "rediscache_cache_soft_timeouts_total",                                         \
    "Reads served stale at the soft load timeout")                                                 \
  /* Reads that gave up at load_hard_timeout (stale copy or LoadTimeout). */                       \
  X(hard_timeouts, "rediscache_cache_hard_timeouts_total",                                         \
    "Reads that gave up at the hard load timeout")                                                 \
  /* Misses that found every background load slot busy (waited, or loaded inline). */              \
  X(background_loads_rejected, "rediscache_cache_background_loads_rejected_total",                 \
    "Misses that found every background load slot busy")                                           \
  /* Stale entries rewritten with a fresh TTL because the loader said keep_stale(). */             \
  X(stale_kept, "rediscache_cache_stale_kept_total",                                               \
    "Stale entries kept for another TTL by the loader")                                            \
  /* Waits for another process that gave up and loaded. */                                         \
  X(lock_timeouts, "rediscache_cache_lock_timeouts_total",                                         \
    "Waits for another process's load that gave up and loaded")                                    \
  /* Loaded values not cached: lock expired or invalidated. */                                     \
  X(lease_lost, "rediscache_cache_lease_lost_total",                                               \
    "Loaded values not cached because the lease was lost")                                         \
  /* Early refreshes started (XFetch or threshold). */                                             \
  X(refreshes, "rediscache_cache_refreshes_total", "Early refreshes started")                      \
  /* Threshold refreshes dropped (queue full, shut down). */                                       \
  X(refresh_dropped, "rediscache_cache_refresh_dropped_total", "Early refreshes dropped")          \
  /* Redis calls that failed. */                                                                   \
  X(redis_errors, "rediscache_cache_redis_errors_total", "Redis calls that failed")                \
  /* Times the circuit breaker opened. */                                                          \
  X(breaker_opens, "rediscache_cache_breaker_opens_total", "Times the circuit breaker opened")     \
  /* Redis calls skipped because the breaker was open. */                                          \
  X(breaker_rejections, "rediscache_cache_breaker_rejections_total",                               \
    "Redis calls skipped because the breaker was open")                                            \
  /* Entries that could not be decoded (deleted, missed). */                                       \
  X(decode_errors, "rediscache_cache_decode_errors_total", "Entries that could not be decoded")    \
  /* Values not cached because they exceed max_value_bytes. */                                     \
  X(oversize, "rediscache_cache_oversize_total", "Values not cached because too large")            \
  /* Values not cached because the codec's encode threw. */                                        \
  X(encode_errors, "rediscache_cache_encode_errors_total", "Values the codec could not encode")    \
  /* Entries written to Redis. */                                                                  \
  X(writes, "rediscache_cache_writes_total", "Entries written to Redis")                           \
  /* invalidate() and invalidate_all() calls that succeeded. */                                    \
  X(invalidations, "rediscache_cache_invalidations_total", "Successful invalidations")             \
  /* invalidate_tag() and invalidate_tags() calls that succeeded. */                               \
  X(tag_invalidations, "rediscache_cache_tag_invalidations_total", "Successful tag invalidations") \
  /* Entries read that a tag invalidation made a miss (or whose stamps could not be read). */      \
  X(tag_misses, "rediscache_cache_tag_misses_total", "Entries found invalidated by a tag")         \
  /* Invalidations (and failed sets) queued because Redis was unreachable (RecoveryOptions);       \
   * a request that replaced a pending one on the same target counts too. */                       \
  X(recovery_queued, "rediscache_cache_recovery_queued_total",                                     \
    "Invalidations queued while Redis was unreachable")                                            \
  /* Queued operations that reached Redis. */                                                      \
  X(recovery_replayed, "rediscache_cache_recovery_replayed_total",                                 \
    "Queued invalidations replayed to Redis")                                                      \
  /* Operations not queued (queue full) or never replayed (the cache was destroyed first, or       \
   * Redis refused them with an error reply): each is reported. */                                 \
  X(recovery_dropped, "rediscache_cache_recovery_dropped_total",                                   \
    "Invalidations Redis missed and that were dropped")                                            \
  /* Entry bytes read from Redis. */                                                               \
  X(bytes_read, "rediscache_cache_read_bytes_total", "Entry bytes read from Redis")                \
  /* Entry bytes written to Redis. */                                                              \
  X(bytes_written, "rediscache_cache_written_bytes_total", "Entry bytes written to Redis")
// NOLINTEND(cppcoreguidelines-macro-usage)
