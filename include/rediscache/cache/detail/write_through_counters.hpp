// The one list of WriteThrough's counters: each entry is (WriteThroughStats field,
// WriteThroughCore::Event enumerator, Prometheus metric name, metric help). WriteThroughStats's
// fields, the Event enum, the core's counters, count(), stats() and the metrics writer all expand
// it, so a new counter is one new line here.
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): an X-macro is the point
#define REDISCACHE_WRITE_THROUGH_COUNTERS(X)                                                   \
  /* write() calls whose writer succeeded. */                                                  \
  X(writes, kWrite, "rediscache_write_through_writes_total",                                   \
    "write() calls whose writer succeeded")                                                    \
  /* remove() calls whose remover succeeded. */                                                \
  X(removes, kRemove, "rediscache_write_through_removes_total",                                \
    "remove() calls whose remover succeeded")                                                  \
  /* Writer or remover calls that threw. */                                                    \
  X(writer_failures, kWriterFailure, "rediscache_write_through_writer_failures_total",         \
    "Writer or remover calls that threw")                                                      \
  /* Outcomes kCached. */                                                                      \
  X(cached, kCached, "rediscache_write_through_cached_total", "Writes whose value was cached") \
  /* Outcomes kInvalidated (and invalidations after failures). */                              \
  X(invalidated, kInvalidated, "rediscache_write_through_invalidated_total",                   \
    "Writes that invalidated the entry")                                                       \
  /* Outcomes kCacheFailed. */                                                                 \
  X(cache_failures, kCacheFailure, "rediscache_write_through_cache_failures_total",            \
    "Writes whose cache update failed")                                                        \
  /* Outcomes kQueued: Redis unreachable, the invalidation queued (RecoveryOptions). */        \
  X(queued, kQueued, "rediscache_write_through_queued_total",                                  \
    "Writes whose cache invalidation was queued for Redis")                                    \
  /* Writes that outlived lock_ttl (cache invalidated). */                                     \
  X(lock_lost, kLockLost, "rediscache_write_through_lock_lost_total",                          \
    "Writes that outlived the lock TTL")                                                       \
  /* Writes refused after waiting lock_wait. */                                                \
  X(lock_busy, kLockBusy, "rediscache_write_through_lock_busy_total",                          \
    "Writes refused after waiting for the lock")                                               \
  /* Writes done without the lock because Redis failed. */                                     \
  X(lock_unavailable, kLockUnavailable, "rediscache_write_through_lock_unavailable_total",     \
    "Writes done without the lock because Redis failed")
// NOLINTEND(cppcoreguidelines-macro-usage)
