#include "rediscache/recipes/daily_counter.hpp"

#include <cstdlib>
#include <utility>

#include "recipes/support.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

DailyCounter::DailyCounter(Client client, DailyCounterOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "DailyCounterOptions::prefix");
  detail::require_duration(options_.retention, std::chrono::milliseconds(1), detail::kMaxRetention,
                           "DailyCounterOptions::retention");
}

std::string DailyCounter::key(std::string_view name, Day day) const {
  std::string key = options_.prefix;
  key.append(name);
  key += ':';
  key += day.to_string();
  return key;
}

long long DailyCounter::increment(std::string_view name, Day day, long long by) {
  const std::string counter = key(name, day);
  const std::string amount = detail::decimal(by);
  const std::string ttl = detail::millis_text(options_.retention);
  // INCRBY alone would leave a key without expiry if the client died before a separate EXPIRE.
  detail::RecipeTransaction tx(client_);
  tx.queue({"INCRBY", counter, amount});
  tx.queue({"PEXPIRE", counter, ttl});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[0], detail::Call{client_.endpoint(), "INCRBY"});
}

namespace {

long long counter_value(const std::optional<std::string>& text, const std::string& endpoint,
                        const char* command) {
  if (!text) return 0;
  char* end = nullptr;
  const long long value = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || end != text->c_str() + text->size()) {
    throw ProtocolError("redis " + endpoint + ": " + command + ": a counter is not an integer");
  }
  return value;
}

}  // namespace

long long DailyCounter::get(std::string_view name, Day day) {
  return counter_value(client_.get(key(name, day)), client_.endpoint(), "GET");
}

std::vector<long long> DailyCounter::range(std::string_view name, Day first, Day last) {
  std::vector<std::string> keys;
  for (const Day d : days_between(first, last)) keys.push_back(key(name, d));
  const std::vector<std::optional<std::string>> values = client_.mget(keys);
  std::vector<long long> counts;
  counts.reserve(values.size());
  for (const auto& value : values)
    counts.push_back(counter_value(value, client_.endpoint(), "MGET"));
  return counts;
}

}  // namespace rediscache::recipes
