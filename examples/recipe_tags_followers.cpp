// Tags and followers (sets): tags per article and articles per tag (SADD), articles with both
// tags (SINTER) or either (SUNION), counts (SCARD); and a follower graph where "users who follow
// both" is one SINTER and its size one SINTERCARD.
//
//   recipe_tags_followers [host] [port] (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/client/transaction.hpp>
#include <rediscache/recipes/follow_graph.hpp>

using rediscache::recipes::FollowGraph;
using rediscache::recipes::FollowGraphOptions;
using Strings = std::vector<std::string>;

namespace {

Strings sorted(Strings v) {
  std::sort(v.begin(), v.end());
  return v;
}

void print(const char* label, const Strings& items) {
  std::cout << "  " << label << ':';
  for (const auto& item : items) std::cout << ' ' << item;
  std::cout << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "tags_followers",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        // Tags: both directions in one transaction, so an article and its tags always agree.
        const auto tag = [&](const std::string& article, const Strings& tags) {
          rediscache::Transaction tx = client.transaction();
          const std::string article_tags = prefix + "article:" + article + ":tags";
          std::vector<std::string_view> sadd{"SADD", article_tags};
          for (const auto& t : tags) sadd.push_back(t);
          tx.queue(sadd);
          for (const auto& t : tags) {
            const std::string tag_key = prefix + "tag:";
            tx.queue({"SADD", tag_key + t, article});
          }
          tx.exec();
        };
        tag("a1", {"redis", "cache"});
        tag("a2", {"redis", "cpp"});
        tag("a3", {"cache", "cpp", "redis"});
        tag("a4", {"postgres"});
        tag("a1", {"redis"});  // a set: tagging twice changes nothing

        std::cout << "tags:\n";
        const Strings both = sorted(client.sinter({prefix + "tag:redis", prefix + "tag:cache"}));
        const Strings either = sorted(client.sunion({prefix + "tag:cpp", prefix + "tag:postgres"}));
        print("redis AND cache", both);
        print("cpp OR postgres", either);
        checks.check(both == Strings{"a1", "a3"}, "SINTER: articles tagged redis and cache");
        checks.check(either == Strings{"a2", "a3", "a4"},
                     "SUNION: articles tagged cpp or postgres");
        checks.check(client.scard(prefix + "tag:redis") == 3, "SCARD: three articles tagged redis");
        checks.check(client.scard(prefix + "article:a1:tags") == 2, "a1 has two tags, not three");

        // Followers.
        FollowGraph graph(client, FollowGraphOptions{prefix + "social:"});
        for (const char* fan : {"u1", "u2", "u3", "u4"}) graph.follow(fan, "ada");
        for (const char* fan : {"u3", "u4", "u5"}) graph.follow(fan, "bob");
        graph.follow("ada", "bob");
        std::cout << "followers:\n";
        const Strings common = sorted(graph.common_followers("ada", "bob"));
        print("follow both ada and bob", common);
        print("follow ada or bob", sorted(graph.followers_of_either("ada", "bob")));
        checks.check(common == Strings{"u3", "u4"}, "SINTER: users who follow both");
        checks.check(graph.common_follower_count("ada", "bob") == 2,
                     "SINTERCARD counts them on the server");
        checks.check(graph.follower_count("bob") == 4 && graph.following_count("ada") == 1,
                     "SCARD: follower and following counts");
        checks.check(!graph.follow("u1", "ada"), "following twice is a no-op");
        graph.unfollow("u4", "ada");
        checks.check(graph.common_followers("ada", "bob") == Strings{"u3"} &&
                         !graph.following("u4").empty() && !graph.is_following("u4", "ada"),
                     "unfollow updates both directions");
      });
}
