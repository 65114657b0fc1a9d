// Leaderboard (sorted set): 1,000 players score points (ZINCRBY); the top 10 with scores
// (ZREVRANGE WITHSCORES), a player's rank, and the players around them (one Lua script, so the
// window is consistent while scores change). Every answer is checked against a ranking computed
// in the program.
//
//   recipe_leaderboard [host] [port]   (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/client/pipeline.hpp>
#include <rediscache/recipes/leaderboard.hpp>

using rediscache::recipes::Leaderboard;
using rediscache::recipes::LeaderboardOptions;
using rediscache::recipes::RankedPlayer;

namespace {

void print(const char* title, const std::vector<RankedPlayer>& players) {
  std::cout << title << '\n';
  for (const auto& p : players) {
    std::cout << "  #" << std::setw(4) << p.rank + 1 << "  " << std::setw(11) << std::left
              << p.player << std::right << std::setw(8) << p.score << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "leaderboard",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        LeaderboardOptions options;
        options.prefix = prefix;
        options.ttl =
            std::chrono::hours(24 * 8);  // a weekly board ends; omit ttl for a durable one
        Leaderboard board(client, "week-48", options);

        // 20 rounds of points for 1,000 players, from a fixed pseudo-random sequence.
        std::map<std::string, double> scores;
        std::uint32_t state = 12345;
        rediscache::Pipeline pipeline = client.pipeline();
        for (int round = 0; round < 20; ++round) {
          for (int p = 0; p < 1000; ++p) {
            state = state * 1664525U + 1013904223U;
            const double points = static_cast<double>(state >> 24U);  // 0..255
            const std::string player = "player-" + std::to_string(p);
            scores[player] += points;
            if (round == 19) {
              board.add_score(player, points);  // the last round through the recipe
              continue;
            }
            // Earlier rounds go through a pipeline: 1,000 ZINCRBYs per round trip.
            pipeline.command({"ZINCRBY", board.key(), std::to_string(points), player});
            if (p == 999) {
              for (const rediscache::Reply& reply : pipeline.exec()) {
                if (reply.is_error()) throw std::runtime_error("ZINCRBY failed: " + reply.str);
              }
            }
          }
        }

        // The expected ranking: score descending, then name descending (Redis's order for ties).
        std::vector<RankedPlayer> expected;
        expected.reserve(scores.size());
        for (const auto& [player, score] : scores) expected.push_back({player, score, 0});
        std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
          return a.score != b.score ? a.score > b.score : a.player > b.player;
        });
        for (std::size_t i = 0; i < expected.size(); ++i)
          expected[i].rank = static_cast<long long>(i);

        const std::vector<RankedPlayer> top = board.top(10);
        print("top 10:", top);
        checks.check(top == std::vector<RankedPlayer>(expected.begin(), expected.begin() + 10),
                     "top 10 with scores matches the exact ranking");

        const std::string me = "player-500";
        const auto found = board.find(me);
        const auto mine = std::find_if(expected.begin(), expected.end(),
                                       [&](const RankedPlayer& p) { return p.player == me; });
        checks.check(found && *found == *mine, me + "'s rank and score");
        const std::vector<RankedPlayer> around = board.around(me, 3);
        print(("around " + me + ":").c_str(), around);
        const auto from = mine - std::min<std::ptrdiff_t>(3, mine - expected.begin());
        checks.check(around == std::vector<RankedPlayer>(from, mine + 4), "3 above and 3 below");

        const auto first = board.around(expected.front().player, 3);
        const auto last = board.around(expected.back().player, 3);
        checks.check(first.size() == 4 && first.front().rank == 0, "the leader has no one above");
        checks.check(last.size() == 4 && last.back().rank == 999, "the last has no one below");
        checks.check(board.size() == 1000, "1,000 players on the board");
        checks.check(client.ttl(board.key()) > 0, "the weekly board expires");
      });
}
