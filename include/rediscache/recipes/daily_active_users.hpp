// DailyActiveUsers: one bitmap per UTC day, bit n set when user n was active (SETBIT); counts
// per day (BITCOUNT) and across days (BITOP AND for retention, OR for "active in the period").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/recipes/day.hpp"

namespace rediscache::recipes {

/// Options of DailyActiveUsers.
struct DailyActiveUsersOptions {
  /// Prefix of every key (`<prefix><YYYY-MM-DD>` per day, `<prefix>tmp:<token>` for the
  /// scratch key of a cross-day count); must not be empty. For Redis Cluster give it a hash tag
  /// ("{dau}:") so the days share a slot.
  std::string prefix;
  /// Expiry of a day's bitmap, renewed by every mark; must be positive.
  std::chrono::seconds retention = std::chrono::hours(24 * 35);
  /// Largest user id accepted. A day's bitmap takes (largest id set) / 8 bytes, whoever is
  /// active, so ids should be dense small integers (map sparse ids first). At most 2^32 - 1
  /// (a Redis string holds 512 MB).
  std::uint64_t max_user_id = (std::uint64_t{1} << 32U) - 1;
};

/// Daily active users as bitmaps keyed by UTC day. 1,000,000 users take 125 KB per day. Every
/// key expires (cross-day scratch keys are deleted in the transaction that creates them).
/// Thread-safe.
class REDISCACHE_EXPORT DailyActiveUsers {
 public:
  /// Throws std::invalid_argument naming `prefix`, `retention` or `max_user_id`.
  DailyActiveUsers(Client client, DailyActiveUsersOptions options);

  /// Marks a user active on a day (SETBIT, then PEXPIRE, in one MULTI/EXEC; one round trip).
  /// Returns true when the user was already marked. Throws std::invalid_argument naming
  /// `user_id` when it exceeds max_user_id.
  bool mark_active(Day day, std::uint64_t user_id);
  /// Marks many users in one MULTI/EXEC (one round trip); sends nothing for an empty list.
  /// Checks every id before sending anything.
  void mark_active(Day day, const std::vector<std::uint64_t>& user_ids);
  /// Whether a user was active on a day (GETBIT). One round trip.
  bool was_active(Day day, std::uint64_t user_id);
  /// Users active on a day (BITCOUNT). One round trip.
  long long count(Day day);
  /// Users active on every one of `days` (BITOP AND into a scratch key, BITCOUNT, DEL, in one
  /// MULTI/EXEC: one round trip, nothing left behind). Throws std::invalid_argument naming
  /// `days` when it is empty or longer than kMaxDayRange.
  long long count_active_on_all(const std::vector<Day>& days);
  /// Users active on at least one of `days` (BITOP OR, otherwise as count_active_on_all).
  long long count_active_on_any(const std::vector<Day>& days);
  /// Retention: users active on `cohort_day` who were active again on `later_day`.
  long long retained(Day cohort_day, Day later_day) {
    return count_active_on_all({cohort_day, later_day});
  }

  [[nodiscard]] std::string day_key(Day day) const;

 private:
  long long count_combined(BitOp operation, const std::vector<Day>& days);
  void check_user_id(std::uint64_t user_id) const;

  Client client_;
  DailyActiveUsersOptions options_;
};

}  // namespace rediscache::recipes
