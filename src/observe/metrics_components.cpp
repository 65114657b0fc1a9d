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
  f.gauge("rediscache_cache_recovery_pending", "Invalidations waiting for Redis to answer",
          static_cast<double>(s.recovery_pending));
  f.summary("rediscache_cache_get_duration_seconds", "get_or_load and get_many calls",
            s.get_latency);
  f.summary("rediscache_cache_load_duration_seconds", "Loader calls", s.load_latency);
  f.summary("rediscache_cache_write_duration_seconds", "Round trips that write entries",
            s.write_latency);
}

void write_metrics(MetricsWriter& out, const WriteThroughStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
#define REDISCACHE_WRITE_THROUGH_METRIC(field, event, metric, help) \
  f.counter(metric, help, s.field);
  REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_WRITE_THROUGH_METRIC)
#undef REDISCACHE_WRITE_THROUGH_METRIC
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
#define REDISCACHE_WRITE_BEHIND_METRIC(field, metric, help) f.counter(metric, help, s.field);
  REDISCACHE_WRITE_BEHIND_COUNTERS(REDISCACHE_WRITE_BEHIND_METRIC)
#undef REDISCACHE_WRITE_BEHIND_METRIC
}

void write_metrics(MetricsWriter& out, const LockStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
#define REDISCACHE_LOCK_METRIC(field, metric, help) f.counter(metric, help, s.field);
  REDISCACHE_LOCK_COUNTERS(REDISCACHE_LOCK_METRIC)
#undef REDISCACHE_LOCK_METRIC
  f.summary("rediscache_lock_wait_seconds", "Time lock() spent before succeeding or giving up",
            s.wait);
}

void write_metrics(MetricsWriter& out, const RedlockStats& s, const MetricLabels& labels) {
  Figures f(out, labels);
#define REDISCACHE_REDLOCK_METRIC(field, metric, help) f.counter(metric, help, s.field);
  REDISCACHE_REDLOCK_COUNTERS(REDISCACHE_REDLOCK_METRIC)
#undef REDISCACHE_REDLOCK_METRIC
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
