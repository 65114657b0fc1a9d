// Unit tests of the write_metrics overloads of the policies' and helpers' snapshots.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

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

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ComponentMetrics, CacheStats_CountersRatioAndLatencySummaries) {
  CacheStats s;
  s.hits = 90;
  s.negative_hits = 5;
  s.misses = 5;
  s.loads = 5;
  s.stampede_waits = 2;
  s.breaker_opens = 1;
  s.bytes_read = 4096;
  s.recovery_queued = 3;
  s.recovery_pending = 2;
  LatencyHistogram h;
  for (int i = 0; i < 10; ++i) h.record(std::chrono::microseconds(50));
  s.get_latency = h.summary();
  const std::string text = to_prometheus(s, {{"cache", "users"}});
  EXPECT_TRUE(contains(text, "rediscache_cache_hits_total{cache=\"users\"} 90\n")) << text;
  EXPECT_TRUE(contains(text, "rediscache_cache_misses_total{cache=\"users\"} 5\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_stampede_waits_total{cache=\"users\"} 2\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_breaker_opens_total{cache=\"users\"} 1\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_read_bytes_total{cache=\"users\"} 4096\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_hit_ratio{cache=\"users\"} 0.95"));
  EXPECT_TRUE(contains(text, "rediscache_cache_recovery_queued_total{cache=\"users\"} 3\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_recovery_pending{cache=\"users\"} 2\n"));
  EXPECT_TRUE(contains(text, "# TYPE rediscache_cache_get_duration_seconds summary\n"));
  EXPECT_TRUE(contains(text, "rediscache_cache_get_duration_seconds_count{cache=\"users\"} 10\n"));
  EXPECT_TRUE(contains(text, "# TYPE rediscache_cache_load_duration_seconds summary\n"));
  EXPECT_TRUE(contains(text, "# TYPE rediscache_cache_write_duration_seconds summary\n"));

  EXPECT_FALSE(contains(to_prometheus(CacheStats{}), "hit_ratio")) << "no reads, no ratio";
}

TEST(ComponentMetrics, WritePolicies_QueueGaugesAndCounters) {
  WriteBehindStats wb;
  wb.queue_depth = 12;
  wb.oldest_pending_age = std::chrono::milliseconds(1500);
  wb.retries = 3;
  wb.dead_letters = 1;
  wb.flusher_active = true;
  const std::string text = to_prometheus(wb);
  EXPECT_TRUE(contains(text, "rediscache_write_behind_queue_depth 12\n")) << text;
  EXPECT_TRUE(contains(text, "rediscache_write_behind_oldest_pending_seconds 1.5\n"));
  EXPECT_TRUE(contains(text, "rediscache_write_behind_retries_total 3\n"));
  EXPECT_TRUE(contains(text, "rediscache_write_behind_dead_letters_total 1\n"));
  EXPECT_TRUE(contains(text, "rediscache_write_behind_flusher_active 1\n"));

  WriteThroughStats wt;
  wt.writes = 7;
  wt.lock_busy = 2;
  const std::string wt_text = to_prometheus(wt);
  EXPECT_TRUE(contains(wt_text, "rediscache_write_through_writes_total 7\n")) << wt_text;
  EXPECT_TRUE(contains(wt_text, "rediscache_write_through_lock_busy_total 2\n"));
}

TEST(ComponentMetrics, Helpers_LockRateLimiterRedlockSessions) {
  LockStats lock;
  lock.acquisitions = 4;
  lock.failed_attempts = 9;
  lock.lost = 1;
  const std::string lock_text = to_prometheus(lock, {{"lock", "reports"}});
  EXPECT_TRUE(contains(lock_text, "rediscache_lock_acquisitions_total{lock=\"reports\"} 4\n"));
  EXPECT_TRUE(contains(lock_text, "rediscache_lock_failed_attempts_total{lock=\"reports\"} 9\n"));
  EXPECT_TRUE(contains(lock_text, "rediscache_lock_lost_total{lock=\"reports\"} 1\n"));
  EXPECT_TRUE(contains(lock_text, "# TYPE rediscache_lock_wait_seconds summary\n"));

  RateLimiterStats rl;
  rl.allowed = 100;
  rl.denied = 3;
  const nlohmann::json j = to_metrics_json(rl);
  EXPECT_EQ(j["rediscache_rate_limiter_allowed_total"][0]["value"], 100);
  EXPECT_EQ(j["rediscache_rate_limiter_denied_total"][0]["value"], 3);
  EXPECT_TRUE(j.contains("rediscache_rate_limiter_check_duration_seconds"));

  RedlockStats redlock;
  redlock.failed_rounds = 2;
  EXPECT_TRUE(contains(to_prometheus(redlock), "rediscache_redlock_failed_rounds_total 2\n"));

  SessionStats sessions;
  sessions.hits = 8;
  EXPECT_TRUE(contains(to_prometheus(sessions), "rediscache_session_hits_total 8\n"));
}

TEST(ComponentMetrics, SeveralSnapshotsInOneExport_OneHeaderPerMetric) {
  PrometheusWriter out;
  CacheStats users;
  users.hits = 1;
  CacheStats orders;
  orders.hits = 2;
  write_metrics(out, users, {{"cache", "users"}});
  write_metrics(out, orders, {{"cache", "orders"}});
  const std::string text = out.text();
  const std::string header = "# TYPE rediscache_cache_hits_total counter\n";
  ASSERT_TRUE(contains(text, header));
  EXPECT_EQ(text.find(header), text.rfind(header)) << "one TYPE line per metric";
  EXPECT_TRUE(contains(text,
                       "rediscache_cache_hits_total{cache=\"users\"} 1\n"
                       "rediscache_cache_hits_total{cache=\"orders\"} 2\n"))
      << text;
}

}  // namespace
}  // namespace rediscache
