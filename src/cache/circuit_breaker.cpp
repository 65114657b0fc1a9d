#include "cache/circuit_breaker.hpp"

#include "util/validation.hpp"

namespace rediscache::detail {

bool CircuitBreaker::allow() {
  if (!options_.enabled || state_.load(std::memory_order_acquire) == State::kClosed) return true;
  const std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  switch (state_.load(std::memory_order_relaxed)) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now < open_until_) return false;
      state_.store(State::kHalfOpen, std::memory_order_release);
      probing_ = true;
      probe_started_ = now;
      return true;
    case State::kHalfOpen:
      // A probe that never reported (its caller died in a way we cannot see) must not keep the
      // breaker half-open forever: after a cool-down another caller probes.
      if (probing_ && now - probe_started_ < options_.cool_down) return false;
      probing_ = true;
      probe_started_ = now;
      return true;
  }
  return true;
}

void CircuitBreaker::record_success() {
  if (!options_.enabled) return;
  if (state_.load(std::memory_order_acquire) == State::kClosed) {
    // Fast path: most successes change nothing, and take no lock.
    if (failures_.load(std::memory_order_relaxed) == 0) return;
    const std::lock_guard<std::mutex> lock(mu_);
    failures_.store(0, std::memory_order_relaxed);
    return;
  }
  const std::lock_guard<std::mutex> lock(mu_);
  failures_.store(0, std::memory_order_relaxed);
  probing_ = false;
  state_.store(State::kClosed, std::memory_order_release);
}

bool CircuitBreaker::record_failure() {
  if (!options_.enabled) return false;
  const std::lock_guard<std::mutex> lock(mu_);
  const State state = state_.load(std::memory_order_relaxed);
  if (state == State::kOpen) return false;  // a call allowed before the breaker opened
  if (state == State::kClosed) {
    const std::uint32_t failures = failures_.load(std::memory_order_relaxed) + 1;
    failures_.store(failures, std::memory_order_relaxed);
    if (failures < options_.failure_threshold) return false;
  }
  failures_.store(0, std::memory_order_relaxed);
  probing_ = false;
  open_until_ = detail::saturating_deadline(Clock::now(), options_.cool_down);
  state_.store(State::kOpen, std::memory_order_release);
  return true;
}

void CircuitBreaker::record_neutral() {
  if (!options_.enabled || state_.load(std::memory_order_acquire) == State::kClosed) return;
  const std::lock_guard<std::mutex> lock(mu_);
  if (state_.load(std::memory_order_relaxed) == State::kHalfOpen) probing_ = false;
}

}  // namespace rediscache::detail
