#include "rediscache/recipes/follow_graph.hpp"

#include <utility>

#include "recipes/support.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

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
  const std::string following = following_key(follower);
  const std::string followers = followers_key(followee);
  detail::RecipeTransaction tx(client_);
  tx.queue({"SADD", following, followee});
  tx.queue({"SADD", followers, follower});
  const std::vector<Reply> replies = tx.exec();
  return detail::reply_integer(replies[0], client_.endpoint(), "SADD") > 0;
}

bool FollowGraph::unfollow(std::string_view follower, std::string_view followee) {
  const std::string following = following_key(follower);
  const std::string followers = followers_key(followee);
  detail::RecipeTransaction tx(client_);
  tx.queue({"SREM", following, followee});
  tx.queue({"SREM", followers, follower});
  const std::vector<Reply> replies = tx.exec();
  return detail::reply_integer(replies[0], client_.endpoint(), "SREM") > 0;
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
  return detail::reply_integer(client_.command({"SINTERCARD", "2", first, second}),
                               client_.endpoint(), "SINTERCARD");
}

std::vector<std::string> FollowGraph::followers_of_either(std::string_view a, std::string_view b) {
  return client_.sunion({followers_key(a), followers_key(b)});
}

}  // namespace rediscache::recipes
