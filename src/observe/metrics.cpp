// Prometheus text and JSON writers, and the write_metrics overloads of the snapshots this
// layer owns (pool and server).
#include "rediscache/observe/metrics.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace rediscache {
namespace {

double seconds(std::chrono::nanoseconds ns) { return static_cast<double>(ns.count()) / 1e9; }

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;  // "__" is reserved
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Prometheus float syntax; integral values (the common case for counters) print exactly.
std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {  // 2^53
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // The shortest of 15 or 17 digits that reads back as the same double: "0.95", not
    // "0.94999999999999996".
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_set(const MetricLabels& labels, const MetricLabel* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](const MetricLabel& l) {
    if (!valid_label_name(l.name)) {
      throw std::invalid_argument("invalid Prometheus label name: " + l.name);
    }
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    out += escape(l.value, true);
    out += '"';
  };
  for (const auto& l : labels) add(l);
  if (extra != nullptr) add(*extra);
  out += '}';
  return out;
}

nlohmann::json labels_json(const MetricLabels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& l : labels) out[l.name] = l.value;
  return out;
}

MetricLabels with(const MetricLabels& labels, const char* name, std::string value) {
  MetricLabels out = labels;
  out.push_back({name, std::move(value)});
  return out;
}

}  // namespace

// --- PrometheusWriter ----------------------------------------------------------------------

struct PrometheusWriter::Family {
  std::string name;
  std::string type;
  std::string help;
  std::string samples;  // rendered sample lines
};

PrometheusWriter::PrometheusWriter() = default;
PrometheusWriter::~PrometheusWriter() = default;

PrometheusWriter::Family& PrometheusWriter::family(std::string_view name, std::string_view help,
                                                   std::string_view type) {
  // A linear search: an export holds tens of families, and keeping first-written order makes
  // the output stable and readable.
  for (auto& f : families_) {
    if (f.name == name) {
      if (f.type != type) {
        throw std::invalid_argument("metric " + f.name + " written as " + f.type + " and as " +
                                    std::string(type));
      }
      return f;
    }
  }
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("invalid Prometheus metric name: " + std::string(name));
  }
  families_.push_back({std::string(name), std::string(type), escape(help, false), {}});
  return families_.back();
}

void PrometheusWriter::counter(std::string_view name, std::string_view help, double value,
                               const MetricLabels& labels) {
  Family& f = family(name, help, "counter");
  f.samples += f.name + label_set(labels) + ' ' + format_value(value) + '\n';
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, double value,
                             const MetricLabels& labels) {
  Family& f = family(name, help, "gauge");
  f.samples += f.name + label_set(labels) + ' ' + format_value(value) + '\n';
}

void PrometheusWriter::summary(std::string_view name, std::string_view help,
                               const LatencySummary& latency, const MetricLabels& labels) {
  Family& f = family(name, help, "summary");
  const std::pair<const char*, std::chrono::nanoseconds> quantiles[] = {
      {"0.5", latency.p50}, {"0.9", latency.p90}, {"0.99", latency.p99}};
  for (const auto& [q, value] : quantiles) {
    const MetricLabel quantile{"quantile", q};
    f.samples += f.name + label_set(labels, &quantile) + ' ' + format_value(seconds(value)) + '\n';
  }
  const std::string set = label_set(labels);
  f.samples += f.name + "_sum" + set + ' ' + format_value(seconds(latency.sum)) + '\n';
  f.samples +=
      f.name + "_count" + set + ' ' + format_value(static_cast<double>(latency.count)) + '\n';
  // Prometheus summaries have no max; it goes out as a gauge of its own (Micrometer's naming).
  gauge(std::string(name) + "_max", std::string(help) + " (largest observed)", seconds(latency.max),
        labels);
}

std::string PrometheusWriter::text() const {
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + ' ' + f.help + '\n';
    out += "# TYPE " + f.name + ' ' + f.type + '\n';
    out += f.samples;
  }
  return out;
}

// --- JsonWriter ----------------------------------------------------------------------------

void JsonWriter::counter(std::string_view name, std::string_view /*help*/, double value,
                         const MetricLabels& labels) {
  json_[std::string(name)].push_back({{"labels", labels_json(labels)}, {"value", value}});
}

void JsonWriter::gauge(std::string_view name, std::string_view help, double value,
                       const MetricLabels& labels) {
  counter(name, help, value, labels);
}

void JsonWriter::summary(std::string_view name, std::string_view /*help*/,
                         const LatencySummary& latency, const MetricLabels& labels) {
  nlohmann::json sample = latency;
  sample["labels"] = labels_json(labels);
  json_[std::string(name)].push_back(std::move(sample));
}

// --- Snapshots owned by this layer ---------------------------------------------------------

void write_metrics(MetricsWriter& out, const PoolStats& s, const MetricLabels& labels) {
  auto d = [](auto v) { return static_cast<double>(v); };
  out.gauge("rediscache_pool_size", "Most connections the pool may hold", d(s.size), labels);
  out.gauge("rediscache_pool_connections_in_use", "Connections leased right now", d(s.in_use),
            labels);
  out.gauge("rediscache_pool_connections_idle", "Open connections waiting in the pool", d(s.idle),
            labels);
  out.counter("rediscache_pool_connections_created_total", "Connections opened successfully",
              d(s.created), labels);
  out.counter("rediscache_pool_connect_failures_total", "Connect attempts that failed",
              d(s.connect_failures), labels);
  out.counter("rediscache_pool_connections_discarded_total",
              "Connections dropped because broken, expired or found dead", d(s.discarded), labels);
  out.counter("rediscache_pool_leases_total", "Successful leases", d(s.leases), labels);
  out.counter("rediscache_pool_lease_waits_total", "Leases that had to wait for a connection",
              d(s.waits), labels);
  out.counter("rediscache_pool_lease_wait_timeouts_total",
              "Leases that gave up waiting (PoolExhausted)", d(s.wait_timeouts), labels);
  out.counter("rediscache_pool_lease_wait_seconds_total", "Time spent waiting for a connection",
              seconds(s.wait_time_total), labels);
  out.gauge("rediscache_pool_lease_wait_seconds_max", "Longest single wait for a connection",
            seconds(s.wait_time_max), labels);
  out.counter("rediscache_pool_multiplexed_requests_total",
              "Commands or pipelines sent on the shared connection (PoolOptions::multiplex)",
              d(s.multiplexed_requests), labels);
  out.counter("rediscache_pool_multiplexed_writes_total",
              "Writes that sent them (requests / writes: commands per write)",
              d(s.multiplexed_writes), labels);
}

void write_metrics(MetricsWriter& out, const ServerStats& s, const MetricLabels& labels) {
  auto d = [](auto v) { return static_cast<double>(v); };
  out.gauge("rediscache_server_info", "Server version, role and eviction policy (always 1)", 1,
            with(with(with(labels, "version", s.redis_version), "role", s.role), "maxmemory_policy",
                 s.maxmemory_policy));
  out.gauge("rediscache_server_uptime_seconds", "Seconds since the server started",
            d(s.uptime_seconds), labels);
  out.counter("rediscache_server_keyspace_hits_total", "Successful key lookups", d(s.keyspace_hits),
              labels);
  out.counter("rediscache_server_keyspace_misses_total", "Lookups of keys that did not exist",
              d(s.keyspace_misses), labels);
  if (s.hit_rate) {
    out.gauge("rediscache_server_hit_ratio", "keyspace_hits / (keyspace_hits + keyspace_misses)",
              *s.hit_rate, labels);
  }
  out.counter("rediscache_server_evicted_keys_total", "Keys evicted because of maxmemory",
              d(s.evicted_keys), labels);
  out.counter("rediscache_server_expired_keys_total", "Keys removed because their TTL ran out",
              d(s.expired_keys), labels);
  out.gauge("rediscache_server_used_memory_bytes", "Bytes allocated by the server",
            d(s.used_memory), labels);
  out.gauge("rediscache_server_maxmemory_bytes", "Configured memory limit (0: none)",
            d(s.maxmemory), labels);
  out.gauge("rediscache_server_connected_clients", "Client connections", d(s.connected_clients),
            labels);
  out.gauge("rediscache_server_blocked_clients", "Clients waiting in a blocking command",
            d(s.blocked_clients), labels);
  out.counter("rediscache_server_rejected_connections_total",
              "Connections refused because of maxclients", d(s.rejected_connections), labels);
  out.counter("rediscache_server_commands_processed_total", "Commands processed",
              d(s.total_commands_processed), labels);
  out.counter("rediscache_server_net_input_bytes_total", "Bytes received",
              d(s.total_net_input_bytes), labels);
  out.counter("rediscache_server_net_output_bytes_total", "Bytes sent", d(s.total_net_output_bytes),
              labels);
  for (const auto& db : s.keyspace) {
    const MetricLabels db_labels = with(labels, "db", std::to_string(db.db));
    out.gauge("rediscache_server_keys", "Keys in the database", d(db.keys), db_labels);
    out.gauge("rediscache_server_keys_with_expiry", "Keys with a TTL in the database",
              d(db.expires), db_labels);
  }
}

// --- nlohmann/json conversions -------------------------------------------------------------

void to_json(nlohmann::json& j, const LatencySummary& s) {
  j = {{"count", s.count},
       {"sum_seconds", seconds(s.sum)},
       {"p50_seconds", seconds(s.p50)},
       {"p90_seconds", seconds(s.p90)},
       {"p99_seconds", seconds(s.p99)},
       {"max_seconds", seconds(s.max)}};
}

void to_json(nlohmann::json& j, const PoolStats& s) {
  j = {{"size", s.size},
       {"in_use", s.in_use},
       {"idle", s.idle},
       {"created", s.created},
       {"connect_failures", s.connect_failures},
       {"discarded", s.discarded},
       {"leases", s.leases},
       {"waits", s.waits},
       {"wait_timeouts", s.wait_timeouts},
       {"wait_time_total_seconds", seconds(s.wait_time_total)},
       {"wait_time_max_seconds", seconds(s.wait_time_max)},
       {"multiplexed_requests", s.multiplexed_requests},
       {"multiplexed_writes", s.multiplexed_writes}};
}

void to_json(nlohmann::json& j, const KeyspaceStats& s) {
  j = {{"db", s.db}, {"keys", s.keys}, {"expires", s.expires}, {"avg_ttl_ms", s.avg_ttl_ms}};
}

void to_json(nlohmann::json& j, const ServerStats& s) {
  j = {{"redis_version", s.redis_version},
       {"role", s.role},
       {"uptime_seconds", s.uptime_seconds},
       {"keyspace_hits", s.keyspace_hits},
       {"keyspace_misses", s.keyspace_misses},
       {"hit_rate", s.hit_rate ? nlohmann::json(*s.hit_rate) : nlohmann::json(nullptr)},
       {"evicted_keys", s.evicted_keys},
       {"expired_keys", s.expired_keys},
       {"used_memory", s.used_memory},
       {"maxmemory", s.maxmemory},
       {"maxmemory_policy", s.maxmemory_policy},
       {"connected_clients", s.connected_clients},
       {"blocked_clients", s.blocked_clients},
       {"rejected_connections", s.rejected_connections},
       {"total_commands_processed", s.total_commands_processed},
       {"total_net_input_bytes", s.total_net_input_bytes},
       {"total_net_output_bytes", s.total_net_output_bytes},
       {"keyspace", s.keyspace}};
}

}  // namespace rediscache
