// The process-wide log sink: an atomic level gate in front of a mutex-guarded sink, so that
// logging costs one relaxed load when nobody listens.
#include "rediscache/util/logging.hpp"

#include <atomic>
#include <cstddef>
#include <iterator>
#include <memory>
#include <mutex>
#include <utility>

namespace rediscache {
namespace {

// Above every LogLevel: nothing passes.
constexpr int kOff = static_cast<int>(LogLevel::kError) + 1;

struct SinkState {
  std::mutex mu;
  std::shared_ptr<const LogSink> sink;  // guarded by mu
  std::atomic<int> min_level{kOff};
};

SinkState& state() {
  // Leaked on purpose: background threads may log during static destruction.
  static auto* s = new SinkState;
  return *s;
}

}  // namespace

const char* to_string(LogLevel level) noexcept {
  constexpr const char* kNames[] = {"debug", "info", "warning", "error"};  // in LogLevel order
  const auto index = static_cast<std::size_t>(level);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

void set_log_sink(LogSink sink, LogLevel min_level) {
  SinkState& s = state();
  const bool on = static_cast<bool>(sink);
  auto shared = on ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  std::lock_guard<std::mutex> lock(s.mu);
  s.sink = std::move(shared);
  s.min_level.store(on ? static_cast<int>(min_level) : kOff, std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) >= state().min_level.load(std::memory_order_relaxed);
}

void log_message(LogLevel level, std::string_view message) noexcept {
  if (!log_enabled(level)) {
    return;
  }
  std::shared_ptr<const LogSink> sink;
  {
    SinkState& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    sink = s.sink;
  }
  // The sink runs outside the lock, so a slow sink does not serialise other threads' logging
  // behind the swap of a new sink.
  if (sink) {
    try {
      (*sink)(level, message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a logger must never take the caller down
    }
  }
}

}  // namespace rediscache
