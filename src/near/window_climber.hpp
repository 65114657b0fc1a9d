// WindowClimber: sizes W-TinyLFU's admission window by hill climbing on the hit rate, as
// Caffeine does: the window grows while growing it helps, and shrinks while shrinking helps.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rediscache::detail {

/// Over periods of sample_size() accesses, compares each period's hit rate with the previous
/// one: while it rises (or holds), the window keeps moving the same way; when it falls, the
/// direction reverses. The step starts at kStepShare of the capacity and decays by kStepDecay
/// each period, so the window settles; a change of the hit rate by kRestartThreshold or more
/// (the workload changed) restarts the full step. The window stays in [1, capacity - 1], so
/// the main region always holds at least one entry.
///
/// Pure arithmetic: no clock, no allocation. Not thread-safe (each near-cache shard owns one,
/// under its mutex).
class WindowClimber {
 public:
  /// First step, as a share of the capacity.
  static constexpr double kStepShare = 0.0625;
  /// Each period's step is this share of the previous one.
  static constexpr double kStepDecay = 0.98;
  /// A hit-rate change at least this large restarts the full step.
  static constexpr double kRestartThreshold = 0.05;
  /// Accesses per sample period, per entry of capacity.
  static constexpr std::size_t kSamplesPerEntry = 10;

  /// `capacity` entries are shared by the window and the main region; the window starts at
  /// `initial_window` (clamped to the bounds). A capacity below 2 leaves nothing to adapt:
  /// window() is then 0 and record() never reports a change.
  WindowClimber(std::size_t capacity, std::size_t initial_window) noexcept;

  /// Counts one access (a hit or a miss). Returns true when it ended a sample period and
  /// window() changed. The hit path's cost: two increments and a comparison.
  bool record(bool hit) noexcept {
    hits_ += hit ? 1 : 0;
    if (++accesses_ < sample_size_) return false;
    const double hit_rate = static_cast<double>(hits_) / static_cast<double>(accesses_);
    hits_ = accesses_ = 0;
    return adjust(hit_rate);
  }

  /// Ends a sample period whose hit rate was `hit_rate` (in [0, 1]) and takes one step.
  /// Returns whether window() changed.
  bool adjust(double hit_rate) noexcept;

  /// The window's size now, in entries.
  [[nodiscard]] std::size_t window() const noexcept { return window_; }
  /// The next step, in entries: its sign is the direction the window moves next.
  [[nodiscard]] double step() const noexcept { return step_; }
  [[nodiscard]] std::size_t sample_size() const noexcept { return sample_size_; }
  [[nodiscard]] std::size_t min_window() const noexcept { return min_window_; }
  [[nodiscard]] std::size_t max_window() const noexcept { return max_window_; }

 private:
  std::size_t capacity_ = 0;
  std::size_t min_window_ = 0;
  std::size_t max_window_ = 0;
  std::size_t sample_size_ = 0;
  double target_ = 0;  // the window in fractional entries, so decayed steps still add up
  std::size_t window_ = 0;
  double step_ = 0;
  double previous_hit_rate_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t accesses_ = 0;
};

}  // namespace rediscache::detail
