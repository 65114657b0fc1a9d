// CacheAside's refresh-ahead: threshold mode in the background, XFetch in the caller.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "cache_aside_support.hpp"
#include "client_factory.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)

TEST(CacheAside, RefreshAhead_Threshold_RefreshesInBackgroundKeepsServing) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 100s;
  options.ttl_jitter = 0;
  options.refresh.mode = RefreshMode::kThreshold;
  options.refresh.threshold = 0.2;
  options.clock = clock.fn();
  // Declared before the cache: the background refresh copies the loader, which refers to them.
  std::atomic<int> generation{1};
  std::atomic<int> loads{0};
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return "g" + std::to_string(generation.load());
  };
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  generation = 2;
  clock.advance(50s);  // half the TTL left: no refresh
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  EXPECT_EQ(loads.load(), 1);
  clock.advance(35s);  // 15 % left: refresh in the background, the caller gets g1 now
  EXPECT_EQ(cache.get_or_load("t", loader), "g1");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::optional<std::string> value;
  while (std::chrono::steady_clock::now() < deadline) {
    value = cache.get_or_load("t", loader);
    if (value == "g2") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(value, "g2");
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(cache.stats().refreshes, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);  // no caller ever missed after the first load
}

TEST(CacheAside, RefreshAhead_XFetch_RefreshesNearExpiryNotEarly) {
  REDISCACHE_REQUIRE_REDIS(ep);
  FakeClock clock;
  CacheOptions options = base_options();
  options.ttl = 100s;
  options.ttl_jitter = 0;
  options.refresh.mode = RefreshMode::kXFetch;
  options.refresh.xfetch_beta = 1.0;
  options.clock = clock.fn();
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  std::atomic<int> generation{1};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    std::this_thread::sleep_for(20ms);  // delta: the stored load time
    return "g" + std::to_string(generation.load());
  };
  EXPECT_EQ(cache.get_or_load("x", loader), "g1");
  generation = 2;
  clock.advance(50s);  // 50 s before expiry with a ~20 ms load: practically never early
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cache.get_or_load("x", loader), "g1");
  // 1 ms before expiry a read refreshes with P = e^(-gap / (delta * beta)) = e^(-1/20) ~ 0.95, so
  // a single read would miss one run in twenty. Twenty reads all miss with P ~ 1e-26; the first
  // refresh stores a new 100 s expiry, so there is exactly one.
  clock.advance(50s - 1ms);
  std::optional<std::string> value;
  for (int i = 0; i < 20 && value != "g2"; ++i) value = cache.get_or_load("x", loader);
  EXPECT_EQ(value, "g2");
  EXPECT_EQ(cache.stats().refreshes, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

}  // namespace
