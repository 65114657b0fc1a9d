// The reporting path of every swallowed failure: the user's ErrorHandler, or the log sink.
#include "rediscache/util/error_handler.hpp"

#include <string>

#include "rediscache/util/errors.hpp"
#include "rediscache/util/logging.hpp"

namespace rediscache::detail {

void report_error(const ErrorHandler& handler, std::string_view context,
                  const std::exception& error) noexcept {
  try {
    if (handler) {
      handler(context, error);
      return;
    }
    if (!log_enabled(LogLevel::kWarning)) return;
    std::string message = "rediscache: ";
    message.append(context).append(": ").append(error.what());
    log_message(LogLevel::kWarning, message);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a failing handler must not break the caller
  }
}

void report_error(const ErrorHandler& handler, std::string_view context,
                  std::string_view message) noexcept {
  if (!handler && !log_enabled(LogLevel::kWarning)) return;
  try {
    report_error(handler, context, Error(Errc::kUnavailable, std::string(message)));
  } catch (...) {  // NOLINT(bugprone-empty-catch): building the message may throw bad_alloc
  }
}

}  // namespace rediscache::detail
