// BackgroundLoop: the interval, wake(), the step ending the loop, and stop() joining.
#include "util/background_loop.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "eventually.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::detail::BackgroundLoop;
using rediscache::test::eventually;

TEST(BackgroundLoop, RunsTheStepEveryInterval) {
  std::atomic<int> steps{0};
  BackgroundLoop loop(5ms, [&] {
    ++steps;
    return true;
  });
  EXPECT_TRUE(eventually([&] { return steps.load() >= 3; }));
}

TEST(BackgroundLoop, Wake_RunsTheStepLongBeforeTheInterval) {
  std::atomic<int> steps{0};
  BackgroundLoop loop(1h, [&] {
    ++steps;
    return true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(steps.load(), 0);
  loop.wake();
  EXPECT_TRUE(eventually([&] { return steps.load() == 1; }));
  loop.wake();
  EXPECT_TRUE(eventually([&] { return steps.load() == 2; }));
}

TEST(BackgroundLoop, StepReturningFalse_EndsTheLoop) {
  std::atomic<int> steps{0};
  BackgroundLoop loop(1ms, [&] { return ++steps < 3; });
  EXPECT_TRUE(eventually([&] { return steps.load() == 3; }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(steps.load(), 3);
  loop.wake();  // after the end: harmless
  loop.stop();
}

TEST(BackgroundLoop, Stop_WaitsForTheStepInProgress_ThenNoMoreSteps) {
  std::atomic<bool> inside{false};
  std::atomic<bool> finished{false};
  std::atomic<int> steps{0};
  BackgroundLoop loop(1h, [&] {
    ++steps;
    inside = true;
    std::this_thread::sleep_for(50ms);
    finished = true;
    return true;
  });
  loop.wake();
  ASSERT_TRUE(eventually([&] { return inside.load(); }));
  loop.stop();
  EXPECT_TRUE(finished.load());  // stop() returned only after the step did
  loop.wake();
  loop.stop();  // idempotent
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(steps.load(), 1);
}

TEST(BackgroundLoop, Destructor_StopsAnIdleLoopAtOnce) {
  const auto started = std::chrono::steady_clock::now();
  {
    const BackgroundLoop loop(1h, [] { return true; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // not the hour
}

}  // namespace
