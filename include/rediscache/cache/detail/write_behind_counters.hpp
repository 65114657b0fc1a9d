// The one list of WriteBehind's per-instance counters: each entry is (WriteBehindStats field,
// Prometheus metric name, metric help). WriteBehindStats's counter fields, the queue's internal
// counters, stats() and the metrics writer all expand it, so a new counter is one new line here.
// The queue-wide gauges (queue_depth, oldest_pending_age, dead_letter_depth, flusher_active) are
// read from Redis and stay hand-written.
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): an X-macro is the point
#define REDISCACHE_WRITE_BEHIND_COUNTERS(X)                                                      \
  /* write() and remove() calls queued. */                                                       \
  X(enqueued, "rediscache_write_behind_enqueued_total", "write() and remove() calls queued")     \
  /* Successful batch writer calls (splits count each call). */                                  \
  X(batches, "rediscache_write_behind_batches_total", "Successful batch writer calls")           \
  /* Operations written by successful writer calls. */                                           \
  X(written, "rediscache_write_behind_written_total", "Operations written by the writer")        \
  /* Entries superseded by a later write of the same id. */                                      \
  X(coalesced, "rediscache_write_behind_coalesced_total",                                        \
    "Entries superseded by a later write of the same id")                                        \
  /* Failed batch writer calls that were retried. */                                             \
  X(retries, "rediscache_write_behind_retries_total", "Failed batch writer calls retried")       \
  /* Batch writer calls that threw. */                                                           \
  X(writer_failures, "rediscache_write_behind_writer_failures_total",                            \
    "Batch writer calls that threw")                                                             \
  /* Entries this instance moved to the dead-letter stream. */                                   \
  X(dead_letters, "rediscache_write_behind_dead_letters_total",                                  \
    "Entries moved to the dead-letter stream")                                                   \
  /* Entries claimed from a flusher that stopped. */                                             \
  X(claimed, "rediscache_write_behind_claimed_total", "Entries claimed from a stopped flusher")  \
  /* Dead letters put back into the queue. */                                                    \
  X(replayed, "rediscache_write_behind_replayed_total", "Dead letters put back into the queue")  \
  /* Redis failures of the flusher (it retries). */                                              \
  X(redis_errors, "rediscache_write_behind_redis_errors_total", "Redis failures of the flusher") \
  /* Cache updates of write()/remove() that failed. */                                           \
  X(cache_errors, "rediscache_write_behind_cache_errors_total", "Cache updates that failed")
// NOLINTEND(cppcoreguidelines-macro-usage)
