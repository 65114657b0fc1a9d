#include "near/window_climber.hpp"

#include <algorithm>
#include <cmath>

namespace rediscache::detail {

WindowClimber::WindowClimber(std::size_t capacity, std::size_t initial_window) noexcept
    : capacity_(capacity) {
  if (capacity_ < 2) {
    sample_size_ = SIZE_MAX;
    return;
  }
  min_window_ = 1;
  max_window_ = capacity_ - 1;
  window_ = std::clamp(initial_window, min_window_, max_window_);
  target_ = static_cast<double>(window_);
  // The window starts small (1 % by default), so the first move is to grow it.
  step_ = kStepShare * static_cast<double>(capacity_);
  sample_size_ = std::max<std::size_t>(capacity_ * kSamplesPerEntry, 64);
}

bool WindowClimber::adjust(double hit_rate) noexcept {
  if (capacity_ < 2) return false;
  const double change = hit_rate - previous_hit_rate_;
  previous_hit_rate_ = hit_rate;
  // Keep going while the hit rate holds or rises; turn back when it falls.
  const double amount = change >= 0 ? step_ : -step_;
  const double restart = kStepShare * static_cast<double>(capacity_);
  step_ = std::abs(change) >= kRestartThreshold ? (amount >= 0 ? restart : -restart)
                                                : kStepDecay * amount;
  target_ = std::clamp(target_ + amount, static_cast<double>(min_window_),
                       static_cast<double>(max_window_));
  const auto next = static_cast<std::size_t>(std::lround(target_));
  if (next == window_) return false;
  window_ = next;
  return true;
}

}  // namespace rediscache::detail
