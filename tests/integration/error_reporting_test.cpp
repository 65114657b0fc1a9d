// Swallowed failures of background threads reach the user: the ErrorHandler when one is set,
// else the log sink (util/logging.hpp), and their messages never carry keys or values.
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/cache/write_behind.hpp"
#include "rediscache/util/logging.hpp"
#include "test_env.hpp"
#include "write_policy_support.hpp"

namespace rediscache::test {
namespace {

using std::chrono::milliseconds;

// Collects what reaches the process-wide log sink; removes the sink on destruction.
class SinkCapture {
 public:
  SinkCapture() {
    set_log_sink(
        [this](LogLevel level, std::string_view message) {
          const std::lock_guard<std::mutex> lock(mu_);
          if (level >= LogLevel::kWarning) messages_.emplace_back(message);
        },
        LogLevel::kWarning);
  }
  ~SinkCapture() { set_log_sink(nullptr); }
  SinkCapture(const SinkCapture&) = delete;
  SinkCapture& operator=(const SinkCapture&) = delete;

  /// Waits (bounded) for a message containing `part`; returns it, or "" on timeout.
  std::string wait_for(const std::string& part, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        const std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& m : messages_) {
          if (m.find(part) != std::string::npos) return m;
        }
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return {};
  }

 private:
  std::mutex mu_;
  std::vector<std::string> messages_;  // guarded by mu_
};

TEST(ErrorReporting, WriteBehindWriterFails_NoOnError_FailureReachesTheLogSink) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_name("errlog");
  CacheOptions cache_options;
  cache_options.name = name;
  cache_options.ttl = std::chrono::seconds(60);
  CacheAside<std::string> cache(make_client(ep), cache_options);
  SinkCapture sink;
  WriteBehindOptions options;  // no on_error
  options.max_delay = milliseconds(10);
  options.poll_interval = milliseconds(10);
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(50);
  options.max_attempts = 1000;
  std::atomic<bool> down{true};
  WriteBehind<std::string> wb(
      cache,
      [&](const std::vector<WriteOp<std::string>>&) {
        if (down) throw std::runtime_error("database unreachable");
      },
      options);
  wb.write("secret-key-7", "secret-value-7");
  const std::string message = sink.wait_for("write-behind", std::chrono::seconds(10));
  ASSERT_FALSE(message.empty()) << "no background failure reached the log sink";
  EXPECT_NE(message.find("database unreachable"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret-key-7"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret-value-7"), std::string::npos) << message;
  down = false;
  EXPECT_TRUE(wb.flush(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace rediscache::test
