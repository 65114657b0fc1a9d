#include "rediscache/recipes/day.hpp"

#include <cstdio>
#include <stdexcept>

namespace rediscache::recipes {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar), exact for
// every representable day without tables or time zones.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(int year) noexcept { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int days_in_month(int year, int month) noexcept {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

}  // namespace

Day Day::from_date(int year, int month, int day) {
  if (year < 1 || year > 9999) throw std::invalid_argument("year must be in 1..9999");
  if (month < 1 || month > 12) throw std::invalid_argument("month must be in 1..12");
  if (day < 1 || day > days_in_month(year, month)) {
    throw std::invalid_argument("day must be a day of the month");
  }
  return Day(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)));
}

Day Day::of(std::chrono::system_clock::time_point time) noexcept {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  constexpr std::int64_t kSecondsPerDay = 86400;
  // Floor division, so instants before 1970 fall on the right day.
  std::int64_t days = seconds / kSecondsPerDay;
  if (seconds % kSecondsPerDay < 0) --days;
  return Day(days);
}

Day Day::today() noexcept { return of(std::chrono::system_clock::now()); }

std::string Day::to_string() const {
  const Civil c = civil_from_days(days_);
  char text[40];
  const int n = std::snprintf(text, sizeof text, "%04lld-%02u-%02u", static_cast<long long>(c.year),
                              c.month, c.day);
  return std::string(text, static_cast<std::size_t>(n));
}

std::vector<Day> days_between(Day first, Day last) {
  if (last < first) throw std::invalid_argument("last must not be before first");
  if (last - first >= kMaxDayRange) {
    throw std::invalid_argument("a day range must not exceed kMaxDayRange days");
  }
  std::vector<Day> days;
  days.reserve(static_cast<std::size_t>(last - first + 1));
  for (Day d = first; d <= last; d += 1) days.push_back(d);
  return days;
}

}  // namespace rediscache::recipes
