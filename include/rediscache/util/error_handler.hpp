// The one callback type for failures rediscache does not throw (background threads, destructors,
// a write that already happened), and the one path that delivers them: to the handler, or, when
// none is set, to the log sink (logging.hpp).
#pragma once

#include <exception>
#include <functional>
#include <string_view>

#include "rediscache/export.hpp"

namespace rediscache {

/// Receives a failure rediscache swallowed: a Redis error on a read it served anyway, a failed
/// refresh, flush or invalidation, a lock the watchdog could not extend. `context` names what
/// was being done ("write-behind batch writer", "lock watchdog", ...); `error` is the failure,
/// whose message names host:port and the command, never keys or values. Called from whichever
/// thread failed (background threads included), possibly from several at once: it must be
/// thread-safe and quick. An exception it throws is caught and dropped.
///
/// When no handler is set (an empty std::function), the failure goes to the log sink instead,
/// at LogLevel::kWarning, as "rediscache: <context>: <message>".
using ErrorHandler = std::function<void(std::string_view context, const std::exception& error)>;

namespace detail {

/// Delivers a swallowed failure: to `handler` if set, else to the log sink (kWarning). Never
/// throws. Thread-safe as far as `handler` is.
REDISCACHE_EXPORT void report_error(const ErrorHandler& handler, std::string_view context,
                                    const std::exception& error) noexcept;

/// The same for a failure that is not an exception (a lock found lost): `message` reaches the
/// handler as the what() of a rediscache::Error.
REDISCACHE_EXPORT void report_error(const ErrorHandler& handler, std::string_view context,
                                    std::string_view message) noexcept;

}  // namespace detail
}  // namespace rediscache
