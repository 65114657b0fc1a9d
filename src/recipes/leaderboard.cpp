#include "rediscache/recipes/leaderboard.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "recipes/support.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

namespace {

// Reads a player's rank and the window around it in one atomic step; two separate commands
// could straddle a score change and return a window that does not contain the player.
// KEYS: board. ARGV: player, radius. Returns nil when absent, else {first rank, {m, s, ...}}.
const Script& around_script() {
  static const Script kScript(R"lua(
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not rank then return false end
local radius = tonumber(ARGV[2])
local first = rank - radius
if first < 0 then first = 0 end
return {first, redis.call('ZREVRANGE', KEYS[1], first, rank + radius, 'WITHSCORES')}
)lua");
  return kScript;
}

// ZREVRANGE ... WITHSCORES as a flat array: member, score, member, score.
std::vector<RankedPlayer> ranked_from_flat(const Reply& reply, long long first_rank,
                                           const std::string& endpoint, std::string_view command) {
  if (!reply.is_array() || reply.elements.size() % 2 != 0) {
    throw ProtocolError("redis " + endpoint + ": " + std::string(command) + ": unexpected " +
                        to_string(reply.type) + " reply");
  }
  std::vector<RankedPlayer> players;
  players.reserve(reply.elements.size() / 2);
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    const Reply& member = reply.elements[i];
    const Reply& score = reply.elements[i + 1];
    if (!member.is_string() || !score.is_string()) {
      throw ProtocolError("redis " + endpoint + ": " + std::string(command) +
                          ": unexpected reply element");
    }
    players.push_back(RankedPlayer{member.str, detail::parse_score(score.str, endpoint, command),
                                   first_rank + static_cast<long long>(i / 2)});
  }
  return players;
}

}  // namespace

Leaderboard::Leaderboard(Client client, std::string_view name, LeaderboardOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "LeaderboardOptions::prefix");
  if (options_.ttl) detail::require_positive(*options_.ttl, "LeaderboardOptions::ttl");
  detail::require_non_empty(name, "Leaderboard name");
  key_ = options_.prefix + std::string(name);
}

double Leaderboard::add_score(std::string_view player, double delta) {
  if (!options_.ttl) return client_.zincrby(key_, delta, player);
  const std::string increment = detail::score_text(delta);
  const std::string ttl = detail::millis_text(*options_.ttl);
  detail::RecipeTransaction tx(client_);
  tx.queue({"ZINCRBY", key_, increment, player});
  tx.queue({"PEXPIRE", key_, ttl});
  const std::vector<Reply> replies = tx.exec();
  const std::optional<std::string> score =
      detail::to_optional_string(replies[0], detail::Call{client_.endpoint(), "ZINCRBY"});
  if (!score)
    throw ProtocolError("redis " + client_.endpoint() + ": ZINCRBY: unexpected nil reply");
  return detail::parse_score(*score, client_.endpoint(), "ZINCRBY");
}

void Leaderboard::set_score(std::string_view player, double score) {
  if (!options_.ttl) {
    client_.zadd(key_, player, score);
    return;
  }
  const std::string text = detail::score_text(score);
  const std::string ttl = detail::millis_text(*options_.ttl);
  detail::RecipeTransaction tx(client_);
  tx.queue({"ZADD", key_, text, player});
  tx.queue({"PEXPIRE", key_, ttl});
  tx.exec();
}

bool Leaderboard::remove(std::string_view player) { return client_.zrem(key_, {player}) > 0; }

std::optional<long long> Leaderboard::rank(std::string_view player) {
  return client_.zrevrank(key_, player);
}

std::optional<RankedPlayer> Leaderboard::find(std::string_view player) {
  detail::RecipeTransaction tx(client_);
  tx.queue({"ZSCORE", key_, player});
  tx.queue({"ZREVRANK", key_, player});
  const std::vector<Reply> replies = tx.exec();
  const std::optional<std::string> score =
      detail::to_optional_string(replies[0], detail::Call{client_.endpoint(), "ZSCORE"});
  if (!score || replies[1].is_nil()) return std::nullopt;
  return RankedPlayer{std::string(player),
                      detail::parse_score(*score, client_.endpoint(), "ZSCORE"),
                      detail::to_integer(replies[1], detail::Call{client_.endpoint(), "ZREVRANK"})};
}

std::vector<RankedPlayer> Leaderboard::top(std::size_t n) {
  if (n == 0) return {};
  const std::vector<ScoredMember> best =
      client_.zrevrange_with_scores(key_, 0, static_cast<long long>(n) - 1);
  std::vector<RankedPlayer> players;
  players.reserve(best.size());
  for (std::size_t i = 0; i < best.size(); ++i) {
    players.push_back(RankedPlayer{best[i].member, best[i].score, static_cast<long long>(i)});
  }
  return players;
}

std::vector<RankedPlayer> Leaderboard::around(std::string_view player, std::size_t radius) {
  // A window wider than any board is the whole board; the cap keeps the arithmetic exact.
  constexpr std::size_t kMaxRadius = std::size_t{1} << 31U;
  const std::string radius_text =
      detail::decimal(static_cast<long long>(std::min(radius, kMaxRadius)));
  const Reply reply = client_.eval(around_script(), {key_}, {player, radius_text});
  if (reply.is_nil()) return {};
  if (!reply.is_array() || reply.elements.size() != 2) {
    throw ProtocolError("redis " + client_.endpoint() + ": EVALSHA: unexpected " +
                        to_string(reply.type) + " reply");
  }
  const long long first =
      detail::to_integer(reply.elements[0], detail::Call{client_.endpoint(), "EVALSHA"});
  return ranked_from_flat(reply.elements[1], first, client_.endpoint(), "EVALSHA");
}

long long Leaderboard::size() { return client_.zcard(key_); }

void Leaderboard::clear() { client_.del({key_}); }

}  // namespace rediscache::recipes
