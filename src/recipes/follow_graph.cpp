#include "rediscache/recipes/follow_graph.hpp"

#include <utility>

#include "recipes/support.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

namespace {

// SADD or SREM of both directions of one edge, in one MULTI/EXEC (one round trip); true when
// the first set changed.
bool change_edge(const Client& client, std::string_view verb, const std::string& following,
                 std::string_view followee, const std::string& followers,
                 std::string_view follower) {
  detail::RecipeTransaction tx(client);
  tx.queue({verb, following, followee});
  tx.queue({verb, followers, follower});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[0], detail::Call{client.endpoint(), verb}) > 0;
}

}  // namespace

FollowGraph::FollowGraph(Client client, FollowGraphOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "FollowGraphOptions::prefix");
}

std::string FollowGraph::followers_key(std::string_view user) const {
  std::string key = options_.prefix + "followers:";
  key.append(user);
  return key;
}

std::string FollowGraph::following_key(std::string_view user) const {
  std::string key = options_.prefix + "following:";
  key.append(user);
  return key;
}

bool FollowGraph::follow(std::string_view follower, std::string_view followee) {
  return change_edge(client_, "SADD", following_key(follower), followee, followers_key(followee),
                     follower);
}

bool FollowGraph::unfollow(std::string_view follower, std::string_view followee) {
  return change_edge(client_, "SREM", following_key(follower), followee, followers_key(followee),
                     follower);
}

bool FollowGraph::is_following(std::string_view follower, std::string_view followee) {
  return client_.sismember(following_key(follower), followee);
}

std::vector<std::string> FollowGraph::followers(std::string_view user) {
  return client_.smembers(followers_key(user));
}

std::vector<std::string> FollowGraph::following(std::string_view user) {
  return client_.smembers(following_key(user));
}

long long FollowGraph::follower_count(std::string_view user) {
  return client_.scard(followers_key(user));
}

long long FollowGraph::following_count(std::string_view user) {
  return client_.scard(following_key(user));
}

std::vector<std::string> FollowGraph::common_followers(std::string_view a, std::string_view b) {
  return client_.sinter({followers_key(a), followers_key(b)});
}

long long FollowGraph::common_follower_count(std::string_view a, std::string_view b) {
  // Client has no SINTERCARD (Redis 7); the generic command keeps argv binary-safe all the same.
  const std::string first = followers_key(a);
  const std::string second = followers_key(b);
  return detail::to_integer(client_.command({"SINTERCARD", "2", first, second}),
                            detail::Call{client_.endpoint(), "SINTERCARD"});
}

std::vector<std::string> FollowGraph::followers_of_either(std::string_view a, std::string_view b) {
  return client_.sunion({followers_key(a), followers_key(b)});
}

}  // namespace rediscache::recipes
