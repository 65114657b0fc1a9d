// FrequencySketch: the count-min sketch W-TinyLFU admits by. Four rows of small saturating
// counters; all counters are halved every `sample` increments, so old popularity fades.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rediscache::detail {

/// Not thread-safe (each near-cache shard owns one, under its mutex).
class FrequencySketch {
 public:
  /// Sized for about `capacity` distinct hot keys.
  explicit FrequencySketch(std::size_t capacity) {
    std::size_t width = 64;
    while (width < capacity * 2) width <<= 1;
    width_mask_ = width - 1;
    counters_.assign(width * kRows, 0);
    sample_ = std::max<std::size_t>(capacity, 8) * 10;
  }

  /// Counts one access of the key with this hash.
  void increment(std::uint64_t hash) noexcept {
    bool added = false;
    for (std::size_t row = 0; row < kRows; ++row) {
      std::uint8_t& c = counters_[index(hash, row)];
      if (c < kMax) {
        ++c;
        added = true;
      }
    }
    if (added && ++additions_ >= sample_) age();
  }

  /// The estimated recent access count of the key with this hash (0..15).
  [[nodiscard]] std::uint8_t frequency(std::uint64_t hash) const noexcept {
    std::uint8_t f = kMax;
    for (std::size_t row = 0; row < kRows; ++row) f = std::min(f, counters_[index(hash, row)]);
    return f;
  }

 private:
  static constexpr std::size_t kRows = 4;
  static constexpr std::uint8_t kMax = 15;

  static std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
  }
  [[nodiscard]] std::size_t index(std::uint64_t hash, std::size_t row) const noexcept {
    const std::uint64_t h = mix(hash + 0x9e3779b97f4a7c15ULL * (row + 1));
    return row * (width_mask_ + 1) + static_cast<std::size_t>(h & width_mask_);
  }
  void age() noexcept {
    for (std::uint8_t& c : counters_) c = static_cast<std::uint8_t>(c >> 1);
    additions_ /= 2;
  }

  std::vector<std::uint8_t> counters_;
  std::size_t width_mask_ = 0;
  std::size_t sample_ = 0;
  std::size_t additions_ = 0;
};

}  // namespace rediscache::detail
