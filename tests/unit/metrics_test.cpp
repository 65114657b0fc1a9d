// Unit tests of the metrics exporters: Prometheus text format, JSON, and the snapshot overloads.
#include "rediscache/observe/metrics.hpp"

#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace rediscache {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PrometheusWriter, Counter_RendersHelpTypeAndSample) {
  PrometheusWriter w;
  w.counter("rediscache_things_total", "Things seen", 42, {});
  EXPECT_EQ(w.text(),
            "# HELP rediscache_things_total Things seen\n"
            "# TYPE rediscache_things_total counter\n"
            "rediscache_things_total 42\n");
}

TEST(PrometheusWriter, SameNameTwice_SamplesGroupedUnderOneHeader) {
  PrometheusWriter w;
  w.gauge("rediscache_depth", "Depth", 1, {{"queue", "a"}});
  w.gauge("rediscache_other", "Other", 2.5, {});
  w.gauge("rediscache_depth", "Depth", 3, {{"queue", "b"}});
  EXPECT_EQ(w.text(),
            "# HELP rediscache_depth Depth\n"
            "# TYPE rediscache_depth gauge\n"
            "rediscache_depth{queue=\"a\"} 1\n"
            "rediscache_depth{queue=\"b\"} 3\n"
            "# HELP rediscache_other Other\n"
            "# TYPE rediscache_other gauge\n"
            "rediscache_other 2.5\n");
}

TEST(PrometheusWriter, LabelValueAndHelp_Escaped) {
  PrometheusWriter w;
  w.gauge("m", "line1\nback\\slash \"q\"", 1, {{"l", "a\"b\\c\nd"}});
  const std::string text = w.text();
  EXPECT_TRUE(contains(text, "# HELP m line1\\nback\\\\slash \"q\"\n")) << text;
  EXPECT_TRUE(contains(text, "m{l=\"a\\\"b\\\\c\\nd\"} 1\n")) << text;
}

TEST(PrometheusWriter, SpecialValues_PrometheusSyntax) {
  PrometheusWriter w;
  w.gauge("a", "", std::numeric_limits<double>::infinity(), {});
  w.gauge("b", "", std::numeric_limits<double>::quiet_NaN(), {});
  w.gauge("c", "", 0.25, {});
  w.gauge("d", "", 1e20, {});
  w.gauge("e", "", 95.0 / 100.0, {});
  w.gauge("f", "", 0.1 + 0.2, {});
  const std::string text = w.text();
  EXPECT_TRUE(contains(text, "a +Inf\n"));
  EXPECT_TRUE(contains(text, "b NaN\n"));
  EXPECT_TRUE(contains(text, "c 0.25\n"));
  EXPECT_TRUE(contains(text, "d 1e+20\n"));
  EXPECT_TRUE(contains(text, "e 0.95\n")) << text;
  EXPECT_TRUE(contains(text, "f 0.30000000000000004\n")) << text;  // needs 17 digits
}

TEST(PrometheusWriter, InvalidNames_Throw) {
  PrometheusWriter w;
  EXPECT_THROW(w.gauge("bad-name", "", 1, {}), std::invalid_argument);
  EXPECT_THROW(w.gauge("9lives", "", 1, {}), std::invalid_argument);
  EXPECT_THROW(w.gauge("ok", "", 1, {{"bad label", "x"}}), std::invalid_argument);
  EXPECT_THROW(w.gauge("ok2", "", 1, {{"__reserved", "x"}}), std::invalid_argument);
  w.gauge("typed", "", 1, {});
  EXPECT_THROW(w.counter("typed", "", 1, {}), std::invalid_argument);
}

TEST(PrometheusWriter, Summary_QuantilesSumCountInSecondsAndMaxGauge) {
  LatencyHistogram h;
  for (int i = 0; i < 100; ++i) h.record(microseconds(100));
  PrometheusWriter w;
  w.summary("rediscache_get_duration_seconds", "GET latency", h.summary(), {{"cache", "users"}});
  const std::string text = w.text();
  EXPECT_TRUE(contains(text, "# TYPE rediscache_get_duration_seconds summary\n")) << text;
  EXPECT_TRUE(
      contains(text, "rediscache_get_duration_seconds{cache=\"users\",quantile=\"0.5\"} 0.0001"))
      << text;
  EXPECT_TRUE(contains(text, "rediscache_get_duration_seconds{cache=\"users\",quantile=\"0.99\"}"));
  EXPECT_TRUE(contains(text, "rediscache_get_duration_seconds_sum{cache=\"users\"} 0.01"));
  EXPECT_TRUE(contains(text, "rediscache_get_duration_seconds_count{cache=\"users\"} 100\n"));
  EXPECT_TRUE(contains(text, "# TYPE rediscache_get_duration_seconds_max gauge\n"));
  EXPECT_TRUE(contains(text, "rediscache_get_duration_seconds_max{cache=\"users\"} 0.0001\n"));
}

TEST(PrometheusWriter, NothingWritten_EmptyText) { EXPECT_EQ(PrometheusWriter().text(), ""); }

TEST(MetricsExport, PoolStats_EveryFigureExported) {
  PoolStats s;
  s.size = 8;
  s.in_use = 2;
  s.idle = 3;
  s.created = 5;
  s.leases = 1000;
  s.waits = 4;
  s.wait_time_total = milliseconds(1500);
  s.wait_time_max = milliseconds(20);
  s.multiplexed_requests = 900;
  s.multiplexed_writes = 60;
  const std::string text = to_prometheus(s, {{"pool", "main"}});
  EXPECT_TRUE(contains(text, "rediscache_pool_size{pool=\"main\"} 8\n")) << text;
  EXPECT_TRUE(contains(text, "rediscache_pool_connections_in_use{pool=\"main\"} 2\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_connections_idle{pool=\"main\"} 3\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_leases_total{pool=\"main\"} 1000\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_lease_waits_total{pool=\"main\"} 4\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_lease_wait_seconds_total{pool=\"main\"} 1.5\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_lease_wait_seconds_max{pool=\"main\"} 0.02"));
  EXPECT_TRUE(contains(text, "rediscache_pool_multiplexed_requests_total{pool=\"main\"} 900\n"));
  EXPECT_TRUE(contains(text, "rediscache_pool_multiplexed_writes_total{pool=\"main\"} 60\n"));

  const nlohmann::json j = s;
  EXPECT_EQ(j["leases"], 1000);
  EXPECT_EQ(j["multiplexed_requests"], 900);
  EXPECT_EQ(j["multiplexed_writes"], 60);
  EXPECT_DOUBLE_EQ(j["wait_time_total_seconds"].get<double>(), 1.5);
}

TEST(MetricsExport, ServerStats_PrometheusAndJson) {
  ServerStats s;
  s.redis_version = "7.0.15";
  s.role = "master";
  s.maxmemory_policy = "allkeys-lru";
  s.keyspace_hits = 90;
  s.keyspace_misses = 10;
  s.hit_rate = 0.9;
  s.used_memory = 1024;
  s.keyspace = {{0, 10, 4, 0}, {3, 1, 0, 0}};
  const std::string text = to_prometheus(s);
  EXPECT_TRUE(contains(text,
                       "rediscache_server_info{version=\"7.0.15\",role=\"master\","
                       "maxmemory_policy=\"allkeys-lru\"} 1\n"))
      << text;
  EXPECT_TRUE(contains(text, "rediscache_server_keyspace_hits_total 90\n"));
  EXPECT_TRUE(contains(text, "rediscache_server_hit_ratio 0.9"));
  EXPECT_TRUE(contains(text, "rediscache_server_used_memory_bytes 1024\n"));
  EXPECT_TRUE(contains(text, "rediscache_server_keys{db=\"0\"} 10\n"));
  EXPECT_TRUE(contains(text, "rediscache_server_keys{db=\"3\"} 1\n"));
  EXPECT_TRUE(contains(text, "rediscache_server_keys_with_expiry{db=\"0\"} 4\n"));

  nlohmann::json j = s;
  EXPECT_EQ(j["keyspace_hits"], 90);
  EXPECT_DOUBLE_EQ(j["hit_rate"].get<double>(), 0.9);
  EXPECT_EQ(j["keyspace"][1]["db"], 3);
  s.hit_rate.reset();
  j = s;
  EXPECT_TRUE(j["hit_rate"].is_null());
}

TEST(MetricsExport, ServerStats_UnknownHitRate_NoRatioSample) {
  const std::string text = to_prometheus(ServerStats{});
  EXPECT_FALSE(contains(text, "hit_ratio"));
}

TEST(JsonWriter, Samples_KeyedByNameWithLabels) {
  JsonWriter w;
  w.counter("rediscache_x_total", "X", 3, {{"a", "1"}});
  w.counter("rediscache_x_total", "X", 4, {{"a", "2"}});
  LatencyHistogram h;
  h.record(milliseconds(2));
  w.summary("rediscache_load_seconds", "Load", h.summary(), {});
  const nlohmann::json& j = w.json();
  ASSERT_EQ(j["rediscache_x_total"].size(), 2U);
  EXPECT_EQ(j["rediscache_x_total"][1]["labels"]["a"], "2");
  EXPECT_EQ(j["rediscache_x_total"][1]["value"], 4);
  EXPECT_EQ(j["rediscache_load_seconds"][0]["count"], 1);
  EXPECT_DOUBLE_EQ(j["rediscache_load_seconds"][0]["max_seconds"].get<double>(), 0.002);
}

// A component outside this library makes its snapshot exportable with one overload.
struct QueueStats {
  std::uint64_t depth = 0;
  std::uint64_t dropped = 0;
};
void write_metrics(MetricsWriter& out, const QueueStats& s, const MetricLabels& labels) {
  out.gauge("app_queue_depth", "Items waiting", static_cast<double>(s.depth), labels);
  out.counter("app_queue_dropped_total", "Items dropped", static_cast<double>(s.dropped), labels);
}

TEST(MetricsExport, UserSnapshot_ExportedThroughOverload) {
  const QueueStats q{7, 1};
  EXPECT_TRUE(contains(to_prometheus(q), "app_queue_depth 7\n"));
  EXPECT_EQ(to_metrics_json(q)["app_queue_dropped_total"][0]["value"], 1);
}

}  // namespace
}  // namespace rediscache
