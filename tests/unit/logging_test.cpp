// Unit tests of the logging hook: level gate, sink replacement, exceptions, concurrent use.
#include "rediscache/util/logging.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rediscache {
namespace {

// Every test leaves logging off again, since the sink is process-wide.
class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { set_log_sink(nullptr); }
};

TEST_F(LoggingTest, NoSink_NothingEnabled) {
  set_log_sink(nullptr);
  EXPECT_FALSE(log_enabled(LogLevel::kError));
  log_message(LogLevel::kError, "dropped");  // must not crash
}

TEST_F(LoggingTest, Sink_ReceivesMessagesAtOrAboveMinimum) {
  std::vector<std::pair<LogLevel, std::string>> got;
  set_log_sink([&got](LogLevel l, std::string_view m) { got.emplace_back(l, std::string(m)); },
               LogLevel::kWarning);
  EXPECT_FALSE(log_enabled(LogLevel::kInfo));
  EXPECT_TRUE(log_enabled(LogLevel::kWarning));
  log_message(LogLevel::kInfo, "quiet");
  log_message(LogLevel::kWarning, "loud");
  log_message(LogLevel::kError, "louder");
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].first, LogLevel::kWarning);
  EXPECT_EQ(got[0].second, "loud");
  EXPECT_EQ(got[1].second, "louder");
}

TEST_F(LoggingTest, ThrowingSink_ExceptionSwallowed) {
  set_log_sink([](LogLevel, std::string_view) { throw std::runtime_error("sink broke"); },
               LogLevel::kDebug);
  EXPECT_NO_THROW(log_message(LogLevel::kError, "x"));
}

TEST_F(LoggingTest, EmptySink_TurnsLoggingOff) {
  int calls = 0;
  set_log_sink([&calls](LogLevel, std::string_view) { ++calls; }, LogLevel::kDebug);
  log_message(LogLevel::kDebug, "a");
  set_log_sink(nullptr, LogLevel::kDebug);
  log_message(LogLevel::kError, "b");
  EXPECT_EQ(calls, 1);
}

TEST_F(LoggingTest, ConcurrentLogAndSwap_EveryMessageReachesASink) {
  std::atomic<int> calls{0};
  auto sink = [&calls](LogLevel, std::string_view) { calls.fetch_add(1); };
  set_log_sink(sink, LogLevel::kDebug);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 2000; ++i) log_message(LogLevel::kInfo, "m");
    });
  }
  for (int i = 0; i < 100; ++i) set_log_sink(sink, LogLevel::kDebug);
  for (auto& th : threads) th.join();
  EXPECT_EQ(calls.load(), 4 * 2000);
}

TEST(LogLevel, ToString_Names) {
  EXPECT_STREQ(to_string(LogLevel::kDebug), "debug");
  EXPECT_STREQ(to_string(LogLevel::kWarning), "warning");
}

}  // namespace
}  // namespace rediscache
