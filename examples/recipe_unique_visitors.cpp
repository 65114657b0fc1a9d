// Unique visitors (HyperLogLog): PFADD of visitor ids per UTC day, PFCOUNT of a day and of a
// week (the server merges the seven HLLs on the fly), PFMERGE of the week into a key with a TTL.
// 1,000,000 synthetic visitors: the estimates are printed beside the exact counts, with the
// memory of the week's HLL beside an exact SET of the same ids (MEMORY USAGE).
//
//   recipe_unique_visitors [host] [port] (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/client/pipeline.hpp>
#include <rediscache/recipes/unique_visitors.hpp>

using rediscache::recipes::Day;
using rediscache::recipes::UniqueVisitors;
using rediscache::recipes::UniqueVisitorsOptions;

namespace {

constexpr int kVisitors = 1'000'000;
constexpr std::size_t kBatch = 10'000;
constexpr double kStandardError = 1.04 / 128.0;  // 1.04 / sqrt(16384 registers) = 0.81 %

std::string visitor_id(int i) { return "visitor-" + std::to_string(i); }

// Which of the 7 days visitor i came on (bit d): every visitor on day i % 7, every third one
// also on day (i / 3) % 7.
unsigned visit_days(int i) {
  unsigned days = 1U << static_cast<unsigned>(i % 7);
  if (i % 3 == 0) days |= 1U << static_cast<unsigned>((i / 3) % 7);
  return days;
}

double relative_error(long long estimate, long long exact) {
  return (static_cast<double>(estimate) - static_cast<double>(exact)) / static_cast<double>(exact);
}

}  // namespace

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "unique_visitors",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        UniqueVisitorsOptions options;
        options.prefix = prefix + "uv:";
        options.retention = std::chrono::hours(24 * 8);
        options.merged_ttl = std::chrono::minutes(10);
        UniqueVisitors visitors(client, options);
        const Day monday = Day::from_date(2026, 11, 23);
        const auto started = std::chrono::steady_clock::now();

        // PFADD per day in batches of 10,000 ids (one MULTI/EXEC round trip per batch).
        std::vector<long long> exact(7, 0);
        std::vector<std::vector<std::string>> batch(7);
        long long visits = 0;
        for (int i = 0; i < kVisitors; ++i) {
          const unsigned days = visit_days(i);
          for (unsigned d = 0; d < 7; ++d) {
            if ((days & (1U << d)) == 0) continue;
            ++exact[d];
            ++visits;
            batch[d].push_back(visitor_id(i));
            if (batch[d].size() == kBatch) {
              visitors.add(monday + d, batch[d]);
              batch[d].clear();
            }
          }
        }
        for (unsigned d = 0; d < 7; ++d) visitors.add(monday + d, batch[d]);

        std::cout << std::fixed << std::setprecision(3);
        std::cout << visits << " visits by " << kVisitors << " distinct visitors over 7 days\n";
        std::cout << "day          exact     estimate  error %\n";
        for (unsigned d = 0; d < 7; ++d) {
          const long long estimate = visitors.count(monday + d);
          const double error = relative_error(estimate, exact[d]);
          std::cout << (monday + d).to_string() << std::setw(9) << exact[d] << std::setw(13)
                    << estimate << std::setw(9) << 100 * error << '\n';
          checks.check(std::abs(error) <= 3 * kStandardError,
                       "day " + std::to_string(d) + " within 3 standard errors");
        }
        const long long week = visitors.count(monday, monday + 6);
        const double week_error = relative_error(week, kVisitors);
        std::cout << "week (PFCOUNT of 7 keys): exact " << kVisitors << ", estimate " << week
                  << ", error " << 100 * week_error << " % (standard error " << 100 * kStandardError
                  << " %, so " << std::abs(week_error) / kStandardError << " standard errors)\n";
        checks.check(std::abs(week_error) <= 3 * kStandardError, "week within 3 standard errors");
        checks.check(visitors.merge(monday, monday + 6) == week, "PFMERGE of the week agrees");

        // The same 1,000,000 ids as an exact SET (pipelined SADD, 10 commands of 10,000 per trip).
        const std::string exact_set = prefix + "exact-set";
        rediscache::Pipeline pipeline = client.pipeline();
        std::vector<std::string> sadd;
        for (int i = 0; i < kVisitors; ++i) {
          if (sadd.empty()) sadd = {"SADD", exact_set};
          sadd.push_back(visitor_id(i));
          if (sadd.size() == kBatch + 2 || i == kVisitors - 1) {
            pipeline.command(sadd);
            sadd.clear();
          }
          if (pipeline.size() == 10 || i == kVisitors - 1) {
            for (const rediscache::Reply& reply : pipeline.exec()) {
              if (reply.is_error()) throw std::runtime_error("SADD failed: " + reply.str);
            }
          }
        }
        const long long set_size = client.scard(exact_set);
        const long long hll_bytes =
            client.memory_usage(visitors.merged_key(monday, monday + 6), true).value_or(-1);
        const long long set_bytes = client.memory_usage(exact_set, true).value_or(-1);
        std::cout << "memory (MEMORY USAGE ... SAMPLES 0):\n"
                  << "  HLL of the week: " << hll_bytes << " bytes\n"
                  << "  exact SET of " << set_size << " ids: " << set_bytes << " bytes ("
                  << std::setprecision(0)
                  << static_cast<double>(set_bytes) / static_cast<double>(hll_bytes)
                  << "x the HLL)\n";
        checks.check(set_size == kVisitors, "the exact set holds 1,000,000 ids");
        checks.check(hll_bytes > 0 && hll_bytes <= 12 * 1024 + 4096,
                     "the HLL takes at most 12 KB plus allocator and key overhead");
        checks.check(set_bytes > 100 * hll_bytes, "the exact set takes over 100x more");

        const auto seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
        std::cout << std::setprecision(1) << "took " << seconds.count() << " s\n";
      });
}
