// DistributedLock against a real redis-server: mutual exclusion across processes and threads,
// expiry of a killed holder, token checks, the watchdog, backoff and the noexcept guard.
#include "rediscache/helpers/lock.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "helpers_test_util.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::DistributedLock;
using rediscache::LockOptions;
using rediscache::test::Endpoint;
using rediscache::test::helpers_client;
using rediscache::test::wait_child;

constexpr int kProcesses = 4;
constexpr int kThreads = 8;
constexpr int kIncrements = 200;

// Runs in a forked child: 8 threads increment a plain GET/SET counter under the lock, and check
// that each acquisition's fencing token exceeds the last one recorded. Returns the exit code.
int increment_under_lock(const Endpoint& ep, const std::string& name, const std::string& counter,
                         const std::string& last_fence) {
  try {
    Client client = helpers_client(ep, kThreads);
    LockOptions options;
    options.ttl = 10s;
    options.retry_min = 1ms;
    options.retry_max = 25ms;  // fewer failed attempts competing with the holder
    DistributedLock lock(client, name, options);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kIncrements; ++i) {
          try {
            auto guard = lock.lock(60s);
            if (!guard) {
              ++failures;
              continue;
            }
            const auto values = client.mget({counter, last_fence});
            const long long value = std::stoll(values.at(0).value_or("0"));
            const long long fence = std::stoll(values.at(1).value_or("0"));
            if (guard->fence() <= fence) ++failures;
            client.mset({{counter, std::to_string(value + 1)},
                         {last_fence, std::to_string(guard->fence())}});
            if (!guard->unlock()) ++failures;
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    return failures.load() == 0 ? 0 : 1;
  } catch (...) {
    return 2;
  }
}

TEST(DistributedLockIntegration, FourProcessesEightThreads_PlainCounterExact) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = rediscache::test::unique_prefix();
  const std::string name = prefix + "counter-lock";
  const std::string counter = prefix + "counter";
  const std::string last_fence = prefix + "last-fence";

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(increment_under_lock(ep, name, counter, last_fence));
    children.push_back(pid);
  }
  for (const pid_t pid : children) EXPECT_EQ(wait_child(pid), 0);

  Client client = helpers_client(ep);
  EXPECT_EQ(client.get(counter).value_or("missing"),
            std::to_string(kProcesses * kThreads * kIncrements));
  DistributedLock lock(client, name);
  EXPECT_FALSE(lock.is_locked());
  EXPECT_EQ(client.get(lock.fence_key()).value_or("missing"),
            std::to_string(kProcesses * kThreads * kIncrements));
  client.del({counter, last_fence, lock.fence_key()});
}

TEST(DistributedLockIntegration, HolderKilled_OtherAcquiresAfterTtlNotBefore) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = rediscache::test::unique_prefix() + "lock";
  LockOptions options;
  options.ttl = 1500ms;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    char acquired = '0';
    try {
      Client client = helpers_client(ep);
      DistributedLock lock(client, name, options);
      auto guard = lock.try_lock();
      if (guard) acquired = '1';
      static_cast<void>(::write(fds[1], &acquired, 1));
      for (;;) ::pause();  // holds the guard until SIGKILL: no destructor ever runs
    } catch (...) {
      static_cast<void>(::write(fds[1], &acquired, 1));
    }
    ::_exit(1);
  }
  ::close(fds[1]);
  char acquired = 0;
  ASSERT_EQ(::read(fds[0], &acquired, 1), 1);
  ::close(fds[0]);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(wait_child(pid), -SIGKILL);
  ASSERT_EQ(acquired, '1');

  Client client = helpers_client(ep);
  DistributedLock lock(client, name, options);
  const auto first_try = lock.try_lock();
  if (std::chrono::steady_clock::now() - start < options.ttl - 100ms) {
    EXPECT_FALSE(first_try.has_value()) << "acquired before the killed holder's TTL passed";
  }
  auto guard = lock.lock(10s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(guard.has_value());
  // The child acquired after `start`, so its lock lived until at least start + ttl (Redis
  // expires keys with millisecond resolution: allow 2 ms).
  EXPECT_GE(elapsed, options.ttl - 2ms);
  EXPECT_EQ(guard->fence(), 2);  // the killed holder had fence 1
  EXPECT_TRUE(guard->unlock());
  client.del({lock.fence_key()});
}

TEST(DistributedLockIntegration, WrongToken_ReleaseAndExtendDoNothingAndSaySo) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = helpers_client(ep);
  DistributedLock lock(client, rediscache::test::unique_prefix() + "lock");
  auto guard = lock.try_lock();
  ASSERT_TRUE(guard.has_value());
  EXPECT_EQ(guard->token().size(), 22u);
  EXPECT_EQ(guard->fence(), 1);

  EXPECT_FALSE(lock.unlock("not-the-token"));
  EXPECT_FALSE(lock.extend("not-the-token", 60s));
  EXPECT_EQ(client.get(lock.key()).value_or(""), guard->token());
  EXPECT_LE(client.pttl(lock.key()), 10000);
  EXPECT_FALSE(lock.try_lock().has_value());

  EXPECT_TRUE(guard->extend(60s));
  EXPECT_GT(client.pttl(lock.key()), 50000);
  EXPECT_TRUE(guard->unlock());
  EXPECT_FALSE(guard->owns());
  EXPECT_FALSE(lock.is_locked());

  const auto stats = lock.stats();
  EXPECT_EQ(stats.acquisitions, 1u);
  EXPECT_EQ(stats.failed_attempts, 1u);
  EXPECT_EQ(stats.releases, 1u);
  EXPECT_EQ(stats.releases_not_held, 1u);
  EXPECT_EQ(stats.extensions, 1u);
  EXPECT_EQ(stats.extensions_not_held, 1u);
  client.del({lock.fence_key()});
}

TEST(DistributedLockIntegration, ExpiredToken_CannotReleaseOrExtendTheNextHolder) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = helpers_client(ep);
  LockOptions options;
  options.ttl = 200ms;
  DistributedLock lock(client, rediscache::test::unique_prefix() + "lock", options);
  auto first = lock.try_lock();
  ASSERT_TRUE(first.has_value());
  auto second = lock.lock(5s);  // waits out the first holder's TTL
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->fence(), first->fence());

  EXPECT_FALSE(first->extend(60s));
  EXPECT_TRUE(first->lost());
  EXPECT_FALSE(first->unlock());
  EXPECT_EQ(client.get(lock.key()).value_or(""), second->token());
  EXPECT_LE(client.pttl(lock.key()), 200);
  EXPECT_TRUE(second->unlock());
  client.del({lock.fence_key()});
}

TEST(DistributedLockIntegration, Watchdog_KeepsLockPastTtl_FreeRightAfterGuard) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = helpers_client(ep);
  const std::string name = rediscache::test::unique_prefix() + "lock";
  LockOptions options;
  options.ttl = 600ms;
  options.watchdog = true;
  options.watchdog_interval = 100ms;
  DistributedLock lock(client, name, options);
  DistributedLock other(client, name);
  {
    auto guard = lock.try_lock();
    ASSERT_TRUE(guard.has_value());
    const auto until = std::chrono::steady_clock::now() + 3 * options.ttl;
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
      EXPECT_FALSE(other.try_lock().has_value());
    }
    EXPECT_FALSE(guard->lost());
    EXPECT_EQ(client.get(lock.key()).value_or(""), guard->token());
  }
  EXPECT_FALSE(lock.is_locked());
  EXPECT_TRUE(other.try_lock().has_value());
  const auto stats = lock.stats();
  EXPECT_GE(stats.extensions, 5u);
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_EQ(stats.releases, 1u);
  client.del({lock.fence_key()});
}

TEST(DistributedLockIntegration, WaitTimeout_GivesUpAfterBackoffNotSpin) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = helpers_client(ep);
  const std::string name = rediscache::test::unique_prefix() + "lock";
  LockOptions options;
  options.ttl = 30s;
  DistributedLock holder(client, name, options);
  DistributedLock waiter(client, name, options);
  auto guard = holder.try_lock();
  ASSERT_TRUE(guard.has_value());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(waiter.lock(500ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
  const auto stats = waiter.stats();
  EXPECT_EQ(stats.timeouts, 1u);
  // Pauses of 2, 4, ... 100 ms: about 10 attempts in 500 ms, where a 1 ms poll makes ~500.
  EXPECT_GE(stats.failed_attempts, 3u);
  EXPECT_LE(stats.failed_attempts, 40u);
  EXPECT_EQ(stats.wait.count, 1u);
  EXPECT_TRUE(guard->unlock());
  client.del({holder.fence_key()});
}

TEST(DistributedLockIntegration, GuardDestroyedWithServerGone_NoThrowCountedAndReported) {
  rediscache::test::RedisServer server;
  Client client = helpers_client(server.endpoint());
  std::atomic<int> reports{0};
  DistributedLock lock(client, "lock", LockOptions{},
                       [&](std::string_view, const std::exception&) { reports.fetch_add(1); });
  {
    auto guard = lock.try_lock();
    ASSERT_TRUE(guard.has_value());
    server.stop();
  }  // the release fails: swallowed, counted and reported, never thrown
  EXPECT_EQ(lock.stats().errors, 1u);
  EXPECT_EQ(reports.load(), 1);
  EXPECT_THROW(static_cast<void>(lock.try_lock()), rediscache::IoError);
}

}  // namespace
