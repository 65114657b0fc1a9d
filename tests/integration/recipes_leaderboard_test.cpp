// Leaderboard against the shared redis-server: scores, ranks, top N and the neighbourhood of a
// player at the top, middle and bottom of the board, ties, and the optional expiry.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "recipes_test_util.hpp"
#include "test_env.hpp"
#include <rediscache/recipes/leaderboard.hpp>

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::recipes::Leaderboard;
using rediscache::recipes::LeaderboardOptions;
using rediscache::recipes::RankedPlayer;
using rediscache::test::KeyCleanup;
using rediscache::test::recipe_client;
using rediscache::test::unique_prefix;

LeaderboardOptions board_options(const std::string& prefix) {
  LeaderboardOptions options;
  options.prefix = prefix;
  return options;
}

std::vector<std::string> names(const std::vector<RankedPlayer>& players) {
  std::vector<std::string> out;
  out.reserve(players.size());
  for (const auto& p : players) out.push_back(p.player);
  return out;
}

// p0 has the highest score (100), p9 the lowest (10).
void fill_ten(Leaderboard& board) {
  for (int i = 0; i < 10; ++i) board.set_score("p" + std::to_string(i), 100.0 - 10.0 * i);
}

TEST(RecipesLeaderboard, AddScore_AccumulatesAndRanksHighestFirst) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  Leaderboard board(client, "weekly", board_options(prefix));

  EXPECT_EQ(board.add_score("alice", 10), 10);
  EXPECT_EQ(board.add_score("bob", 25.5), 25.5);
  EXPECT_EQ(board.add_score("alice", 20), 30);
  EXPECT_EQ(board.add_score("carol", -5), -5);
  EXPECT_EQ(board.size(), 3);
  EXPECT_EQ(board.rank("alice"), 0);
  EXPECT_EQ(board.rank("bob"), 1);
  EXPECT_EQ(board.rank("carol"), 2);
  EXPECT_EQ(board.rank("dave"), std::nullopt);
  EXPECT_EQ(board.find("bob"), (RankedPlayer{"bob", 25.5, 1}));
  EXPECT_EQ(board.find("dave"), std::nullopt);
  EXPECT_EQ(board.top(2), (std::vector<RankedPlayer>{{"alice", 30, 0}, {"bob", 25.5, 1}}));
  EXPECT_EQ(board.key(), prefix + "weekly");
  EXPECT_EQ(client.pttl(board.key()), rediscache::kTtlNoExpiry);  // durable by default

  EXPECT_TRUE(board.remove("bob"));
  EXPECT_FALSE(board.remove("bob"));
  EXPECT_EQ(board.rank("carol"), 1);
  board.clear();
  EXPECT_EQ(board.size(), 0);
}

TEST(RecipesLeaderboard, Top_Sizes_ZeroSomeAndMoreThanBoard) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  Leaderboard board(client, "b", board_options(prefix));
  EXPECT_TRUE(board.top(5).empty());  // empty board
  fill_ten(board);
  EXPECT_TRUE(board.top(0).empty());
  EXPECT_EQ(names(board.top(3)), (std::vector<std::string>{"p0", "p1", "p2"}));
  const auto all = board.top(1000);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all.back(), (RankedPlayer{"p9", 10, 9}));
}

TEST(RecipesLeaderboard, Around_AtTopMiddleBottom_ClipsWindowAtEdges) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  Leaderboard board(client, "b", board_options(prefix));
  fill_ten(board);

  EXPECT_EQ(board.around("p0", 2),
            (std::vector<RankedPlayer>{{"p0", 100, 0}, {"p1", 90, 1}, {"p2", 80, 2}}));
  EXPECT_EQ(names(board.around("p1", 2)), (std::vector<std::string>{"p0", "p1", "p2", "p3"}));
  const auto middle = board.around("p5", 2);
  EXPECT_EQ(names(middle), (std::vector<std::string>{"p3", "p4", "p5", "p6", "p7"}));
  EXPECT_EQ(middle.front().rank, 3);
  EXPECT_EQ(middle.back().rank, 7);
  EXPECT_EQ(names(board.around("p9", 2)), (std::vector<std::string>{"p7", "p8", "p9"}));
  EXPECT_EQ(board.around("p9", 2).back(), (RankedPlayer{"p9", 10, 9}));
  EXPECT_EQ(names(board.around("p4", 0)), std::vector<std::string>{"p4"});
  EXPECT_EQ(board.around("p4", static_cast<std::size_t>(-1)).size(), 10u);  // huge radius
  EXPECT_TRUE(board.around("nobody", 3).empty());
}

TEST(RecipesLeaderboard, Ties_OrderedByNameDescending_RanksDistinct) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  Leaderboard board(client, "b", board_options(prefix));
  board.set_score("amy", 5);
  board.set_score("zoe", 5);
  board.set_score("max", 5);
  board.set_score("top", 9);
  EXPECT_EQ(board.top(4), (std::vector<RankedPlayer>{
                              {"top", 9, 0}, {"zoe", 5, 1}, {"max", 5, 2}, {"amy", 5, 3}}));
  EXPECT_EQ(board.find("max"), (RankedPlayer{"max", 5, 2}));
  EXPECT_EQ(names(board.around("max", 1)), (std::vector<std::string>{"zoe", "max", "amy"}));
}

TEST(RecipesLeaderboard, BinaryNamesAndInfiniteScores_RoundTrip) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  Leaderboard board(client, "b", board_options(prefix));
  const std::string odd("a\0 b\r\n", 6);
  board.set_score(odd, 1.25);
  board.set_score("winner", std::numeric_limits<double>::infinity());
  board.set_score("loser", -std::numeric_limits<double>::infinity());
  const auto window = board.around(odd, 1);
  ASSERT_EQ(window.size(), 3u);
  EXPECT_EQ(window[0].player, "winner");
  EXPECT_EQ(window[0].score, std::numeric_limits<double>::infinity());
  EXPECT_EQ(window[1], (RankedPlayer{odd, 1.25, 1}));
  EXPECT_EQ(window[2].score, -std::numeric_limits<double>::infinity());
}

TEST(RecipesLeaderboard, Ttl_RenewedByEveryScoreChange) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  LeaderboardOptions options = board_options(prefix);
  options.ttl = 3600s;
  Leaderboard board(client, "daily", options);
  EXPECT_EQ(board.add_score("a", 1.5), 1.5);
  EXPECT_EQ(board.add_score("a", 1.5), 3);
  EXPECT_GT(client.pttl(board.key()), 3500 * 1000);
  client.pexpire(board.key(), 10s);
  board.set_score("b", 2);
  EXPECT_GT(client.pttl(board.key()), 3500 * 1000);
  EXPECT_EQ(board.find("a"), (RankedPlayer{"a", 3, 0}));
}

}  // namespace
