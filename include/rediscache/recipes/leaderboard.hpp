// Leaderboard: players ranked by score in one sorted set: score changes (ZINCRBY), the top N,
// a player's rank, and the players around a player, read atomically.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache::recipes {

/// Options of a Leaderboard.
struct LeaderboardOptions {
  /// Prefix of the board's key (`<prefix><board name>`); must not be empty.
  std::string prefix;
  /// Expiry renewed by every score change, for boards that end (a weekly board). Unset: the
  /// board is durable (no TTL), since a leaderboard is usually data, not a cache. Must be
  /// positive when set.
  std::optional<std::chrono::seconds> ttl;
};

/// A player's place on the board. `rank` counts from 0 for the highest score; equal scores are
/// ordered by player name, descending (Redis's ZREVRANGE order), so every player has a
/// distinct rank.
struct RankedPlayer {
  std::string player;
  double score = 0;
  long long rank = 0;
  friend bool operator==(const RankedPlayer& a, const RankedPlayer& b) {
    return a.player == b.player && a.score == b.score && a.rank == b.rank;
  }
};

/// A ranking of players (any byte strings) by a double score, highest first. Thread-safe.
class REDISCACHE_EXPORT Leaderboard {
 public:
  /// The board `<prefix><name>`. Throws std::invalid_argument naming `prefix`, `ttl` or `name`
  /// (which must not be empty).
  Leaderboard(Client client, std::string_view name, LeaderboardOptions options);

  /// Adds `delta` to a player's score (a new player starts at 0) and returns the new score
  /// (ZINCRBY; with a ttl, ZINCRBY and PEXPIRE in one MULTI/EXEC). One round trip.
  double add_score(std::string_view player, double delta);
  /// Sets a player's score (ZADD; with a ttl, also PEXPIRE in the same MULTI). One round trip.
  void set_score(std::string_view player, double score);
  /// Removes a player; false when absent. One round trip.
  bool remove(std::string_view player);

  /// A player's rank (ZREVRANK), or nullopt when absent. One round trip.
  std::optional<long long> rank(std::string_view player);
  /// A player's score and rank read together (ZSCORE and ZREVRANK in one MULTI/EXEC, so they
  /// agree), or nullopt when absent. One round trip.
  std::optional<RankedPlayer> find(std::string_view player);
  /// The `n` best players with scores (ZREVRANGE 0 n-1 WITHSCORES); fewer when the board is
  /// smaller; empty for n == 0. One round trip.
  std::vector<RankedPlayer> top(std::size_t n);
  /// The player and up to `radius` players ranked directly above and below them, best first
  /// (fewer at the top and bottom of the board). Empty when the player is absent. One Lua
  /// script (one round trip) reads the rank and the range atomically, so the window is
  /// consistent even while scores change.
  std::vector<RankedPlayer> around(std::string_view player, std::size_t radius);
  /// Number of players (ZCARD). One round trip.
  long long size();
  /// Deletes the board. One round trip.
  void clear();

  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  Client client_;
  LeaderboardOptions options_;
  std::string key_;
};

}  // namespace rediscache::recipes
