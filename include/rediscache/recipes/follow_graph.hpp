// FollowGraph: who follows whom as two sets per user, kept in step by one transaction, with
// "users who follow both" (SINTER), "follow either" (SUNION) and counts (SCARD, SINTERCARD).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache::recipes {

/// Options of FollowGraph.
struct FollowGraphOptions {
  /// Prefix of every key (`<prefix>followers:<user>`, `<prefix>following:<user>`); must not be
  /// empty. For Redis Cluster give it a hash tag ("{social}:") so two users' sets share a slot.
  std::string prefix;
};

/// A follower graph. The sets are durable (no TTL): the relation is data, and a set that
/// expired on one side only would disagree with the other. Users are any byte strings.
/// Thread-safe.
class REDISCACHE_EXPORT FollowGraph {
 public:
  /// Throws std::invalid_argument naming `prefix`.
  FollowGraph(Client client, FollowGraphOptions options);

  /// `follower` follows `followee`: SADD to both sets in one MULTI/EXEC, so the two directions
  /// always agree. Returns false when it already did. One round trip.
  bool follow(std::string_view follower, std::string_view followee);
  /// Undoes follow(); returns false when `follower` did not follow `followee`. One round trip.
  bool unfollow(std::string_view follower, std::string_view followee);
  /// SISMEMBER. One round trip.
  bool is_following(std::string_view follower, std::string_view followee);
  /// SMEMBERS (unordered). One round trip.
  std::vector<std::string> followers(std::string_view user);
  std::vector<std::string> following(std::string_view user);
  /// SCARD. One round trip.
  long long follower_count(std::string_view user);
  long long following_count(std::string_view user);
  /// Users who follow both `a` and `b` (SINTER, unordered). One round trip.
  std::vector<std::string> common_followers(std::string_view a, std::string_view b);
  /// How many users follow both, counted by the server without sending them (SINTERCARD,
  /// Redis 7). One round trip.
  long long common_follower_count(std::string_view a, std::string_view b);
  /// Users who follow `a` or `b` or both (SUNION, unordered): the combined reach. One round trip.
  std::vector<std::string> followers_of_either(std::string_view a, std::string_view b);

  [[nodiscard]] std::string followers_key(std::string_view user) const;
  [[nodiscard]] std::string following_key(std::string_view user) const;

 private:
  Client client_;
  FollowGraphOptions options_;
};

}  // namespace rediscache::recipes
