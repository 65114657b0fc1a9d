// CircuitBreaker: stops a cache from paying a Redis timeout on every request while Redis is down.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "rediscache/cache/cache_options.hpp"

namespace rediscache::detail {

/// Closed → (failure_threshold consecutive failures) → open for cool_down → half-open: one
/// caller probes; success closes, failure re-opens. Every allowed call must end in
/// record_success() or record_failure(), except calls that fail for reasons that say nothing
/// about Redis' health (record_neutral()). Thread-safe; the closed path is one atomic load.
class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CircuitBreaker(const BreakerOptions& options) : options_(options) {}

  /// True when the caller may use Redis now.
  bool allow();
  void record_success();
  /// Returns true when this failure opened the breaker.
  bool record_failure();
  /// An allowed call ended without telling whether Redis is healthy (pool exhausted).
  void record_neutral();
  /// True while open or half-open (for tests and stats).
  [[nodiscard]] bool is_open() const noexcept {
    return state_.load(std::memory_order_acquire) != State::kClosed;
  }

 private:
  enum class State : std::uint8_t { kClosed, kOpen, kHalfOpen };

  BreakerOptions options_;
  std::atomic<State> state_{State::kClosed};
  std::mutex mu_;
  // Consecutive failures while closed; written under mu_, read without it on the fast path.
  std::atomic<std::uint32_t> failures_{0};
  Clock::time_point open_until_{};     // guarded by mu_
  bool probing_ = false;               // guarded by mu_
  Clock::time_point probe_started_{};  // guarded by mu_
};

}  // namespace rediscache::detail
