// Day: a calendar day in UTC, the bucket of the per-day recipes (counters, unique visitors,
// daily active users). Keys name a day "YYYY-MM-DD", so they read well in redis-cli.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rediscache/export.hpp"

namespace rediscache::recipes {

/// A UTC calendar day, stored as days since 1970-01-01. A plain value: thread-safe to read.
class REDISCACHE_EXPORT Day {
 public:
  /// 1970-01-01.
  constexpr Day() noexcept = default;
  /// The day `days_since_epoch` days after 1970-01-01 (negative: before it).
  constexpr explicit Day(std::int64_t days_since_epoch) noexcept : days_(days_since_epoch) {}

  /// The day of a calendar date. Throws std::invalid_argument naming `year`, `month` or `day`
  /// when the date does not exist (year outside 1..9999, month outside 1..12, day past the end
  /// of the month; leap years follow the Gregorian calendar).
  static Day from_date(int year, int month, int day);
  /// The UTC day a time point falls on.
  static Day of(std::chrono::system_clock::time_point time) noexcept;
  /// The UTC day now, by the local system clock. Tests pass explicit days instead.
  static Day today() noexcept;

  [[nodiscard]] constexpr std::int64_t days_since_epoch() const noexcept { return days_; }
  /// "YYYY-MM-DD" (the year has at least four digits; a minus sign before year 0).
  [[nodiscard]] std::string to_string() const;

  constexpr Day& operator+=(std::int64_t days) noexcept {
    days_ += days;
    return *this;
  }
  constexpr Day& operator-=(std::int64_t days) noexcept {
    days_ -= days;
    return *this;
  }
  friend constexpr Day operator+(Day d, std::int64_t days) noexcept { return d += days; }
  friend constexpr Day operator-(Day d, std::int64_t days) noexcept { return d -= days; }
  /// Days from `b` to `a`.
  friend constexpr std::int64_t operator-(Day a, Day b) noexcept { return a.days_ - b.days_; }
  friend constexpr bool operator==(Day a, Day b) noexcept { return a.days_ == b.days_; }
  friend constexpr bool operator!=(Day a, Day b) noexcept { return a.days_ != b.days_; }
  friend constexpr bool operator<(Day a, Day b) noexcept { return a.days_ < b.days_; }
  friend constexpr bool operator<=(Day a, Day b) noexcept { return a.days_ <= b.days_; }
  friend constexpr bool operator>(Day a, Day b) noexcept { return a.days_ > b.days_; }
  friend constexpr bool operator>=(Day a, Day b) noexcept { return a.days_ >= b.days_; }

 private:
  std::int64_t days_ = 0;
};

/// Longest range (in days, both ends included) that the range reads of the recipes accept: it
/// bounds the size of the one command a range read sends.
inline constexpr std::int64_t kMaxDayRange = 3660;

/// Every day from `first` to `last`, both included. Throws std::invalid_argument when `last` is
/// before `first` or the range is longer than kMaxDayRange days.
[[nodiscard]] REDISCACHE_EXPORT std::vector<Day> days_between(Day first, Day last);

}  // namespace rediscache::recipes
