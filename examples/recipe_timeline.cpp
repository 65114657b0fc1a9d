// Timeline (list): newest-first timelines capped at a fixed length (LPUSH + LTRIM in one
// transaction), read a page at a time (LRANGE), and a post fanned out to every follower's
// timeline in one round trip.
//
//   recipe_timeline [host] [port]      (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <iostream>
#include <string>
#include <vector>

#include "recipe_support.hpp"
#include <rediscache/recipes/timeline.hpp>

using rediscache::recipes::Timeline;
using rediscache::recipes::TimelineOptions;

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "timeline",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        TimelineOptions options;
        options.prefix = prefix + "timeline:";
        options.max_length = 50;
        options.ttl = std::chrono::hours(24 * 7);
        Timeline timeline(client, options);

        // ada posts 120 times; her own timeline keeps the newest 50.
        for (int i = 1; i <= 120; ++i) timeline.push("ada", "post:" + std::to_string(i));
        const long long length = timeline.length("ada");
        std::cout << "ada's timeline holds " << length << " of 120 posts\n";
        checks.check(length == 50, "LTRIM caps the timeline at 50 entries");

        const std::vector<std::string> first = timeline.page("ada", 0, 10);
        std::cout << "page 0:";
        for (const auto& post : first) std::cout << ' ' << post;
        std::cout << '\n';
        checks.check(
            first.size() == 10 && first.front() == "post:120" && first.back() == "post:111",
            "page 0 holds the 10 newest posts, newest first");
        const std::vector<std::string> last = timeline.page("ada", 4, 10);
        checks.check(last.size() == 10 && last.back() == "post:71",
                     "page 4 ends at the 50th newest");
        checks.check(timeline.page("ada", 5, 10).empty(), "nothing past the cap");

        // Fan-out on write: ada's new post lands on each follower's timeline in one MULTI/EXEC.
        const std::vector<std::string> followers = {"bob", "cy", "dee"};
        timeline.fan_out(followers, "post:121");
        bool all = true;
        for (const auto& user : followers)
          all = all && timeline.page(user, 0, 1) == std::vector<std::string>{"post:121"};
        checks.check(all, "the fanned-out post heads every follower's timeline");
        checks.check(client.ttl(timeline.key("bob")) > 0, "timelines expire (they are caches)");
      });
}
