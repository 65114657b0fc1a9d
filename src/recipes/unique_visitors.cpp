#include "rediscache/recipes/unique_visitors.hpp"

#include <utility>
#include <vector>

#include "recipes/support.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

UniqueVisitors::UniqueVisitors(Client client, UniqueVisitorsOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "UniqueVisitorsOptions::prefix");
  detail::require_duration(options_.retention, std::chrono::milliseconds(1), detail::kMaxRetention,
                           "UniqueVisitorsOptions::retention");
  detail::require_positive(options_.merged_ttl, "UniqueVisitorsOptions::merged_ttl");
}

std::string UniqueVisitors::day_key(Day day) const { return options_.prefix + day.to_string(); }

std::string UniqueVisitors::merged_key(Day first, Day last) const {
  return options_.prefix + "merged:" + first.to_string() + ":" + last.to_string();
}

bool UniqueVisitors::add(Day day, ArgList visitor_ids) {
  if (visitor_ids.empty()) return false;
  const std::string key = day_key(day);
  const std::string ttl = detail::millis_text(options_.retention);
  std::vector<std::string_view> pfadd;
  pfadd.reserve(visitor_ids.size() + 2);
  pfadd.emplace_back("PFADD");
  pfadd.emplace_back(key);
  for (std::size_t i = 0; i < visitor_ids.size(); ++i) pfadd.push_back(visitor_ids[i]);
  // MULTI/EXEC: the expiry is set by the same atomic step that may create the key.
  detail::RecipeTransaction tx(client_);
  tx.queue(pfadd);
  tx.queue({"PEXPIRE", key, ttl});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[0], detail::Call{client_.endpoint(), "PFADD"}) != 0;
}

long long UniqueVisitors::count(Day day) { return client_.pfcount({day_key(day)}); }

long long UniqueVisitors::count(Day first, Day last) {
  std::vector<std::string> keys;
  for (const Day d : days_between(first, last)) keys.push_back(day_key(d));
  return client_.pfcount(keys);
}

long long UniqueVisitors::merge(Day first, Day last) {
  const std::vector<Day> days = days_between(first, last);
  const std::string destination = merged_key(first, last);
  const std::string ttl = detail::millis_text(options_.merged_ttl);
  std::vector<std::string> sources;
  sources.reserve(days.size());
  for (const Day d : days) sources.push_back(day_key(d));
  std::vector<std::string_view> pfmerge{"PFMERGE", destination};
  pfmerge.insert(pfmerge.end(), sources.begin(), sources.end());
  detail::RecipeTransaction tx(client_);
  tx.queue(pfmerge);
  tx.queue({"PEXPIRE", destination, ttl});
  tx.queue({"PFCOUNT", destination});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[2], detail::Call{client_.endpoint(), "PFCOUNT"});
}

}  // namespace rediscache::recipes
