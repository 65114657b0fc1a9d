#include "rediscache/recipes/daily_active_users.hpp"

#include <stdexcept>
#include <utility>

#include "recipes/support.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

namespace {
constexpr std::uint64_t kLargestBitOffset = (std::uint64_t{1} << 32U) - 1;
}  // namespace

DailyActiveUsers::DailyActiveUsers(Client client, DailyActiveUsersOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "DailyActiveUsersOptions::prefix");
  detail::require_duration(options_.retention, std::chrono::milliseconds(1), detail::kMaxRetention,
                           "DailyActiveUsersOptions::retention");
  if (options_.max_user_id > kLargestBitOffset) {
    throw std::invalid_argument("DailyActiveUsersOptions::max_user_id must be at most 2^32 - 1");
  }
}

std::string DailyActiveUsers::day_key(Day day) const { return options_.prefix + day.to_string(); }

void DailyActiveUsers::check_user_id(std::uint64_t user_id) const {
  if (user_id > options_.max_user_id) throw std::invalid_argument("user_id exceeds max_user_id");
}

bool DailyActiveUsers::mark_active(Day day, std::uint64_t user_id) {
  check_user_id(user_id);
  const std::string key = day_key(day);
  const std::string offset = detail::decimal(user_id);
  const std::string ttl = detail::millis_text(options_.retention);
  detail::RecipeTransaction tx(client_);
  tx.queue({"SETBIT", key, offset, "1"});
  tx.queue({"PEXPIRE", key, ttl});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[0], detail::Call{client_.endpoint(), "SETBIT"}) != 0;
}

void DailyActiveUsers::mark_active(Day day, const std::vector<std::uint64_t>& user_ids) {
  if (user_ids.empty()) return;
  for (const std::uint64_t id : user_ids) check_user_id(id);
  const std::string key = day_key(day);
  const std::string ttl = detail::millis_text(options_.retention);
  detail::RecipeTransaction tx(client_);
  for (const std::uint64_t id : user_ids) {
    const std::string offset = detail::decimal(id);
    tx.queue({"SETBIT", key, offset, "1"});  // encoded at once, so `offset` may go
  }
  tx.queue({"PEXPIRE", key, ttl});
  tx.exec();
}

bool DailyActiveUsers::was_active(Day day, std::uint64_t user_id) {
  if (user_id > options_.max_user_id) return false;
  return client_.getbit(day_key(day), user_id);
}

long long DailyActiveUsers::count(Day day) { return client_.bitcount(day_key(day)); }

long long DailyActiveUsers::count_active_on_all(const std::vector<Day>& days) {
  return count_combined(BitOp::kAnd, days);
}

long long DailyActiveUsers::count_active_on_any(const std::vector<Day>& days) {
  return count_combined(BitOp::kOr, days);
}

long long DailyActiveUsers::count_combined(BitOp operation, const std::vector<Day>& days) {
  if (days.empty() || days.size() > static_cast<std::size_t>(kMaxDayRange)) {
    throw std::invalid_argument("days must hold 1..kMaxDayRange days");
  }
  // A scratch key of its own per call, so concurrent counts never share one; it is created and
  // deleted inside one MULTI/EXEC, so it never outlives the call, even if the client dies.
  const std::string scratch = options_.prefix + "tmp:" + random_token();
  std::vector<std::string> keys;
  keys.reserve(days.size());
  for (const Day d : days) keys.push_back(day_key(d));
  std::vector<std::string_view> bitop{"BITOP", operation == BitOp::kAnd ? "AND" : "OR", scratch};
  bitop.insert(bitop.end(), keys.begin(), keys.end());
  detail::RecipeTransaction tx(client_);
  tx.queue(bitop);
  tx.queue({"BITCOUNT", scratch});
  tx.queue({"DEL", scratch});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[1], detail::Call{client_.endpoint(), "BITCOUNT"});
}

}  // namespace rediscache::recipes
