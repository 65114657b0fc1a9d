// Timeline and FollowGraph against the shared redis-server: capped newest-first pages, fan-out,
// expiry; follow/unfollow kept consistent in both directions, common followers and reach.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "recipes_test_util.hpp"
#include "test_env.hpp"
#include <rediscache/recipes/follow_graph.hpp>
#include <rediscache/recipes/timeline.hpp>

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::recipes::FollowGraph;
using rediscache::recipes::FollowGraphOptions;
using rediscache::recipes::Timeline;
using rediscache::recipes::TimelineOptions;
using rediscache::test::KeyCleanup;
using rediscache::test::recipe_client;
using rediscache::test::unique_prefix;
using Strings = std::vector<std::string>;

Strings sorted(Strings v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(RecipesTimeline, Push_CapsLengthAndPagesNewestFirst) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  TimelineOptions options;
  options.prefix = prefix;
  options.max_length = 5;
  options.ttl = 3600s;
  Timeline timeline(client, options);

  for (int i = 1; i <= 8; ++i) timeline.push("ann", "post-" + std::to_string(i));
  EXPECT_EQ(timeline.length("ann"), 5);
  EXPECT_EQ(timeline.page("ann", 0, 2), (Strings{"post-8", "post-7"}));
  EXPECT_EQ(timeline.page("ann", 1, 2), (Strings{"post-6", "post-5"}));
  EXPECT_EQ(timeline.page("ann", 2, 2), (Strings{"post-4"}));
  EXPECT_TRUE(timeline.page("ann", 3, 2).empty());
  EXPECT_TRUE(timeline.page("ann", 1000000, 1000000).empty());
  EXPECT_TRUE(timeline.page("ann", 0, 0).empty());
  EXPECT_EQ(timeline.page("ann", 0, 100).size(), 5u);
  EXPECT_GT(client.pttl(timeline.key("ann")), 3500 * 1000);
  EXPECT_TRUE(timeline.page("nobody", 0, 10).empty());
}

TEST(RecipesTimeline, FanOut_ReachesEveryOwner_DurableWithoutTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  TimelineOptions options;
  options.prefix = prefix;
  options.max_length = 3;
  options.ttl.reset();
  Timeline timeline(client, options);
  timeline.push("bob", "own");
  timeline.fan_out({"bob", "cat", "dan"}, "shared");
  timeline.fan_out(std::vector<std::string>{}, "nothing");
  EXPECT_EQ(timeline.page("bob", 0, 10), (Strings{"shared", "own"}));
  EXPECT_EQ(timeline.page("cat", 0, 10), (Strings{"shared"}));
  EXPECT_EQ(timeline.page("dan", 0, 10), (Strings{"shared"}));
  EXPECT_EQ(client.pttl(timeline.key("cat")), rediscache::kTtlNoExpiry);
}

TEST(RecipesFollowGraph, FollowUnfollow_BothDirectionsAgree_CommonAndReach) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  FollowGraph graph(client, FollowGraphOptions{prefix});

  for (const char* fan : {"u1", "u2", "u3"}) EXPECT_TRUE(graph.follow(fan, "alice"));
  for (const char* fan : {"u2", "u3", "u4"}) EXPECT_TRUE(graph.follow(fan, "bob"));
  EXPECT_FALSE(graph.follow("u1", "alice"));  // already following

  EXPECT_TRUE(graph.is_following("u1", "alice"));
  EXPECT_FALSE(graph.is_following("alice", "u1"));
  EXPECT_EQ(graph.follower_count("alice"), 3);
  EXPECT_EQ(graph.following_count("u2"), 2);
  EXPECT_EQ(sorted(graph.following("u3")), (Strings{"alice", "bob"}));
  EXPECT_EQ(sorted(graph.common_followers("alice", "bob")), (Strings{"u2", "u3"}));
  EXPECT_EQ(graph.common_follower_count("alice", "bob"), 2);
  EXPECT_EQ(sorted(graph.followers_of_either("alice", "bob")), (Strings{"u1", "u2", "u3", "u4"}));

  EXPECT_TRUE(graph.unfollow("u2", "bob"));
  EXPECT_FALSE(graph.unfollow("u2", "bob"));
  EXPECT_EQ(sorted(graph.followers("bob")), (Strings{"u3", "u4"}));
  EXPECT_EQ(graph.following("u2"), (Strings{"alice"}));
  EXPECT_EQ(graph.common_follower_count("alice", "bob"), 1);
  EXPECT_EQ(graph.common_follower_count("alice", "nobody"), 0);
  EXPECT_EQ(client.pttl(graph.followers_key("alice")), rediscache::kTtlNoExpiry);  // durable
}

}  // namespace
