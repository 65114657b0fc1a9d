// Metrics export: snapshots (pool, server, latency histograms, and any component's stats) are
// written through a MetricsWriter, which formats them as Prometheus text or as JSON. Exporters
// only format snapshots; they never reach into a live component.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rediscache/export.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/observe/server_stats.hpp"
#include "rediscache/util/stats.hpp"

namespace rediscache {

/// One label of a metric sample, such as {"pool", "sessions"}.
struct MetricLabel {
  std::string name;
  std::string value;
};
using MetricLabels = std::vector<MetricLabel>;

/// Where snapshots are written. A component makes its snapshot exportable by providing, in its
/// own namespace, a free function found by argument-dependent lookup:
///
///     void write_metrics(MetricsWriter& out, const MyStats& s, const MetricLabels& labels);
///
/// which calls `counter`, `gauge` and `summary` once per figure. Metric names follow Prometheus
/// conventions: `rediscache_<component>_<what>[_<unit>]`, counters end in `_total`, units are
/// seconds and bytes. Writing the same name twice with different labels adds a sample to the
/// same metric. Implementations are not thread-safe; use one writer per export.
class REDISCACHE_EXPORT MetricsWriter {
 public:
  MetricsWriter() = default;
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;
  virtual ~MetricsWriter() = default;

  /// A total that only grows (resets only when its owner restarts).
  virtual void counter(std::string_view name, std::string_view help, double value,
                       const MetricLabels& labels) = 0;
  /// A value that goes up and down (in use, depth, ratio).
  virtual void gauge(std::string_view name, std::string_view help, double value,
                     const MetricLabels& labels) = 0;
  /// A latency distribution: p50/p90/p99, count and sum in seconds, and the max as a gauge
  /// named `<name>_max`. `name` should end in `_seconds`.
  virtual void summary(std::string_view name, std::string_view help, const LatencySummary& latency,
                       const MetricLabels& labels) = 0;
};

/// Collects samples and renders the Prometheus text exposition format (version 0.0.4): one
/// `# HELP` and `# TYPE` per metric, its samples together, in first-written order. Throws
/// `std::invalid_argument` for a metric or label name Prometheus does not accept, or a name
/// first written with another type. Not thread-safe.
class REDISCACHE_EXPORT PrometheusWriter final : public MetricsWriter {
 public:
  PrometheusWriter();
  ~PrometheusWriter() override;

  void counter(std::string_view name, std::string_view help, double value,
               const MetricLabels& labels) override;
  void gauge(std::string_view name, std::string_view help, double value,
             const MetricLabels& labels) override;
  void summary(std::string_view name, std::string_view help, const LatencySummary& latency,
               const MetricLabels& labels) override;

  /// The exposition text, ending with a newline (empty when nothing was written). Serve it
  /// with `Content-Type: text/plain; version=0.0.4`.
  [[nodiscard]] std::string text() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, std::string_view type);
  std::vector<Family> families_;
};

/// Collects samples as JSON: an object keyed by metric name whose values are arrays of
/// samples, each `{"labels": {...}, "value": v}`, or for summaries `{"labels": {...}, "count",
/// "sum_seconds", "p50_seconds", "p90_seconds", "p99_seconds", "max_seconds"}`. Not
/// thread-safe.
class REDISCACHE_EXPORT JsonWriter final : public MetricsWriter {
 public:
  void counter(std::string_view name, std::string_view help, double value,
               const MetricLabels& labels) override;
  void gauge(std::string_view name, std::string_view help, double value,
             const MetricLabels& labels) override;
  void summary(std::string_view name, std::string_view help, const LatencySummary& latency,
               const MetricLabels& labels) override;

  [[nodiscard]] const nlohmann::json& json() const noexcept { return json_; }

 private:
  nlohmann::json json_ = nlohmann::json::object();
};

/// Pool figures: size, in use, idle (gauges); connections created, connect failures, discarded,
/// leases, waits, wait timeouts, wait seconds (counters); longest wait (gauge).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const PoolStats& stats,
                                     const MetricLabels& labels = {});
/// Server figures: hits, misses, evictions, expirations, commands, network bytes (counters);
/// hit ratio (when known), memory, maxmemory, clients, keys per db (gauges); and
/// `rediscache_server_info{version,role,maxmemory_policy} 1`.
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const ServerStats& stats,
                                     const MetricLabels& labels = {});

// The snapshots of the policies and helpers (declared in their own headers; the caller has the
// complete type from the component's `stats()`). Metric names: rediscache_cache_*,
// rediscache_write_through_*, rediscache_write_behind_*, rediscache_lock_*, rediscache_redlock_*,
// rediscache_rate_limiter_*, rediscache_session_*.
struct CacheStats;
struct WriteThroughStats;
struct WriteBehindStats;
struct LockStats;
struct RedlockStats;
struct RateLimiterStats;
struct SessionStats;

/// CacheAside: hits, negative hits, misses, loads, load errors, stale served, stampede waits,
/// Redis errors, breaker opens/rejections, invalidations queued/replayed/dropped while Redis was
/// unreachable, bytes read/written (counters); hit ratio (gauge, when there were reads),
/// invalidations pending (gauge); get, load and write latency (summaries).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const CacheStats& stats,
                                     const MetricLabels& labels = {});
/// WriteThrough: writes, removes, writer failures, outcomes, lock contention (counters).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const WriteThroughStats& stats,
                                     const MetricLabels& labels = {});
/// WriteBehind: queue depth, oldest pending age, dead-letter depth, flusher active (gauges);
/// enqueued, batches, written, coalesced, retries, writer failures, dead letters, ... (counters).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const WriteBehindStats& stats,
                                     const MetricLabels& labels = {});
/// DistributedLock: acquisitions, failed attempts (contention), timeouts, releases, extensions,
/// lost locks, errors (counters); wait time (summary).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const LockStats& stats,
                                     const MetricLabels& labels = {});
/// Redlock: acquisitions, failed rounds, server errors, releases (counters).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const RedlockStats& stats,
                                     const MetricLabels& labels = {});
/// Rate limiters: decisions allowed and denied (counters); check latency (summary).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const RateLimiterStats& stats,
                                     const MetricLabels& labels = {});
/// SessionStore: created, hits, misses, destroyed, regenerated (counters).
REDISCACHE_EXPORT void write_metrics(MetricsWriter& out, const SessionStats& stats,
                                     const MetricLabels& labels = {});

/// Renders one snapshot (anything with a `write_metrics` overload) as Prometheus text.
template <class Snapshot>
[[nodiscard]] std::string to_prometheus(const Snapshot& snapshot, const MetricLabels& labels = {}) {
  PrometheusWriter out;
  write_metrics(out, snapshot, labels);
  return out.text();
}

/// Renders one snapshot (anything with a `write_metrics` overload) as metrics JSON (see
/// JsonWriter).
template <class Snapshot>
[[nodiscard]] nlohmann::json to_metrics_json(const Snapshot& snapshot,
                                             const MetricLabels& labels = {}) {
  JsonWriter out;
  write_metrics(out, snapshot, labels);
  return out.json();
}

// nlohmann/json conversions (`nlohmann::json j = stats;`) of the snapshots, field by field with
// the struct's names; durations in seconds as numbers, an unknown hit rate as null.
REDISCACHE_EXPORT void to_json(nlohmann::json& j, const LatencySummary& s);
REDISCACHE_EXPORT void to_json(nlohmann::json& j, const PoolStats& s);
REDISCACHE_EXPORT void to_json(nlohmann::json& j, const KeyspaceStats& s);
REDISCACHE_EXPORT void to_json(nlohmann::json& j, const ServerStats& s);

}  // namespace rediscache
