// Counters and page views (strings): one counter per page and UTC day, INCRBY with an expiry set
// in the same transaction, and a week read back with one MGET.
//
//   recipe_counters [host] [port]      (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/recipes/daily_counter.hpp>

using rediscache::recipes::DailyCounter;
using rediscache::recipes::DailyCounterOptions;
using rediscache::recipes::Day;

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "counters",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        DailyCounterOptions options;
        options.prefix = prefix + "views:";
        options.retention = std::chrono::hours(24 * 8);  // a week plus a day
        DailyCounter views(client, options);

        // Simulated traffic: on day d, "/home" is viewed 100 + 10 d times, "/pricing" d times.
        const Day monday = Day::from_date(2026, 11, 23);
        std::map<std::string, std::vector<long long>> expected;
        for (int d = 0; d < 7; ++d) {
          for (int i = 0; i < 100 + 10 * d; ++i) views.increment("/home", monday + d);
          if (d > 0) views.increment("/pricing", monday + d, d);  // INCRBY d in one call
          expected["/home"].push_back(100 + 10 * d);
          expected["/pricing"].push_back(d);
        }

        std::cout << "page views, week of " << monday.to_string() << " (one MGET per page):\n";
        for (const auto& [page, want] : expected) {
          const std::vector<long long> week = views.range(page, monday, monday + 6);
          long long total = 0;
          std::cout << "  " << page << ':';
          for (const long long n : week) {
            std::cout << ' ' << n;
            total += n;
          }
          std::cout << "  (total " << total << ")\n";
          checks.check(week == want, page + " week matches the simulated views");
        }
        checks.check(views.get("/home", monday + 7) == 0, "a day without views reads 0");

        const long long ttl = client.ttl(views.key("/home", monday));
        std::cout << "  TTL of " << views.key("/home", monday) << ": " << ttl << " s\n";
        checks.check(ttl > 0 && ttl <= 8LL * 24 * 3600, "every day bucket expires within 8 days");
      });
}
