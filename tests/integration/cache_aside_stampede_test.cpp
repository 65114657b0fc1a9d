// CacheAside's stampede protection: single flight in one process, the lease across forked
// processes, a lease cancelled by an invalidation, and a lock left by a dead process.
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

TEST(CacheAside, GetOrLoad_ConcurrentMisses_LoadOnce) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::atomic<int> loads{0};
  const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    std::this_thread::sleep_for(100ms);  // a slow query: everyone else arrives meanwhile
    return std::string("cold");
  };
  constexpr int kThreads = 64;
  std::atomic<int> ready{0};
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      if (cache.get_or_load("hot", loader) == std::optional<std::string>("cold")) ++correct;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(correct.load(), kThreads);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.loads, 1u);
  EXPECT_EQ(stats.hits + stats.misses, static_cast<std::uint64_t>(kThreads));
}

TEST(CacheAside, GetOrLoad_ForkedProcesses_LoadOnceAcrossProcesses) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const CacheOptions options = base_options();
  const NamespaceCleanup cleanup{ep, options.name};
  constexpr int kProcesses = 4;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: no threads yet. Wait for the start signal (the parent closes the pipe), then
      // 8 threads hit one cold key. The exit code is this process's loader count.
      ::close(go[1]);
      char byte = 0;
      while (::read(go[0], &byte, 1) > 0) {
      }
      int code = 100;
      try {
        CacheOptions child_options = options;
        child_options.lock.max_wait = 8s;  // generous: sanitizer builds on 2 busy cores
        StringCache cache(make_client(ep), child_options);
        std::atomic<int> loads{0};
        std::atomic<int> wrong{0};
        const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
          ++loads;
          std::this_thread::sleep_for(300ms);
          return std::string("shared");
        };
        std::vector<std::thread> threads;
        threads.reserve(8);
        for (int t = 0; t < 8; ++t) {
          threads.emplace_back([&] {
            if (cache.get_or_load("cold", loader) != std::optional<std::string>("shared")) ++wrong;
          });
        }
        for (std::thread& t : threads) t.join();
        code = wrong.load() == 0 ? loads.load() : 101;
      } catch (...) {
        code = 102;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // all children start together
  int total = 0;
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    const int loads = WEXITSTATUS(status);
    EXPECT_LE(loads, 1) << "a process loaded more than once (or failed: 100+)";
    total += loads;
  }
  EXPECT_EQ(total, 1) << "the stampede lock should let exactly one process load";
}

TEST(CacheAside, Invalidate_DuringLoad_OldLoadDoesNotOverwrite) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::mutex mu;
  std::condition_variable cv;
  bool loading = false;
  bool release = false;
  std::thread reader([&] {
    const auto value = cache.get_or_load("r", [&](std::string_view) -> std::optional<std::string> {
      std::unique_lock<std::mutex> lock(mu);
      loading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return std::string("read-before-update");
    });
    EXPECT_EQ(value, "read-before-update");
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return loading; });
  }
  cache.invalidate("r");  // the database changed while the read was loading
  {
    const std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  reader.join();
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("r")}), "0")
      << "a load that began before invalidate() must not cache its older value";
  EXPECT_EQ(cache.stats().lease_lost, 1u);
}

TEST(CacheAside, GetOrLoad_LockHeldByDeadProcess_BoundedWaitThenLoads) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.lock.max_wait = 300ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  cache.get_or_load("warm", [](std::string_view) { return std::optional<std::string>("w"); });
  const std::string lock_key = cache.key_for("d").replace(options.name.size(), 0, ":lock");
  raw_key_command(ep, {"SET", lock_key, "someone-who-died", "PX", "30000"});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(
      cache.get_or_load("d", [](std::string_view) { return std::optional<std::string>("x"); }),
      "x");
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(cache.stats().lock_timeouts, 1u);
  EXPECT_EQ(raw_key_command(ep, {"EXISTS", cache.key_for("d")}), "0");  // the holder writes, not us
}

}  // namespace
