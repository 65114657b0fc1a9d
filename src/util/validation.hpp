// Option and argument validation, written once: every check throws std::invalid_argument whose
// message starts with the name of what it checks ("CacheOptions::ttl must be ..."), and every
// duration has an upper bound that Redis and the clocks can represent. Also saturating deadlines.
#pragma once

#include <chrono>
#include <ratio>
#include <string>
#include <string_view>

namespace rediscache::detail {

/// The longest duration any option or argument may hold: one year. Redis takes PX/PEXPIRE in
/// milliseconds and refuses a TTL whose absolute expiry overflows 2^63 ms; steady_clock counts
/// nanoseconds in 64 bits (about 292 years). A year keeps `now + d`, `d * (1 + jitter)`,
/// `d + stale_window` and conversions to microseconds far from every one of those limits, and no
/// cache TTL, lock wait, window or timeout has a reason to be longer.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 365);

/// The longest retention of the day-bucketed recipes (daily counters, active users, unique
/// visitors): ten years, so that year-over-year reports have their data. Far below every limit.
inline constexpr std::chrono::milliseconds kMaxRetention = std::chrono::hours(24 * 3650);

/// Throws std::invalid_argument("<field> <rule>").
[[noreturn]] void throw_invalid(std::string_view field, std::string_view rule);

/// Throws std::invalid_argument("<field> <rule>") unless `ok`.
inline void require(bool ok, std::string_view field, std::string_view rule) {
  if (!ok) throw_invalid(field, rule);
}

/// Throws unless `value` is not empty.
void require_non_empty(std::string_view value, std::string_view field);

/// The field of a qualified name, as a sibling's message names it: "lock.initial_backoff" from
/// "CacheOptions::lock.initial_backoff".
std::string field_name(std::string_view qualified);

/// "1 ms", "250 ms", "365 days": how bounds read in messages.
std::string describe(std::chrono::milliseconds value);

/// Throws unless min <= value <= max, compared in `value`'s own type so that no conversion can
/// overflow (seconds::max() is rejected, not wrapped). Bounds that do not fall on a tick of that
/// type are rounded inward.
template <class Rep, class Period>
void require_duration(std::chrono::duration<Rep, Period> value, std::chrono::milliseconds min,
                      std::chrono::milliseconds max, std::string_view field) {
  using D = std::chrono::duration<Rep, Period>;
  if (value < std::chrono::ceil<D>(min) || value > std::chrono::floor<D>(max)) {
    throw_invalid(field, "must be in [" + describe(min) + ", " + describe(max) + "]");
  }
}

/// Throws unless 1 ms <= value <= kMaxDuration.
template <class Rep, class Period>
void require_positive(std::chrono::duration<Rep, Period> value, std::string_view field) {
  require_duration(value, std::chrono::milliseconds(1), kMaxDuration, field);
}

/// Throws unless 0 <= value <= kMaxDuration.
template <class Rep, class Period>
void require_non_negative(std::chrono::duration<Rep, Period> value, std::string_view field) {
  require_duration(value, std::chrono::milliseconds(0), kMaxDuration, field);
}

/// Throws unless min <= value <= max (integers and floating point; a NaN fails).
template <class T>
void require_range(T value, T min, T max, std::string_view field) {
  if (!(value >= min && value <= max)) {
    throw_invalid(field, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
}

/// Throws unless value >= min.
template <class T>
void require_at_least(T value, T min, std::string_view field) {
  if (!(value >= min)) throw_invalid(field, "must be at least " + std::to_string(min));
}

/// The bounds of a backoff: both in [1 ms, kMaxDuration] and `max >= min`. Throws naming the
/// field at fault ("WriteThroughOptions::max_backoff must be at least initial_backoff").
template <class Rep, class Period>
void require_backoff(std::chrono::duration<Rep, Period> min, std::chrono::duration<Rep, Period> max,
                     std::string_view min_field, std::string_view max_field) {
  require_positive(min, min_field);
  require_positive(max, max_field);
  if (max < min) throw_invalid(max_field, "must be at least " + field_name(min_field));
}

/// An options type, validated: lets a constructor validate an argument in its initializer list.
template <class Options>
Options validated(Options options) {
  options.validate();
  return options;
}

/// `now + d`, clamped to the time point's range instead of overflowing: a deadline a caller
/// computes from a huge duration is "never", not a time in the past.
template <class Clock, class Dur, class Rep, class Period>
std::chrono::time_point<Clock, Dur> saturating_deadline(std::chrono::time_point<Clock, Dur> now,
                                                        std::chrono::duration<Rep, Period> d) {
  using TP = std::chrono::time_point<Clock, Dur>;
  using D = std::chrono::duration<Rep, Period>;
  // Compare in the coarser of the two types: converting to a coarser type cannot overflow.
  constexpr bool kSourceIsFiner = std::ratio_less_equal_v<Period, typename Dur::period>;
  const Dur since_epoch = now.time_since_epoch();
  if (d >= D::zero()) {
    // How far `now` may move up; from a time point at or before the epoch, all of Dur.
    const Dur headroom = since_epoch > Dur::zero() ? Dur::max() - since_epoch : Dur::max();
    if constexpr (kSourceIsFiner) {
      if (std::chrono::ceil<Dur>(d) >= headroom) return TP::max();
    } else {
      if (d >= std::chrono::floor<D>(headroom)) return TP::max();
    }
  } else {
    // How far `now` may move down; from a time point at or after the epoch, all of Dur.
    const Dur room = since_epoch < Dur::zero() ? since_epoch - Dur::min() : Dur::max();
    if constexpr (kSourceIsFiner) {
      if (std::chrono::floor<Dur>(d) <= -room) return TP::min();
    } else {
      if (d <= -std::chrono::floor<D>(room)) return TP::min();
    }
  }
  return now + std::chrono::duration_cast<Dur>(d);
}

}  // namespace rediscache::detail
