#include "rediscache/recipes/timeline.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "recipes/support.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

Timeline::Timeline(Client client, TimelineOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "TimelineOptions::prefix");
  if (options_.max_length < 1 ||
      options_.max_length > static_cast<std::size_t>(std::numeric_limits<long long>::max())) {
    throw std::invalid_argument("TimelineOptions::max_length must be at least 1");
  }
  if (options_.ttl) detail::require_positive(*options_.ttl, "TimelineOptions::ttl");
}

std::string Timeline::key(std::string_view owner) const {
  std::string key = options_.prefix;
  key.append(owner);
  return key;
}

void Timeline::push(std::string_view owner, std::string_view entry) {
  const std::string_view owners[] = {owner};
  fan_out(ArgList(owners, 1), entry);
}

void Timeline::fan_out(ArgList owners, std::string_view entry) {
  if (owners.empty()) return;
  const std::string last = detail::decimal(static_cast<long long>(options_.max_length) - 1);
  const std::string ttl = options_.ttl ? detail::millis_text(*options_.ttl) : std::string();
  // LPUSH and LTRIM in one transaction: no reader ever sees the list above its cap, and a client
  // dying between them cannot leave it there.
  detail::RecipeTransaction tx(client_);
  for (std::size_t i = 0; i < owners.size(); ++i) {
    const std::string list = key(owners[i]);
    tx.queue({"LPUSH", list, entry});
    tx.queue({"LTRIM", list, "0", last});
    if (options_.ttl) tx.queue({"PEXPIRE", list, ttl});
  }
  tx.exec();
}

std::vector<std::string> Timeline::page(std::string_view owner, std::size_t page,
                                        std::size_t page_size) {
  // Nothing lies past max_length, which also keeps the index arithmetic from overflowing.
  if (page_size == 0 || page > options_.max_length / page_size) return {};
  page_size = std::min(page_size, options_.max_length);
  const auto start = static_cast<long long>(page) * static_cast<long long>(page_size);
  const auto stop = start + static_cast<long long>(page_size) - 1;
  return client_.lrange(key(owner), start, stop);
}

long long Timeline::length(std::string_view owner) { return client_.llen(key(owner)); }

}  // namespace rediscache::recipes
