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
    sample_ = std::max(capacity * kSamplesPerEntry, kMinSample);
  }

  /// Increments between halvings, per entry of capacity (TinyLFU's 10 x capacity).
  static constexpr std::size_t kSamplesPerEntry = 10;
  /// But never fewer: a small cache (one shard of a few hundred entries or less) otherwise forgets
  /// a key's count before it comes back, and every key then looks as rare as the newcomer, so
  /// admission admits everything and W-TinyLFU is LRU. On the traces in ../shared/traces this
  /// floor raised the small caches of the loop-like traces (loop, gli, cs: from 0.0 to 0.9-4.8 %
  /// hits at 10-50 entries, Belady 1.0-4.9 %) and cost no row of the others its
  /// better-of-LRU-and-SLRU bound; 3,000-5,000 did about equally well, 10,000 cost web12.
  static constexpr std::size_t kMinSample = 4000;

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
