#include "util/backoff.hpp"

#include <algorithm>
#include <thread>

#include "util/random.hpp"

namespace rediscache::detail {

Backoff::Backoff(std::chrono::microseconds initial, std::chrono::microseconds max, Jitter jitter)
    : Backoff(initial, max, jitter, random_u64()) {}

Backoff::Backoff(std::chrono::microseconds initial, std::chrono::microseconds max, Jitter jitter,
                 std::uint64_t seed)
    : initial_(initial),
      max_(std::max(initial, max)),
      step_(initial),
      jitter_(jitter),
      rng_(seed) {}

std::chrono::microseconds Backoff::next() {
  const std::chrono::microseconds step = step_;
  step_ = step_ >= max_ / 2 ? max_ : step_ * 2;
  if (jitter_ == Jitter::kNone) return step;
  std::uniform_int_distribution<long long> draw(step.count() / 2, step.count());
  return std::chrono::microseconds(draw(rng_));
}

std::chrono::microseconds Backoff::step_for(std::chrono::microseconds initial,
                                            std::chrono::microseconds max,
                                            std::size_t attempt) noexcept {
  std::chrono::microseconds step = initial;
  for (std::size_t i = 0; i < attempt && step < max; ++i) step = step >= max / 2 ? max : step * 2;
  return std::min(step, max);
}

void sleep_before(std::chrono::steady_clock::duration pause,
                  std::chrono::steady_clock::time_point deadline) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return;
  std::this_thread::sleep_for(std::min(pause, deadline - now));
}

}  // namespace rediscache::detail
