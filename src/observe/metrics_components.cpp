// write_metrics overloads of the policies' and helpers' snapshots: names and help texts only;
// formatting belongs to the writers.
#include <cstdint>

#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/cache/write_through.hpp"
#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"
#include "rediscache/helpers/redlock.hpp"
#include "rediscache/helpers/session_store.hpp"
#include "rediscache/observe/metrics.hpp"

namespace rediscache {
namespace {

// Shorthands that keep each overload a readable list of figures.
class Figures {
 public:
  Figures(MetricsWriter& out, const MetricLabels& labels) : out_(out), labels_(labels) {}
  void counter(const char* name, const char* help, std::uint64_t value) {
    out_.counter(name, help, static_cast<double>(value), labels_);
  }
  void gauge(const char* name, const char* help, double value) {
    out_.gauge(name, help, value, labels_);
  }
  void summary(const char* name, const char* help, const LatencySummary& latency) {
    out_.summary(name, help, latency, labels_);
  }

 private:
  MetricsWriter& out_;
  const MetricLabels& labels_;
};

}  // namespace

void write_metrics(MetricsWriter& out, const CacheStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
#define REDISCACHE_CACHE_METRIC(field, metric, help) f.counter(metric, help, s.field);
  REDISCACHE_CACHE_COUNTERS(REDISCACHE_CACHE_METRIC)
#undef REDISCACHE_CACHE_METRIC
  const std::uint64_t reads = s.hits + s.negative_hits + s.misses;
  if (reads > 0) {
    f.gauge("rediscache_cache_hit_ratio", "(hits + negative hits) / reads",
            static_cast<double>(s.hits + s.negative_hits) / static_cast<double>(reads));
  }
  f.summary("rediscache_cache_get_duration_seconds", "get_or_load and get_many calls",
            s.get_latency);
  f.summary("rediscache_cache_load_duration_seconds", "Loader calls", s.load_latency);
  f.summary("rediscache_cache_write_duration_seconds", "Round trips that write entries",
            s.write_latency);
}

void write_metrics(MetricsWriter& out, const WriteThroughStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.counter("rediscache_write_through_writes_total", "write() calls whose writer succeeded",
            s.writes);
  f.counter("rediscache_write_through_removes_total", "remove() calls whose remover succeeded",
            s.removes);
  f.counter("rediscache_write_through_writer_failures_total", "Writer or remover calls that threw",
            s.writer_failures);
  f.counter("rediscache_write_through_cached_total", "Writes whose value was cached", s.cached);
  f.counter("rediscache_write_through_invalidated_total", "Writes that invalidated the entry",
            s.invalidated);
  f.counter("rediscache_write_through_cache_failures_total", "Writes whose cache update failed",
            s.cache_failures);
  f.counter("rediscache_write_through_lock_lost_total", "Writes that outlived the lock TTL",
            s.lock_lost);
  f.counter("rediscache_write_through_lock_busy_total", "Writes refused after waiting for the lock",
            s.lock_busy);
  f.counter("rediscache_write_through_lock_unavailable_total",
            "Writes done without the lock because Redis failed", s.lock_unavailable);
}

void write_metrics(MetricsWriter& out, const WriteBehindStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.gauge("rediscache_write_behind_queue_depth", "Entries waiting or being written",
          static_cast<double>(s.queue_depth));
  f.gauge("rediscache_write_behind_oldest_pending_seconds", "Age of the oldest queued entry",
          static_cast<double>(s.oldest_pending_age.count()) / 1000.0);
  f.gauge("rediscache_write_behind_dead_letter_depth", "Entries in the dead-letter stream",
          static_cast<double>(s.dead_letter_depth));
  f.gauge("rediscache_write_behind_flusher_active",
          "1 when this instance's flusher holds the lease", s.flusher_active ? 1 : 0);
  f.counter("rediscache_write_behind_enqueued_total", "write() and remove() calls queued",
            s.enqueued);
  f.counter("rediscache_write_behind_batches_total", "Successful batch writer calls", s.batches);
  f.counter("rediscache_write_behind_written_total", "Operations written by the writer", s.written);
  f.counter("rediscache_write_behind_coalesced_total",
            "Entries superseded by a later write of the same id", s.coalesced);
  f.counter("rediscache_write_behind_retries_total", "Failed batch writer calls retried",
            s.retries);
  f.counter("rediscache_write_behind_writer_failures_total", "Batch writer calls that threw",
            s.writer_failures);
  f.counter("rediscache_write_behind_dead_letters_total", "Entries moved to the dead-letter stream",
            s.dead_letters);
  f.counter("rediscache_write_behind_claimed_total", "Entries claimed from a stopped flusher",
            s.claimed);
  f.counter("rediscache_write_behind_replayed_total", "Dead letters put back into the queue",
            s.replayed);
  f.counter("rediscache_write_behind_redis_errors_total", "Redis failures of the flusher",
            s.redis_errors);
  f.counter("rediscache_write_behind_cache_errors_total", "Cache updates that failed",
            s.cache_errors);
}

void write_metrics(MetricsWriter& out, const LockStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.counter("rediscache_lock_acquisitions_total", "Successful acquisitions", s.acquisitions);
  f.counter("rediscache_lock_failed_attempts_total", "Attempts that found the lock held",
            s.failed_attempts);
  f.counter("rediscache_lock_timeouts_total", "lock() calls that gave up", s.timeouts);
  f.summary("rediscache_lock_wait_seconds", "Time lock() spent before succeeding or giving up",
            s.wait);
  f.counter("rediscache_lock_releases_total", "Releases of a lock we held", s.releases);
  f.counter("rediscache_lock_releases_not_held_total",
            "Releases that found the lock expired or taken", s.releases_not_held);
  f.counter("rediscache_lock_extensions_total", "Extensions of a lock we held", s.extensions);
  f.counter("rediscache_lock_extensions_not_held_total", "Extensions refused: not our lock",
            s.extensions_not_held);
  f.counter("rediscache_lock_lost_total", "Locks the watchdog found gone", s.lost);
  f.counter("rediscache_lock_errors_total", "I/O errors swallowed by destructors and the watchdog",
            s.errors);
}

void write_metrics(MetricsWriter& out, const RedlockStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.counter("rediscache_redlock_acquisitions_total", "Rounds that reached a quorum in time",
            s.acquisitions);
  f.counter("rediscache_redlock_failed_rounds_total", "Rounds without a quorum", s.failed_rounds);
  f.counter("rediscache_redlock_server_errors_total", "Per-server errors", s.server_errors);
  f.counter("rediscache_redlock_releases_total", "Releases on all servers", s.releases);
}

void write_metrics(MetricsWriter& out, const RateLimiterStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.counter("rediscache_rate_limiter_allowed_total", "Checks that returned allowed", s.allowed);
  f.counter("rediscache_rate_limiter_denied_total", "Checks that returned denied", s.denied);
  f.summary("rediscache_rate_limiter_check_duration_seconds", "Duration of check()", s.latency);
}

void write_metrics(MetricsWriter& out, const SessionStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
  f.counter("rediscache_session_created_total", "Sessions created", s.created);
  f.counter("rediscache_session_hits_total", "get() calls that found the session", s.hits);
  f.counter("rediscache_session_misses_total", "get() calls that found nothing", s.misses);
  f.counter("rediscache_session_destroyed_total", "Sessions destroyed", s.destroyed);
  f.counter("rediscache_session_regenerated_total", "Sessions moved to a new id", s.regenerated);
}

}  // namespace rediscache
