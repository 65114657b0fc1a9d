// Exponential backoff, with or without jitter: the one pause schedule behind every retry loop
// (locks, the stampede lock, topology retries, write-behind and write-through, the
// invalidation listener's reconnects).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>

namespace rediscache::detail {

/// Pauses that start at `initial` and double on every `next()` up to `max`. With
/// `Jitter::kEqual` ("equal jitter") each pause is drawn from [step/2, step], which spreads
/// waiters apart so they do not retry in lockstep; with `Jitter::kNone` it is the step itself.
/// Not thread-safe (one per retry loop).
class Backoff {
 public:
  enum class Jitter { kNone, kEqual };

  /// Requires 0 < initial <= max (callers validate their options first).
  Backoff(std::chrono::microseconds initial, std::chrono::microseconds max,
          Jitter jitter = Jitter::kEqual);
  /// The same with a fixed seed, for deterministic tests.
  Backoff(std::chrono::microseconds initial, std::chrono::microseconds max, Jitter jitter,
          std::uint64_t seed);

  /// The next pause; doubles the step (up to max) for the one after.
  [[nodiscard]] std::chrono::microseconds next();
  /// Starts again from `initial` (after a success).
  void reset() noexcept { step_ = initial_; }
  /// The step the next pause is drawn from.
  [[nodiscard]] std::chrono::microseconds step() const noexcept { return step_; }

  /// Attempt `attempt`'s step (0 first): initial * 2^attempt, at most max. No jitter, no state.
  [[nodiscard]] static std::chrono::microseconds step_for(std::chrono::microseconds initial,
                                                          std::chrono::microseconds max,
                                                          std::size_t attempt) noexcept;

 private:
  std::chrono::microseconds initial_;
  std::chrono::microseconds max_;
  std::chrono::microseconds step_;
  Jitter jitter_;
  std::mt19937_64 rng_;
};

/// Sleeps `pause`, but never past `deadline`; returns at once when the deadline has passed.
void sleep_before(std::chrono::steady_clock::duration pause,
                  std::chrono::steady_clock::time_point deadline);

}  // namespace rediscache::detail
