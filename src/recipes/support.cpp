#include "recipes/support.hpp"

#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "net/connection.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

std::string decimal(long long value) { return std::to_string(value); }
std::string decimal(std::uint64_t value) { return std::to_string(value); }
std::string score_text(double value) { return std::string(DoubleText(value).view()); }
std::string millis_text(std::chrono::milliseconds value) { return std::to_string(value.count()); }

RecipeTransaction::RecipeTransaction(const Client& client)
    : transaction_(client.transaction()), endpoint_(client.endpoint()) {}

RecipeTransaction& RecipeTransaction::queue(ArgList argv) {
  transaction_.queue(argv);
  names_.push_back(command_name(argv));
  return *this;
}

std::vector<Reply> RecipeTransaction::exec() {
  std::optional<std::vector<Reply>> replies = transaction_.exec();
  // Nothing is watched, so EXEC cannot be refused for a changed key.
  if (!replies || replies->size() != names_.size()) {
    throw ProtocolError("redis " + endpoint_ + ": EXEC: unexpected reply");
  }
  for (std::size_t i = 0; i < replies->size(); ++i) {
    if ((*replies)[i].is_error()) throw_reply_error(endpoint_, names_[i], (*replies)[i]);
  }
  return std::move(*replies);
}

double parse_score(const std::string& text, const std::string& endpoint, std::string_view command) {
  // strtod accepts "inf"/"-inf", which Redis writes for infinite scores.
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw ProtocolError("redis " + endpoint + ": " + std::string(command) +
                        ": a score is not a number");
  }
  return value;
}

}  // namespace rediscache::detail
