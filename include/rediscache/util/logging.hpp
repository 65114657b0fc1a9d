// Logging hook: rediscache reports noteworthy events (background failures, server warnings)
// to a sink the user installs; no logging library is forced on users, and nothing is logged
// until a sink is installed.
#pragma once

#include <functional>
#include <string_view>

#include "rediscache/export.hpp"

namespace rediscache {

/// Severity of a log message, lowest first.
enum class LogLevel { kDebug, kInfo, kWarning, kError };

/// "debug", "info", "warning", "error".
[[nodiscard]] REDISCACHE_EXPORT const char* to_string(LogLevel level) noexcept;

/// Receives one message. Called from whichever thread logs (background workers included), so
/// it must be thread-safe; it should be quick and must not call back into rediscache's logging.
/// Messages name servers and commands, never keys or values. An exception it throws is caught
/// and dropped.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// Installs the process-wide sink and the lowest level passed to it; an empty sink turns
/// logging off (the default). Thread-safe; messages being logged concurrently go to either the
/// old or the new sink. For example, with spdlog:
///
///     rediscache::set_log_sink([](rediscache::LogLevel level, std::string_view msg) {
///       spdlog::log(level >= rediscache::LogLevel::kWarning ? spdlog::level::warn
///                                                           : spdlog::level::info, msg);
///     }, rediscache::LogLevel::kInfo);
REDISCACHE_EXPORT void set_log_sink(LogSink sink, LogLevel min_level = LogLevel::kInfo);

/// True when a sink is installed and `level` reaches its minimum: lets callers skip building a
/// message nobody reads. One relaxed atomic load. Thread-safe.
[[nodiscard]] REDISCACHE_EXPORT bool log_enabled(LogLevel level) noexcept;

/// Passes `message` to the sink if `log_enabled(level)`. Never throws. Thread-safe.
REDISCACHE_EXPORT void log_message(LogLevel level, std::string_view message) noexcept;

}  // namespace rediscache
