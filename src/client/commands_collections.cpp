// Typed commands on hashes, lists and sets.
#include <stdexcept>

#include "client/client_core.hpp"
#include "net/resp.hpp"
#include "rediscache/client/client.hpp"
#include "util/validation.hpp"

namespace rediscache {

using detail::Argv;
using detail::Call;
using detail::IntText;

namespace {

// The one body of both hset overloads of many fields (a vector of strings, a braced list of
// views).
template <class Pairs>
long long hset_pairs(detail::ClientCore& core, const std::string& endpoint, std::string_view key,
                     const Pairs& fields) {
  if (fields.size() == 0) throw std::invalid_argument("fields must not be empty");
  Argv argv(fields.size() * 2 + 2);
  argv.add("HSET");
  argv.add(key);
  for (const auto& [field, value] : fields) {
    argv.add(field);
    argv.add(value);
  }
  return detail::to_integer(core.run(key, argv.view()), Call{endpoint, "HSET"});
}

std::string_view end_name(ListEnd end) { return end == ListEnd::kLeft ? "LEFT" : "RIGHT"; }

void require_positive(std::chrono::milliseconds timeout) {
  // BRPOP/BLMOVE treat 0 as "block forever", which a pooled connection must never do.
  detail::require_positive(timeout, "Client blocking pop timeout");
}

long long key_and_list(detail::ClientCore& core, const std::string& endpoint, std::string_view name,
                       std::string_view key, ArgList items, const char* what) {
  if (items.empty()) throw std::invalid_argument(std::string(what) + " must not be empty");
  Argv argv(items.size() + 2);
  argv.add(name);
  argv.add(key);
  argv.add_all(items);
  return detail::to_integer(core.run(key, argv.view()), Call{endpoint, name});
}

std::vector<std::string> keys_to_strings(detail::ClientCore& core, const std::string& endpoint,
                                         std::string_view name, ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  Argv argv(keys.size() + 1);
  argv.add(name);
  argv.add_all(keys);
  return detail::to_strings(core.run(keys[0], argv.view()), Call{endpoint, name});
}

}  // namespace

// --- Hashes ------------------------------------------------------------------------------

long long Client::hset(std::string_view key, std::string_view field, std::string_view value) {
  return detail::to_integer(core_->run(key, {"HSET", key, field, value}), Call{endpoint(), "HSET"});
}

long long Client::hset(std::string_view key,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
  return hset_pairs(*core_, endpoint(), key, fields);
}

long long Client::hset(
    std::string_view key,
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  return hset_pairs(*core_, endpoint(), key, fields);
}

std::optional<std::string> Client::hget(std::string_view key, std::string_view field) {
  return detail::to_optional_string(core_->run(key, {"HGET", key, field}),
                                    Call{endpoint(), "HGET"});
}

std::vector<std::optional<std::string>> Client::hmget(std::string_view key, ArgList fields) {
  if (fields.empty()) return {};
  Argv argv(fields.size() + 2);
  argv.add("HMGET");
  argv.add(key);
  argv.add_all(fields);
  return detail::to_optional_strings(core_->run(key, argv.view()), Call{endpoint(), "HMGET"});
}

std::unordered_map<std::string, std::string> Client::hgetall(std::string_view key) {
  const Call call{endpoint(), "HGETALL"};
  std::vector<std::string> flat = detail::to_strings(core_->run(key, {"HGETALL", key}), call);
  if (flat.size() % 2 != 0) detail::throw_unexpected(call, Reply{});
  std::unordered_map<std::string, std::string> out;
  out.reserve(flat.size() / 2);
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    out.emplace(std::move(flat[i]), std::move(flat[i + 1]));
  }
  return out;
}

long long Client::hdel(std::string_view key, ArgList fields) {
  return key_and_list(*core_, endpoint(), "HDEL", key, fields, "fields");
}

long long Client::hincrby(std::string_view key, std::string_view field, long long increment) {
  const IntText by(increment);
  return detail::to_integer(core_->run(key, {"HINCRBY", key, field, by}),
                            Call{endpoint(), "HINCRBY"});
}

bool Client::hexists(std::string_view key, std::string_view field) {
  return detail::to_bool(core_->run(key, {"HEXISTS", key, field}), Call{endpoint(), "HEXISTS"});
}

long long Client::hlen(std::string_view key) {
  return detail::to_integer(core_->run(key, {"HLEN", key}), Call{endpoint(), "HLEN"});
}

// --- Lists -------------------------------------------------------------------------------

long long Client::lpush(std::string_view key, ArgList values) {
  return key_and_list(*core_, endpoint(), "LPUSH", key, values, "values");
}

long long Client::rpush(std::string_view key, ArgList values) {
  return key_and_list(*core_, endpoint(), "RPUSH", key, values, "values");
}

std::optional<std::string> Client::lpop(std::string_view key) {
  return detail::to_optional_string(core_->run(key, {"LPOP", key}), Call{endpoint(), "LPOP"});
}

std::optional<std::string> Client::rpop(std::string_view key) {
  return detail::to_optional_string(core_->run(key, {"RPOP", key}), Call{endpoint(), "RPOP"});
}

std::optional<std::pair<std::string, std::string>> Client::brpop(
    ArgList keys, std::chrono::milliseconds timeout) {
  require_positive(timeout);
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  const Call call{endpoint(), "BRPOP"};
  const detail::DoubleText seconds(static_cast<double>(timeout.count()) / 1000.0);
  Argv argv(keys.size() + 2);
  argv.add("BRPOP");
  argv.add_all(keys);
  argv.add(seconds);
  Reply reply = core_->run_blocking(keys[0], argv.view(), timeout);
  if (reply.is_nil()) return std::nullopt;
  std::vector<std::string> pair = detail::to_strings(std::move(reply), call);
  if (pair.size() != 2) detail::throw_unexpected(call, Reply{});
  return std::make_pair(std::move(pair[0]), std::move(pair[1]));
}

std::optional<std::string> Client::lmove(std::string_view source, std::string_view destination,
                                         ListEnd from, ListEnd to) {
  return detail::to_optional_string(
      core_->run(source, {"LMOVE", source, destination, end_name(from), end_name(to)}),
      Call{endpoint(), "LMOVE"});
}

std::optional<std::string> Client::blmove(std::string_view source, std::string_view destination,
                                          ListEnd from, ListEnd to,
                                          std::chrono::milliseconds timeout) {
  require_positive(timeout);
  const detail::DoubleText seconds(static_cast<double>(timeout.count()) / 1000.0);
  return detail::to_optional_string(
      core_->run_blocking(
          source, {"BLMOVE", source, destination, end_name(from), end_name(to), seconds}, timeout),
      Call{endpoint(), "BLMOVE"});
}

std::vector<std::string> Client::lrange(std::string_view key, long long start, long long stop) {
  const IntText from(start);
  const IntText to(stop);
  return detail::to_strings(core_->run(key, {"LRANGE", key, from, to}), Call{endpoint(), "LRANGE"});
}

long long Client::llen(std::string_view key) {
  return detail::to_integer(core_->run(key, {"LLEN", key}), Call{endpoint(), "LLEN"});
}

void Client::ltrim(std::string_view key, long long start, long long stop) {
  const IntText from(start);
  const IntText to(stop);
  detail::expect_ok(core_->run(key, {"LTRIM", key, from, to}), Call{endpoint(), "LTRIM"});
}

long long Client::lrem(std::string_view key, long long count, std::string_view element) {
  const IntText n(count);
  return detail::to_integer(core_->run(key, {"LREM", key, n, element}), Call{endpoint(), "LREM"});
}

// --- Sets --------------------------------------------------------------------------------

long long Client::sadd(std::string_view key, ArgList members) {
  return key_and_list(*core_, endpoint(), "SADD", key, members, "members");
}

long long Client::srem(std::string_view key, ArgList members) {
  return key_and_list(*core_, endpoint(), "SREM", key, members, "members");
}

bool Client::sismember(std::string_view key, std::string_view member) {
  return detail::to_bool(core_->run(key, {"SISMEMBER", key, member}),
                         Call{endpoint(), "SISMEMBER"});
}

std::vector<std::string> Client::smembers(std::string_view key) {
  return detail::to_strings(core_->run(key, {"SMEMBERS", key}), Call{endpoint(), "SMEMBERS"});
}

long long Client::scard(std::string_view key) {
  return detail::to_integer(core_->run(key, {"SCARD", key}), Call{endpoint(), "SCARD"});
}

std::vector<std::string> Client::sinter(ArgList keys) {
  return keys_to_strings(*core_, endpoint(), "SINTER", keys);
}

std::vector<std::string> Client::sunion(ArgList keys) {
  return keys_to_strings(*core_, endpoint(), "SUNION", keys);
}

}  // namespace rediscache
