// Daily active users (bitmap): one bitmap per UTC day, bit n set when user n was active
// (SETBIT); daily counts (BITCOUNT), retention as BITOP AND of two days, "active in the period"
// as BITOP OR. 1,000,000 users: every count is checked against exact sets kept in the program,
// and the memory of a day's bitmap is measured (MEMORY USAGE).
//
//   recipe_daily_active_users [host] [port] (default: REDISCACHE_TEST_REDIS_HOST/PORT)
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/recipes/daily_active_users.hpp>

using rediscache::recipes::DailyActiveUsers;
using rediscache::recipes::DailyActiveUsersOptions;
using rediscache::recipes::Day;

namespace {

constexpr std::uint64_t kUsers = 1'000'000;
constexpr int kDays = 3;

// Deterministic activity: about 30 % of users on day 0; each of them comes back with 60 %
// probability; others show up with 10 %.
bool active(std::uint64_t user, int day, bool active_before) {
  std::uint64_t h =
      user * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(day) * 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 31U;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 29U;
  const std::uint64_t percent = h % 100;
  if (day == 0) return percent < 30;
  return active_before ? percent < 60 : percent < 10;
}

}  // namespace

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "daily_active_users",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        DailyActiveUsersOptions options;
        options.prefix = prefix + "dau:";
        options.retention = std::chrono::hours(24 * 35);
        options.max_user_id = kUsers - 1;
        DailyActiveUsers dau(client, options);
        const Day first = Day::from_date(2026, 11, 23);
        const auto started = std::chrono::steady_clock::now();

        std::vector<std::vector<bool>> truth(kDays, std::vector<bool>(kUsers, false));
        for (int d = 0; d < kDays; ++d) {
          std::vector<std::uint64_t> batch;
          for (std::uint64_t u = 0; u < kUsers; ++u) {
            const bool before = d > 0 && truth[d - 1][u];
            // The last user is active every day, so each bitmap spans all 1,000,000 ids.
            if (!active(u, d, before) && u != kUsers - 1) continue;
            truth[d][u] = true;
            batch.push_back(u);
            if (batch.size() == 10'000) {
              dau.mark_active(first + d, batch);  // 10,000 SETBITs in one MULTI/EXEC
              batch.clear();
            }
          }
          dau.mark_active(first + d, batch);
        }

        const auto exact_count = [&](auto&& include) {
          long long n = 0;
          for (std::uint64_t u = 0; u < kUsers; ++u) n += include(u) ? 1 : 0;
          return n;
        };
        std::cout << "day          active users (BITCOUNT)\n";
        for (int d = 0; d < kDays; ++d) {
          const long long count = dau.count(first + d);
          std::cout << (first + d).to_string() << std::setw(12) << count << '\n';
          checks.check(count == exact_count([&](std::uint64_t u) { return truth[d][u]; }),
                       "day " + std::to_string(d) + " count is exact");
        }
        const long long retained = dau.retained(first, first + 1);
        const long long cohort = dau.count(first);
        std::cout << "day-1 retention of day 0's users (BITOP AND): " << retained << " of "
                  << cohort << " (" << std::fixed << std::setprecision(1)
                  << 100.0 * static_cast<double>(retained) / static_cast<double>(cohort) << " %)\n";
        checks.check(
            retained == exact_count([&](std::uint64_t u) { return truth[0][u] && truth[1][u]; }),
            "retention day 0 -> day 1 is exact");
        const long long all_days = dau.count_active_on_all({first, first + 1, first + 2});
        const long long any_day = dau.count_active_on_any({first, first + 1, first + 2});
        std::cout << "active all 3 days: " << all_days << ", on any of them: " << any_day << '\n';
        checks.check(all_days == exact_count([&](std::uint64_t u) {
                       return truth[0][u] && truth[1][u] && truth[2][u];
                     }),
                     "active on all three days is exact");
        checks.check(any_day == exact_count([&](std::uint64_t u) {
                       return truth[0][u] || truth[1][u] || truth[2][u];
                     }),
                     "active on any day is exact");

        const long long bitmap_bytes = client.memory_usage(dau.day_key(first), true).value_or(-1);
        std::cout << "memory of one day's bitmap for " << kUsers
                  << " user ids (MEMORY USAGE): " << bitmap_bytes << " bytes ("
                  << std::setprecision(3)
                  << 8.0 * static_cast<double>(bitmap_bytes) / static_cast<double>(kUsers)
                  << " bits per user, whoever is active)\n";
        checks.check(bitmap_bytes >= static_cast<long long>(kUsers / 8) &&
                         bitmap_bytes <= static_cast<long long>(kUsers / 8) + 8192,
                     "a day takes 125,000 bytes plus allocator overhead");
        checks.check(client.ttl(dau.day_key(first)) > 0, "day bitmaps expire");
        const auto seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
        std::cout << std::setprecision(1) << "took " << seconds.count() << " s\n";
      });
}
