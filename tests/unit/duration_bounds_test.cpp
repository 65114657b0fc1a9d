// Every duration option and argument has an upper bound that Redis and the clocks can represent
// (util/validation.hpp): max(), max()/2 and one tick past the bound throw std::invalid_argument
// naming the field; the bound itself is accepted. No server is needed: options are validated
// before anything is sent (the client below points at a port with no server, and a call that
// passes validation then fails with an IoError, which counts as "accepted").
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/cache/write_through.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"
#include "rediscache/helpers/redlock.hpp"
#include "rediscache/helpers/session_store.hpp"
#include "rediscache/near/invalidation.hpp"
#include "rediscache/near/near_cache.hpp"
#include "rediscache/recipes/daily_active_users.hpp"
#include "rediscache/recipes/daily_counter.hpp"
#include "rediscache/recipes/leaderboard.hpp"
#include "rediscache/recipes/reliable_queue.hpp"
#include "rediscache/recipes/timeline.hpp"
#include "rediscache/recipes/unique_visitors.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/topology/sentinel.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::detail::kMaxDuration;
using rediscache::detail::kMaxRetention;
using std::chrono::milliseconds;
using std::chrono::seconds;

Client unused_client() {
  rediscache::ConnectionOptions options;
  options.port = 1;  // never answers: calls that pass validation end in IoError
  options.connect_timeout = 200ms;
  return Client(options);
}

// "accepted", or the message of the std::invalid_argument that `f` throws. Errors from the
// (absent) server mean validation passed.
std::string outcome(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (const rediscache::Error&) {
  }
  return "accepted";
}

// Sweeps one duration of type D: max(), max()/2, one tick past `bound` are rejected naming
// `field`; `bound` is accepted.
template <class D>
void sweep(const std::string& field, D bound, const std::function<void(D)>& apply) {
  SCOPED_TRACE(field);
  for (const D bad : {D::max(), D::max() / 2, bound + D(1)}) {
    const std::string message = outcome([&] { apply(bad); });
    EXPECT_EQ(message.rfind(field, 0), 0u) << "for " << bad.count() << ": " << message;
  }
  EXPECT_EQ(outcome([&] { apply(bound); }), "accepted");
}

void sweep_ms(const std::string& field, const std::function<void(milliseconds)>& apply) {
  sweep<milliseconds>(field, kMaxDuration, apply);
}

const seconds kMaxDurationS = std::chrono::duration_cast<seconds>(kMaxDuration);

TEST(DurationBounds, Validation_BoundIsOneYear) {
  EXPECT_EQ(kMaxDuration, std::chrono::hours(24 * 365));
  EXPECT_EQ(kMaxRetention, std::chrono::hours(24 * 3650));
}

TEST(DurationBounds, CacheOptions_EveryDuration_BoundedAndNamed) {
  const auto base = [] {
    rediscache::CacheOptions o;
    o.name = "c";
    o.ttl = 1s;
    return o;
  };
  sweep_ms("CacheOptions::ttl", [&](milliseconds d) {
    auto o = base();
    o.ttl = d;
    o.validate();
  });
  sweep_ms("CacheOptions::negative_ttl", [&](milliseconds d) {
    auto o = base();
    o.negative_ttl = d;
    o.validate();
  });
  sweep_ms("CacheOptions::stale_window", [&](milliseconds d) {
    auto o = base();
    o.stale_window = d;
    o.validate();
  });
  sweep_ms("CacheOptions::lock.ttl", [&](milliseconds d) {
    auto o = base();
    o.lock.ttl = d;
    o.validate();
  });
  sweep_ms("CacheOptions::lock.max_wait", [&](milliseconds d) {
    auto o = base();
    o.lock.max_wait = d;
    o.validate();
  });
  sweep_ms("CacheOptions::lock.initial_backoff", [&](milliseconds d) {
    auto o = base();
    o.lock.initial_backoff = d;
    o.lock.max_backoff = kMaxDuration;
    o.validate();
  });
  sweep_ms("CacheOptions::lock.max_backoff", [&](milliseconds d) {
    auto o = base();
    o.lock.max_backoff = d;
    o.validate();
  });
  sweep_ms("CacheOptions::breaker.cool_down", [&](milliseconds d) {
    auto o = base();
    o.breaker.cool_down = d;
    o.validate();
  });
  sweep_ms("CacheOptions::version_check_interval", [&](milliseconds d) {
    auto o = base();
    o.version_check_interval = d;
    o.validate();
  });
  // The near tier's options are validated with the cache's.
  sweep_ms("NearCacheOptions::max_lifetime", [&](milliseconds d) {
    auto o = base();
    o.near_cache.emplace();
    o.near_cache->cache.max_lifetime = d;
    o.validate();
  });
}

TEST(DurationBounds, NearCacheAndInvalidationOptions_EveryDuration_BoundedAndNamed) {
  sweep_ms("NearCacheOptions::max_lifetime", [](milliseconds d) {
    rediscache::NearCacheOptions o;
    o.max_lifetime = d;
    o.validate();
  });
  sweep_ms("InvalidationOptions::initial_backoff", [](milliseconds d) {
    rediscache::InvalidationOptions o;
    o.initial_backoff = d;
    o.max_backoff = kMaxDuration;
    o.validate();
  });
  sweep_ms("InvalidationOptions::max_backoff", [](milliseconds d) {
    rediscache::InvalidationOptions o;
    o.max_backoff = d;
    o.validate();
  });
  sweep_ms("InvalidationOptions::health_check_interval", [](milliseconds d) {
    rediscache::InvalidationOptions o;
    o.health_check_interval = d;
    o.validate();
  });
}

TEST(DurationBounds, WritePolicyOptions_EveryDuration_BoundedAndNamed) {
  using rediscache::WriteBehindOptions;
  using rediscache::WriteThroughOptions;
  sweep_ms("WriteThroughOptions::lock_ttl", [](milliseconds d) {
    WriteThroughOptions o;
    o.lock_ttl = d;
    o.validate();
  });
  sweep_ms("WriteThroughOptions::lock_wait", [](milliseconds d) {
    WriteThroughOptions o;
    o.lock_wait = d;
    o.validate();
  });
  sweep_ms("WriteThroughOptions::initial_backoff", [](milliseconds d) {
    WriteThroughOptions o;
    o.initial_backoff = d;
    o.max_backoff = kMaxDuration;
    o.validate();
  });
  sweep_ms("WriteThroughOptions::max_backoff", [](milliseconds d) {
    WriteThroughOptions o;
    o.max_backoff = d;
    o.validate();
  });
  const std::pair<const char*, milliseconds WriteBehindOptions::*> fields[] = {
      {"WriteBehindOptions::max_delay", &WriteBehindOptions::max_delay},
      {"WriteBehindOptions::poll_interval", &WriteBehindOptions::poll_interval},
      {"WriteBehindOptions::max_backoff", &WriteBehindOptions::max_backoff},
      {"WriteBehindOptions::flusher_lease", &WriteBehindOptions::flusher_lease},
      {"WriteBehindOptions::claim_min_idle", &WriteBehindOptions::claim_min_idle},
      {"WriteBehindOptions::drain_timeout", &WriteBehindOptions::drain_timeout},
      {"WriteBehindOptions::queue_ttl", &WriteBehindOptions::queue_ttl},
      {"WriteBehindOptions::wait_timeout", &WriteBehindOptions::wait_timeout},
  };
  for (const auto& [name, member] : fields) {
    sweep_ms(name, [member = member](milliseconds d) {
      WriteBehindOptions o;
      o.*member = d;
      o.validate();
    });
  }
  sweep_ms("WriteBehindOptions::initial_backoff", [](milliseconds d) {
    WriteBehindOptions o;
    o.initial_backoff = d;
    o.max_backoff = kMaxDuration;
    o.validate();
  });
}

TEST(DurationBounds, KeySpaceOptions_EveryDuration_BoundedAndNamed) {
  const Client client = unused_client();
  sweep_ms("KeySpaceOptions::version_check_interval", [&](milliseconds d) {
    rediscache::KeySpaceOptions o;
    o.version_check_interval = d;
    rediscache::KeySpace(client, "k", o);
  });
  sweep_ms("KeySpaceOptions::version_key_ttl", [&](milliseconds d) {
    rediscache::KeySpaceOptions o;
    o.version_key_ttl = d;
    rediscache::KeySpace(client, "k", o);
  });
}

TEST(DurationBounds, HelperOptions_EveryDuration_BoundedAndNamed) {
  sweep_ms("LockOptions::ttl", [](milliseconds d) {
    rediscache::LockOptions o;
    o.ttl = d;
    o.validate();
  });
  sweep_ms("LockOptions::retry_min", [](milliseconds d) {
    rediscache::LockOptions o;
    o.retry_min = d;
    o.retry_max = kMaxDuration;
    o.validate();
  });
  sweep_ms("LockOptions::retry_max", [](milliseconds d) {
    rediscache::LockOptions o;
    o.retry_max = d;
    o.validate();
  });
  // The watchdog interval is bounded by the ttl, which is bounded: sweep it under the longest ttl.
  sweep<milliseconds>("LockOptions::watchdog_interval", kMaxDuration - 1ms, [](milliseconds d) {
    rediscache::LockOptions o;
    o.ttl = kMaxDuration;
    o.watchdog_interval = d;
    o.validate();
  });
  sweep_ms("RedlockOptions::ttl", [](milliseconds d) {
    rediscache::RedlockOptions o;
    o.ttl = d;
    o.validate();
  });
  sweep_ms("RedlockOptions::clock_drift_min", [](milliseconds d) {
    rediscache::RedlockOptions o;
    o.clock_drift_min = d;
    o.validate();
  });
  sweep_ms("RedlockOptions::retry_min", [](milliseconds d) {
    rediscache::RedlockOptions o;
    o.retry_min = d;
    o.retry_max = kMaxDuration;
    o.validate();
  });
  sweep_ms("RedlockOptions::retry_max", [](milliseconds d) {
    rediscache::RedlockOptions o;
    o.retry_max = d;
    o.validate();
  });
  sweep_ms("SessionOptions::ttl", [](milliseconds d) {
    rediscache::SessionOptions o;
    o.ttl = d;
    o.validate();
  });
  sweep_ms("SlidingWindowLogOptions::window", [](milliseconds d) {
    rediscache::SlidingWindowLogOptions o;
    o.window = d;
    o.validate();
  });
  sweep_ms("SlidingWindowCounterOptions::window", [](milliseconds d) {
    rediscache::SlidingWindowCounterOptions o;
    o.window = d;
    o.validate();
  });
  sweep_ms("GcraOptions::period", [](milliseconds d) {
    rediscache::GcraOptions o;
    o.period = d;
    o.validate();
  });
}

TEST(DurationBounds, ConnectionAndPoolOptions_EveryDuration_BoundedAndNamed) {
  using rediscache::ConnectionOptions;
  using rediscache::PoolOptions;
  sweep_ms("ConnectionOptions::connect_timeout", [](milliseconds d) {
    ConnectionOptions o;
    o.connect_timeout = d;
    o.validate();
  });
  sweep_ms("ConnectionOptions::command_timeout", [](milliseconds d) {
    ConnectionOptions o;
    o.command_timeout = d;
    o.validate();
  });
  sweep_ms("PoolOptions::wait_timeout", [](milliseconds d) {
    PoolOptions o;
    o.wait_timeout = d;
    o.validate();
  });
  const std::pair<const char*, std::optional<milliseconds> PoolOptions::*> optional_fields[] = {
      {"PoolOptions::max_lifetime", &PoolOptions::max_lifetime},
      {"PoolOptions::max_idle_time", &PoolOptions::max_idle_time},
      {"PoolOptions::check_liveness_after_idle", &PoolOptions::check_liveness_after_idle},
      {"PoolOptions::ping_after_idle", &PoolOptions::ping_after_idle},
  };
  for (const auto& [name, member] : optional_fields) {
    sweep_ms(name, [member = member](milliseconds d) {
      PoolOptions o;
      o.*member = d;
      o.validate();
    });
  }
  // The connection options inside the topology options are validated with them.
  sweep_ms("ConnectionOptions::command_timeout", [](milliseconds d) {
    rediscache::ClusterOptions o;
    o.seeds = {{"127.0.0.1", 7000}};
    o.connection.command_timeout = d;
    o.validate();
  });
  sweep_ms("ConnectionOptions::connect_timeout", [](milliseconds d) {
    rediscache::SentinelOptions o;
    o.sentinels = {{"127.0.0.1", 26379}};
    o.master_name = "m";
    o.connection.connect_timeout = d;
    o.validate();
  });
  // And by the client and pool constructors, before anything connects.
  sweep_ms("PoolOptions::wait_timeout", [](milliseconds d) {
    ConnectionOptions c;
    c.port = 1;
    PoolOptions p;
    p.wait_timeout = d;
    const Client client(c, p);
  });
  sweep_ms("ConnectionOptions::command_timeout", [](milliseconds d) {
    ConnectionOptions c;
    c.port = 1;
    c.command_timeout = d;
    const Client client(c);
  });
}

TEST(DurationBounds, TopologyOptions_EveryDuration_BoundedAndNamed) {
  sweep_ms("ClusterOptions::refresh_interval", [](milliseconds d) {
    rediscache::ClusterOptions o;
    o.seeds = {{"127.0.0.1", 7000}};
    o.refresh_interval = d;
    o.validate();
  });
  sweep_ms("ClusterOptions::retry_timeout", [](milliseconds d) {
    rediscache::ClusterOptions o;
    o.seeds = {{"127.0.0.1", 7000}};
    o.retry_timeout = d;
    o.validate();
  });
  sweep_ms("SentinelOptions::refresh_interval", [](milliseconds d) {
    rediscache::SentinelOptions o;
    o.sentinels = {{"127.0.0.1", 26379}};
    o.master_name = "m";
    o.refresh_interval = d;
    o.validate();
  });
  sweep_ms("SentinelOptions::retry_timeout", [](milliseconds d) {
    rediscache::SentinelOptions o;
    o.sentinels = {{"127.0.0.1", 26379}};
    o.master_name = "m";
    o.retry_timeout = d;
    o.validate();
  });
}

TEST(DurationBounds, RecipeOptions_EveryDuration_BoundedAndNamed) {
  const Client client = unused_client();
  using namespace rediscache::recipes;
  const seconds retention = std::chrono::duration_cast<seconds>(kMaxRetention);
  sweep<seconds>("DailyActiveUsersOptions::retention", retention, [&](seconds d) {
    DailyActiveUsersOptions o;
    o.prefix = "p:";
    o.retention = d;
    DailyActiveUsers(client, o);
  });
  sweep<seconds>("DailyCounterOptions::retention", retention, [&](seconds d) {
    DailyCounterOptions o;
    o.prefix = "p:";
    o.retention = d;
    DailyCounter(client, o);
  });
  sweep<seconds>("UniqueVisitorsOptions::retention", retention, [&](seconds d) {
    UniqueVisitorsOptions o;
    o.prefix = "p:";
    o.retention = d;
    UniqueVisitors(client, o);
  });
  sweep<seconds>("UniqueVisitorsOptions::merged_ttl", kMaxDurationS, [&](seconds d) {
    UniqueVisitorsOptions o;
    o.prefix = "p:";
    o.merged_ttl = d;
    UniqueVisitors(client, o);
  });
  sweep<seconds>("LeaderboardOptions::ttl", kMaxDurationS, [&](seconds d) {
    LeaderboardOptions o;
    o.prefix = "p:";
    o.ttl = d;
    Leaderboard(client, "b", o);
  });
  sweep<seconds>("TimelineOptions::ttl", kMaxDurationS, [&](seconds d) {
    TimelineOptions o;
    o.prefix = "p:";
    o.ttl = d;
    Timeline(client, o);
  });
  sweep_ms("ReliableQueueOptions::consumer_timeout", [&](milliseconds d) {
    ReliableQueueOptions o;
    o.prefix = "p:";
    o.consumer_timeout = d;
    ReliableQueue(client, o);
  });
}

TEST(DurationBounds, CallArguments_EveryDuration_BoundedAndNamed) {
  Client client = unused_client();
  rediscache::SessionStore sessions(client);
  const rediscache::SessionFields fields{{"user", "u"}};
  sweep_ms("SessionStore ttl", [&](milliseconds d) { (void)sessions.create(fields, d); });
  sweep_ms("SessionStore ttl", [&](milliseconds d) { (void)sessions.touch("id", d); });
  sweep_ms("SessionStore ttl", [&](milliseconds d) { (void)sessions.regenerate("id", d); });
  rediscache::DistributedLock lock(client, "n");
  sweep_ms("DistributedLock::lock wait_timeout", [&](milliseconds d) { (void)lock.lock(d); });
  sweep_ms("DistributedLock::extend ttl", [&](milliseconds d) { (void)lock.extend("t", d); });
  rediscache::Redlock redlock({client});
  // Redlock counts unreachable servers and retries until the deadline, so its bound itself is
  // not called here (it would wait a year); the rejections are.
  for (const milliseconds bad :
       {milliseconds::max(), milliseconds::max() / 2, kMaxDuration + 1ms}) {
    EXPECT_EQ(outcome([&] { (void)redlock.lock("n", bad); }).rfind("Redlock::lock wait_timeout", 0),
              0u);
  }
  sweep_ms("SetOptions::ttl", [&](milliseconds d) {
    rediscache::SetOptions o;
    o.ttl = d;
    (void)client.set("k", "v", o);
  });
  sweep<seconds>("Client::setex ttl", kMaxDurationS, [&](seconds d) { client.setex("k", d, "v"); });
  // EXPIRE/PEXPIRE keep Redis's meaning of ttl <= 0 (delete the key), so their bound is
  // symmetric: a year either way.
  sweep<seconds>("Client::expire ttl", kMaxDurationS,
                 [&](seconds d) { (void)client.expire("k", d); });
  sweep_ms("Client::pexpire ttl", [&](milliseconds d) { (void)client.pexpire("k", d); });
  for (const milliseconds bad :
       {milliseconds::min(), milliseconds::min() / 2, -kMaxDuration - 1ms}) {
    EXPECT_EQ(outcome([&] { (void)client.pexpire("k", bad); }).rfind("Client::pexpire ttl", 0), 0u);
  }
  sweep_ms("Pipeline::pexpire ttl",
           [&](milliseconds d) { (void)client.pipeline().pexpire("k", d); });
  sweep_ms("Client blocking pop timeout", [&](milliseconds d) { (void)client.brpop({"k"}, d); });
  sweep_ms("Client blocking pop timeout", [&](milliseconds d) {
    (void)client.blmove("a", "b", rediscache::ListEnd::kLeft, rediscache::ListEnd::kRight, d);
  });
}

TEST(SaturatingDeadline, HugeDurations_ClampToTheClockRange) {
  using Clock = std::chrono::steady_clock;
  using rediscache::detail::saturating_deadline;
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(saturating_deadline(now, milliseconds::max()), Clock::time_point::max());
  EXPECT_EQ(saturating_deadline(now, milliseconds::max() / 2), Clock::time_point::max());
  EXPECT_EQ(saturating_deadline(now, seconds::max()), Clock::time_point::max());
  EXPECT_EQ(saturating_deadline(now, std::chrono::nanoseconds::max()), Clock::time_point::max());
  EXPECT_EQ(saturating_deadline(now, milliseconds::min()), Clock::time_point::min());
  EXPECT_EQ(saturating_deadline(now, std::chrono::nanoseconds::min()), Clock::time_point::min());
  EXPECT_EQ(saturating_deadline(now, 5ms), now + 5ms);
  EXPECT_EQ(saturating_deadline(now, -5ms), now - 5ms);
  EXPECT_EQ(saturating_deadline(now, kMaxDuration), now + kMaxDuration);
  const auto wall = std::chrono::system_clock::now();
  EXPECT_EQ(saturating_deadline(wall, milliseconds::max()),
            std::chrono::system_clock::time_point::max());
}

}  // namespace
