// The three rate limiters against a real redis-server: exact limits under concurrency, recovery
// after the window, costs above one, and keys that expire.
#include "rediscache/helpers/rate_limiter.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "helpers_test_util.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::Decision;
using rediscache::GcraLimiter;
using rediscache::GcraOptions;
using rediscache::RateLimiter;
using rediscache::SlidingWindowCounterLimiter;
using rediscache::SlidingWindowCounterOptions;
using rediscache::SlidingWindowLogLimiter;
using rediscache::SlidingWindowLogOptions;

enum class Algorithm { kLog, kCounter, kGcra };

std::string name_of(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kLog:
      return "SlidingWindowLog";
    case Algorithm::kCounter:
      return "SlidingWindowCounter";
    case Algorithm::kGcra:
      return "Gcra";
  }
  return "?";
}

// A limiter allowing `limit` units per `window`. For GCRA: a burst of `limit` that refills
// completely within `window` (rate = limit per window).
std::unique_ptr<RateLimiter> make_limiter(Algorithm algorithm, const Client& client,
                                          long long limit, std::chrono::milliseconds window,
                                          const std::string& prefix) {
  switch (algorithm) {
    case Algorithm::kLog: {
      SlidingWindowLogOptions options;
      options.limit = limit;
      options.window = window;
      options.key_prefix = prefix;
      return std::make_unique<SlidingWindowLogLimiter>(client, options);
    }
    case Algorithm::kCounter: {
      SlidingWindowCounterOptions options;
      options.limit = limit;
      options.window = window;
      options.key_prefix = prefix;
      return std::make_unique<SlidingWindowCounterLimiter>(client, options);
    }
    case Algorithm::kGcra: {
      GcraOptions options;
      options.burst = limit;
      options.rate = limit;
      options.period = window;
      options.key_prefix = prefix;
      return std::make_unique<GcraLimiter>(client, options);
    }
  }
  return nullptr;
}

class RateLimiterIntegration : public ::testing::TestWithParam<Algorithm> {};

INSTANTIATE_TEST_SUITE_P(Algorithms, RateLimiterIntegration,
                         ::testing::Values(Algorithm::kLog, Algorithm::kCounter, Algorithm::kGcra),
                         [](const auto& info) { return name_of(info.param); });

TEST_P(RateLimiterIntegration, SixteenThreadsThousandRequestsEach_ExactlyLimitAllowed) {
  REDISCACHE_REQUIRE_REDIS(ep);
  constexpr int kThreads = 16;
  constexpr int kRequests = 1000;
  Client client = rediscache::test::helpers_client(ep, kThreads);
  // A window (for GCRA: a refill time) far longer than the test, so nothing comes back.
  auto limiter = make_limiter(GetParam(), client, 100, std::chrono::hours(1),
                              rediscache::test::unique_prefix());
  std::atomic<long long> allowed{0};
  std::atomic<long long> errors{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequests; ++i) {
        try {
          if (limiter->check("user-1").allowed) ++allowed;
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(allowed.load(), 100);
  const auto stats = limiter->stats();
  EXPECT_EQ(stats.allowed, 100u);
  EXPECT_EQ(stats.denied, static_cast<std::uint64_t>(kThreads * kRequests - 100));
  const Decision denied = limiter->check("user-1");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_GT(denied.retry_after, 0ms);
  EXPECT_LE(denied.retry_after, std::chrono::milliseconds(std::chrono::hours(2)));
  limiter->reset("user-1");
  EXPECT_TRUE(limiter->check("user-1").allowed);
  limiter->reset("user-1");
}

TEST_P(RateLimiterIntegration, AfterRetryAfterAndWindow_AllowedAgain) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  constexpr std::chrono::milliseconds kWindow = 300ms;
  auto limiter = make_limiter(GetParam(), client, 5, kWindow, rediscache::test::unique_prefix());
  for (int i = 0; i < 5; ++i) {
    const Decision decision = limiter->check("k");
    ASSERT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 4 - i);
    EXPECT_EQ(decision.retry_after, 0ms);
    EXPECT_GT(decision.reset_after, 0ms);
    EXPECT_LE(decision.reset_after, 2 * kWindow);
  }
  const Decision denied = limiter->check("k");
  ASSERT_FALSE(denied.allowed);
  EXPECT_GT(denied.retry_after, 0ms);
  EXPECT_LE(denied.retry_after, 2 * kWindow);

  // retry_after is a promise: waiting that long (plus a little) lets the next request through.
  std::this_thread::sleep_for(denied.retry_after + 20ms);
  EXPECT_TRUE(limiter->check("k").allowed);

  // After the allowance has fully come back, a whole new burst of `limit` passes.
  std::this_thread::sleep_for(2 * kWindow + 50ms);
  int allowed = 0;
  for (int i = 0; i < 8; ++i) allowed += limiter->check("k").allowed ? 1 : 0;
  EXPECT_EQ(allowed, 5);
  limiter->reset("k");
}

TEST_P(RateLimiterIntegration, CostAboveOne_CountsUnits) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  auto limiter = make_limiter(GetParam(), client, 10, std::chrono::hours(1),
                              rediscache::test::unique_prefix());
  Decision d = limiter->check("k", 4);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 6);
  d = limiter->check("k", 4);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
  d = limiter->check("k", 4);  // only 2 left: denied, and nothing is taken
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
  d = limiter->check("k", 2);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  d = limiter->check("k", 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(limiter->check("other-key", 10).remaining, 0);  // keys are independent
  limiter->reset("k");
  limiter->reset("other-key");
}

TEST_P(RateLimiterIntegration, EveryKey_HasTtlAndExpires) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  constexpr std::chrono::milliseconds kWindow = 200ms;
  auto limiter = make_limiter(GetParam(), client, 5, kWindow, rediscache::test::unique_prefix());
  for (int i = 0; i < 7; ++i) static_cast<void>(limiter->check("k"));
  const std::string key = limiter->redis_key("k");
  const long long ttl = client.pttl(key);
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 2 * kWindow.count());
  EXPECT_TRUE(rediscache::test::eventually([&] { return client.exists({key}) == 0; }, 2s));
}

}  // namespace
