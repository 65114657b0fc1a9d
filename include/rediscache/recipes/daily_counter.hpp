// DailyCounter: named counters bucketed by UTC day (INCRBY with an expiry per day key), read one
// day at a time or as a range in one MGET (a week of page views).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/recipes/day.hpp"

namespace rediscache::recipes {

/// Options of DailyCounter.
struct DailyCounterOptions {
  /// Prefix of every key (`<prefix><name>:<YYYY-MM-DD>`); must not be empty. For Redis Cluster
  /// give it a hash tag ("{views}:") so a range's MGET stays in one slot.
  std::string prefix;
  /// Expiry of a day's counter, renewed by every increment; must be positive. Keep it longer
  /// than the widest range you read.
  std::chrono::seconds retention = std::chrono::hours(24 * 35);
};

/// Counters per name and UTC day (page views, sign-ups). Every key expires. Thread-safe.
class REDISCACHE_EXPORT DailyCounter {
 public:
  /// Throws std::invalid_argument naming `prefix` or `retention`.
  DailyCounter(Client client, DailyCounterOptions options);

  /// Adds `by` to the counter `name` of `day` and returns the new value (INCRBY, then PEXPIRE,
  /// in one MULTI/EXEC, so no counter is ever left without an expiry). One round trip.
  long long increment(std::string_view name, Day day, long long by = 1);
  /// The counter of one day; 0 when nothing was counted (or it expired). One round trip.
  long long get(std::string_view name, Day day);
  /// The counters of `first`..`last` (both included), one entry per day, 0 where nothing was
  /// counted. One MGET, one round trip. Throws std::invalid_argument for a bad range (see
  /// days_between).
  std::vector<long long> range(std::string_view name, Day first, Day last);

  [[nodiscard]] std::string key(std::string_view name, Day day) const;

 private:
  Client client_;
  DailyCounterOptions options_;
};

}  // namespace rediscache::recipes
