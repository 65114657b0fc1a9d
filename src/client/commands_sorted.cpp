// Typed commands on sorted sets, HyperLogLog and bitmaps.
#include <stdexcept>

#include "client/client_core.hpp"
#include "net/resp.hpp"
#include "rediscache/client/client.hpp"

namespace rediscache {

using detail::Argv;
using detail::Call;
using detail::DoubleText;
using detail::IntText;

namespace {

std::vector<ScoredMember> to_scored(Reply&& reply, const Call& call) {
  std::vector<std::string> flat = detail::to_strings(std::move(reply), call);
  if (flat.size() % 2 != 0) detail::throw_unexpected(call, Reply{});
  std::vector<ScoredMember> out;
  out.reserve(flat.size() / 2);
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    Reply score;
    score.type = ReplyType::kString;
    score.str = std::move(flat[i + 1]);
    out.push_back(ScoredMember{std::move(flat[i]), detail::to_double(score, call)});
  }
  return out;
}

// ZRANGE / ZREVRANGE key start stop [WITHSCORES].
Reply run_range(detail::ClientCore& core, std::string_view verb, std::string_view key,
                long long start, long long stop, bool with_scores) {
  const IntText from(start);
  const IntText to(stop);
  if (with_scores) return core.run(key, {verb, key, from, to, "WITHSCORES"});
  return core.run(key, {verb, key, from, to});
}

}  // namespace

// --- Sorted sets -------------------------------------------------------------------------

long long Client::zadd(std::string_view key, std::string_view member, double score) {
  const DoubleText score_text(score);
  return detail::to_integer(core_->run(key, {"ZADD", key, score_text, member}),
                            Call{endpoint(), "ZADD"});
}

long long Client::zadd(std::string_view key, const std::vector<ScoredMember>& members) {
  if (members.empty()) throw std::invalid_argument("members must not be empty");
  std::vector<DoubleText> scores;
  scores.reserve(members.size());
  for (const ScoredMember& m : members) scores.emplace_back(m.score);
  Argv argv(members.size() * 2 + 2);
  argv.add("ZADD");
  argv.add(key);
  for (std::size_t i = 0; i < members.size(); ++i) {
    argv.add(scores[i]);
    argv.add(members[i].member);
  }
  return detail::to_integer(core_->run(key, argv.view()), Call{endpoint(), "ZADD"});
}

long long Client::zrem(std::string_view key, ArgList members) {
  if (members.empty()) throw std::invalid_argument("members must not be empty");
  Argv argv(members.size() + 2);
  argv.add("ZREM");
  argv.add(key);
  argv.add_all(members);
  return detail::to_integer(core_->run(key, argv.view()), Call{endpoint(), "ZREM"});
}

std::optional<double> Client::zscore(std::string_view key, std::string_view member) {
  return detail::to_optional_double(core_->run(key, {"ZSCORE", key, member}),
                                    Call{endpoint(), "ZSCORE"});
}

double Client::zincrby(std::string_view key, double increment, std::string_view member) {
  const DoubleText by(increment);
  return detail::to_double(core_->run(key, {"ZINCRBY", key, by, member}),
                           Call{endpoint(), "ZINCRBY"});
}

std::vector<std::string> Client::zrange(std::string_view key, long long start, long long stop) {
  return detail::to_strings(run_range(*core_, "ZRANGE", key, start, stop, false),
                            Call{endpoint(), "ZRANGE"});
}

std::vector<ScoredMember> Client::zrange_with_scores(std::string_view key, long long start,
                                                     long long stop) {
  return to_scored(run_range(*core_, "ZRANGE", key, start, stop, true), Call{endpoint(), "ZRANGE"});
}

std::vector<std::string> Client::zrevrange(std::string_view key, long long start, long long stop) {
  return detail::to_strings(run_range(*core_, "ZREVRANGE", key, start, stop, false),
                            Call{endpoint(), "ZREVRANGE"});
}

std::vector<ScoredMember> Client::zrevrange_with_scores(std::string_view key, long long start,
                                                        long long stop) {
  return to_scored(run_range(*core_, "ZREVRANGE", key, start, stop, true),
                   Call{endpoint(), "ZREVRANGE"});
}

std::optional<long long> Client::zrank(std::string_view key, std::string_view member) {
  return detail::to_optional_integer(core_->run(key, {"ZRANK", key, member}),
                                     Call{endpoint(), "ZRANK"});
}

std::optional<long long> Client::zrevrank(std::string_view key, std::string_view member) {
  return detail::to_optional_integer(core_->run(key, {"ZREVRANK", key, member}),
                                     Call{endpoint(), "ZREVRANK"});
}

long long Client::zcount(std::string_view key, std::string_view min, std::string_view max) {
  return detail::to_integer(core_->run(key, {"ZCOUNT", key, min, max}), Call{endpoint(), "ZCOUNT"});
}

long long Client::zcount(std::string_view key, double min, double max) {
  const DoubleText lo(min);
  const DoubleText hi(max);
  return zcount(key, lo.view(), hi.view());
}

long long Client::zcard(std::string_view key) {
  return detail::to_integer(core_->run(key, {"ZCARD", key}), Call{endpoint(), "ZCARD"});
}

long long Client::zremrangebyscore(std::string_view key, std::string_view min,
                                   std::string_view max) {
  return detail::to_integer(core_->run(key, {"ZREMRANGEBYSCORE", key, min, max}),
                            Call{endpoint(), "ZREMRANGEBYSCORE"});
}

long long Client::zremrangebyscore(std::string_view key, double min, double max) {
  const DoubleText lo(min);
  const DoubleText hi(max);
  return zremrangebyscore(key, lo.view(), hi.view());
}

// --- HyperLogLog -------------------------------------------------------------------------

bool Client::pfadd(std::string_view key, ArgList elements) {
  Argv argv(elements.size() + 2);
  argv.add("PFADD");
  argv.add(key);
  argv.add_all(elements);
  return detail::to_bool(core_->run(key, argv.view()), Call{endpoint(), "PFADD"});
}

long long Client::pfcount(ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  Argv argv(keys.size() + 1);
  argv.add("PFCOUNT");
  argv.add_all(keys);
  return detail::to_integer(core_->run(keys[0], argv.view()), Call{endpoint(), "PFCOUNT"});
}

void Client::pfmerge(std::string_view destination, ArgList sources) {
  Argv argv(sources.size() + 2);
  argv.add("PFMERGE");
  argv.add(destination);
  argv.add_all(sources);
  detail::expect_ok(core_->run(destination, argv.view()), Call{endpoint(), "PFMERGE"});
}

// --- Bitmaps -----------------------------------------------------------------------------

bool Client::setbit(std::string_view key, std::uint64_t offset, bool value) {
  const IntText at(static_cast<long long>(offset));
  return detail::to_bool(core_->run(key, {"SETBIT", key, at, value ? "1" : "0"}),
                         Call{endpoint(), "SETBIT"});
}

bool Client::getbit(std::string_view key, std::uint64_t offset) {
  const IntText at(static_cast<long long>(offset));
  return detail::to_bool(core_->run(key, {"GETBIT", key, at}), Call{endpoint(), "GETBIT"});
}

long long Client::bitcount(std::string_view key) {
  return detail::to_integer(core_->run(key, {"BITCOUNT", key}), Call{endpoint(), "BITCOUNT"});
}

long long Client::bitcount(std::string_view key, long long start, long long end) {
  const IntText from(start);
  const IntText to(end);
  return detail::to_integer(core_->run(key, {"BITCOUNT", key, from, to}),
                            Call{endpoint(), "BITCOUNT"});
}

long long Client::bitop(BitOp operation, std::string_view destination, ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  if (operation == BitOp::kNot && keys.size() != 1) {
    throw std::invalid_argument("keys must hold exactly one key for BitOp::kNot");
  }
  static constexpr std::string_view kNames[] = {"AND", "OR", "XOR", "NOT"};
  Argv argv(keys.size() + 3);
  argv.add("BITOP");
  argv.add(kNames[static_cast<int>(operation)]);
  argv.add(destination);
  argv.add_all(keys);
  return detail::to_integer(core_->run(destination, argv.view()), Call{endpoint(), "BITOP"});
}

}  // namespace rediscache
