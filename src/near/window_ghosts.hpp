// WindowGhosts: sizes W-TinyLFU's admission window from ghost entries, as ARC sizes its recency
// list: remembers the hashes of keys the window rejected and of keys the main region evicted, and
// when a missed key is one of them, moves the window toward the region that would have kept it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

namespace rediscache::detail {

/// A miss on a key the window rejected means a larger window would have hit; a miss on a key the
/// main region evicted means a larger main region would have. Each such miss moves the window by
/// kStepShare of an entry, times the other side's ghosts over this side's when that is more than 1
/// (ARC's rule). The evidence is gathered on the same accesses for both sides, so, unlike a hill
/// climber comparing one period's hit rate with the last, it is not misled when the workload's
/// own hit rate swings from one period to the next.
///
/// As in ARC, the window side remembers at most capacity - window() ghosts (what a window of the
/// whole capacity would still hold) and the main side at most window() (the same for the main
/// region): `capacity` hashes in all, oldest forgotten first. Only the miss and eviction paths
/// touch them; a hit costs nothing. Not thread-safe (each near-cache shard owns one, under its
/// mutex).
class WindowGhosts {
 public:
  /// `capacity` entries are shared by the window and the main region; the window starts at
  /// `initial_window` (clamped to [1, capacity - 1]). A capacity below 2 leaves nothing to adapt:
  /// window() is then 0 and nothing is remembered.
  WindowGhosts(std::size_t capacity, std::size_t initial_window);

  /// The window moves by this share of an entry per ghost hit (times ARC's ratio): measured on
  /// the traces in ../shared/traces, 1 entry per hit follows noise, 0.1-0.25 does not.
  static constexpr double kStepShare = 0.25;

  /// The window's oldest entry was not admitted: it left the cache. Out of memory, the ghost is
  /// not remembered (ghosts are hints), so these never throw.
  void window_rejected(std::uint64_t hash) noexcept;
  /// The main region evicted this entry.
  void main_evicted(std::uint64_t hash) noexcept;
  /// A miss of the key with this hash. Returns whether window() changed.
  bool missed(std::uint64_t hash) noexcept;

  /// The window's size now, in entries.
  [[nodiscard]] std::size_t window() const noexcept { return window_; }
  /// Ghosts remembered for each side.
  [[nodiscard]] std::size_t window_ghosts() const noexcept { return lists_[kWindowSide].size(); }
  [[nodiscard]] std::size_t main_ghosts() const noexcept { return lists_[kMainSide].size(); }

 private:
  enum Side : std::size_t { kWindowSide = 0, kMainSide = 1 };
  struct Ghost {
    std::list<std::uint64_t>::iterator at;
    Side side;
  };

  static Side other(Side side) noexcept { return side == kWindowSide ? kMainSide : kWindowSide; }
  std::size_t limit_of(Side side) const noexcept {
    return side == kWindowSide ? capacity_ - window_ : window_;
  }
  void remember(std::uint64_t hash, Side side) noexcept;
  void trim(Side side) noexcept;
  void forget(std::unordered_map<std::uint64_t, Ghost>::iterator ghost) noexcept;

  std::size_t capacity_ = 0;
  std::size_t window_ = 0;
  double target_ = 0;  // the window in fractional entries, so small steps still add up
  std::list<std::uint64_t> lists_[2];  // front = newest
  std::unordered_map<std::uint64_t, Ghost> index_;
};

}  // namespace rediscache::detail
