#include "near/window_ghosts.hpp"

#include <algorithm>

namespace rediscache::detail {

WindowGhosts::WindowGhosts(std::size_t capacity, std::size_t initial_window) : capacity_(capacity) {
  if (capacity_ < 2) return;
  window_ = std::clamp<std::size_t>(initial_window, 1, capacity_ - 1);
  target_ = static_cast<double>(window_);
  index_.reserve(capacity_ + 1);
}

void WindowGhosts::window_rejected(std::uint64_t hash) noexcept { remember(hash, kWindowSide); }

void WindowGhosts::main_evicted(std::uint64_t hash) noexcept { remember(hash, kMainSide); }

bool WindowGhosts::missed(std::uint64_t hash) noexcept {
  if (capacity_ < 2) return false;
  const auto ghost = index_.find(hash);
  if (ghost == index_.end()) return false;
  const Side side = ghost->second.side;
  forget(ghost);
  // ARC's rule: the side with fewer ghosts moves further per hit, so both sides' evidence counts
  // in proportion; the share keeps one hit from moving the split far.
  const double here = static_cast<double>(std::max<std::size_t>(1, lists_[side].size()));
  const double there = static_cast<double>(lists_[other(side)].size());
  const double step = kStepShare * std::max(1.0, there / here);
  const double lowest = 1.0;
  const double highest = static_cast<double>(capacity_ - 1);
  target_ = std::clamp(side == kWindowSide ? target_ + step : target_ - step, lowest, highest);
  const auto next = static_cast<std::size_t>(target_);
  if (next == window_) return false;
  window_ = next;
  trim(kWindowSide);
  trim(kMainSide);
  return true;
}

// Ghosts are hints: a hash that cannot be remembered (no memory) is simply not, so eviction, which
// calls this under the shard's lock, never fails for it.
void WindowGhosts::remember(std::uint64_t hash, Side side) noexcept {
  if (capacity_ < 2) return;
  const auto existing = index_.find(hash);
  if (existing != index_.end()) forget(existing);
  try {
    lists_[side].push_front(hash);
  } catch (...) {
    return;
  }
  try {
    index_.emplace(hash, Ghost{lists_[side].begin(), side});
  } catch (...) {
    lists_[side].pop_front();
    return;
  }
  trim(side);
}

void WindowGhosts::trim(Side side) noexcept {
  const std::size_t limit = std::max<std::size_t>(1, limit_of(side));
  while (lists_[side].size() > limit) forget(index_.find(lists_[side].back()));
}

void WindowGhosts::forget(std::unordered_map<std::uint64_t, Ghost>::iterator ghost) noexcept {
  lists_[ghost->second.side].erase(ghost->second.at);
  index_.erase(ghost);
}

}  // namespace rediscache::detail
