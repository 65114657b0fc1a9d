// Unit tests of the one reporting path for swallowed failures: the ErrorHandler when set, else
// the log sink; neither may throw into the caller.
#include "rediscache/util/error_handler.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/util/errors.hpp"
#include "rediscache/util/logging.hpp"

namespace rediscache {
namespace {

class ReportError : public ::testing::Test {
 protected:
  void SetUp() override {
    set_log_sink(
        [this](LogLevel level, std::string_view message) {
          logged.emplace_back(level, std::string(message));
        },
        LogLevel::kDebug);
  }
  void TearDown() override { set_log_sink(nullptr); }
  std::vector<std::pair<LogLevel, std::string>> logged;
};

TEST_F(ReportError, HandlerSet_HandlerGetsContextAndErrorAndNothingIsLogged) {
  std::string context;
  std::string what;
  const ErrorHandler handler = [&](std::string_view c, const std::exception& e) {
    context = std::string(c);
    what = e.what();
  };
  detail::report_error(handler, "write-behind batch writer", IoError("redis h:1: GET: reset"));
  EXPECT_EQ(context, "write-behind batch writer");
  EXPECT_EQ(what, "redis h:1: GET: reset");
  EXPECT_TRUE(logged.empty());
}

TEST_F(ReportError, NoHandler_FailureReachesTheLogSinkAsAWarning) {
  detail::report_error(ErrorHandler{}, "refresh-ahead load", std::runtime_error("db down"));
  ASSERT_EQ(logged.size(), 1U);
  EXPECT_EQ(logged[0].first, LogLevel::kWarning);
  EXPECT_EQ(logged[0].second, "rediscache: refresh-ahead load: db down");
}

TEST_F(ReportError, NoHandlerAndSinkAboveWarning_NothingIsLogged) {
  set_log_sink([this](LogLevel l, std::string_view m) { logged.emplace_back(l, std::string(m)); },
               LogLevel::kError);
  detail::report_error(ErrorHandler{}, "x", std::runtime_error("y"));
  EXPECT_TRUE(logged.empty());
}

TEST_F(ReportError, ThrowingHandler_IsSwallowed) {
  const ErrorHandler handler = [](std::string_view, const std::exception&) {
    throw std::runtime_error("handler broke");
  };
  EXPECT_NO_THROW(detail::report_error(handler, "x", std::runtime_error("y")));
  EXPECT_NO_THROW(detail::report_error(handler, "x", "message"));
}

TEST_F(ReportError, MessageOverload_ReachesHandlerAsARediscacheError) {
  bool was_error = false;
  std::string what;
  const ErrorHandler handler = [&](std::string_view, const std::exception& e) {
    was_error = dynamic_cast<const Error*>(&e) != nullptr;
    what = e.what();
  };
  detail::report_error(handler, "lock watchdog", "the lock expired or has another holder");
  EXPECT_TRUE(was_error);
  EXPECT_EQ(what, "the lock expired or has another holder");
  detail::report_error(ErrorHandler{}, "lock watchdog", "lost");
  ASSERT_EQ(logged.size(), 1U);
  EXPECT_EQ(logged[0].second, "rediscache: lock watchdog: lost");
}

}  // namespace
}  // namespace rediscache
