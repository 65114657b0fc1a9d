// Typed commands on keys and strings, and SCAN.
#include <charconv>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "client/client_core.hpp"
#include "net/resp.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/topology/cluster.hpp"
#include "util/validation.hpp"

namespace rediscache {

using detail::Argv;
using detail::Call;
using detail::IntText;

namespace {

// Appends the SET modifiers shared by Client::set and Pipeline::set.
void check_set_options(const SetOptions& options) {
  if (options.ttl) detail::require_positive(*options.ttl, "SetOptions::ttl");
  if (options.ttl && options.keep_ttl) {
    throw std::invalid_argument("SetOptions::keep_ttl cannot be combined with SetOptions::ttl");
  }
}

// Positions of `keys` grouped by cluster slot, groups in order of first appearance.
std::vector<std::vector<std::size_t>> group_by_slot(
    std::size_t count, const std::function<std::string_view(std::size_t)>& key_at) {
  std::vector<std::vector<std::size_t>> groups;
  std::unordered_map<std::uint16_t, std::size_t> group_of;
  for (std::size_t i = 0; i < count; ++i) {
    const auto [it, added] = group_of.emplace(cluster_slot(key_at(i)), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

// On a cluster: one command per slot (`name` + the group's keys, plus values when `values` is
// set), all in one pipeline, so each node gets one batch and all nodes work at once.
std::vector<Reply> run_per_slot(const Client& client, std::string_view name,
                                const std::vector<std::vector<std::size_t>>& groups,
                                const std::function<std::string_view(std::size_t)>& key_at,
                                const std::function<std::string_view(std::size_t)>* value_at) {
  Pipeline pipeline(client);
  for (const auto& group : groups) {
    Argv argv(group.size() * (value_at != nullptr ? 2 : 1) + 1);
    argv.add(name);
    for (const std::size_t i : group) {
      argv.add(key_at(i));
      if (value_at != nullptr) argv.add((*value_at)(i));
    }
    pipeline.command(argv.view());
  }
  return pipeline.exec();
}

long long keys_command(Client& client, detail::ClientCore& core, const std::string& endpoint,
                       std::string_view name, ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  if (core.sharded() && keys.size() > 1) {
    const auto key_at = [&](std::size_t i) { return keys[i]; };
    const auto groups = group_by_slot(keys.size(), key_at);
    if (groups.size() > 1) {
      long long total = 0;
      for (const Reply& reply : run_per_slot(client, name, groups, key_at, nullptr)) {
        if (reply.is_error()) detail::throw_reply_error(endpoint, name, reply);
        total += detail::to_integer(reply, Call{endpoint, name});
      }
      return total;
    }
  }
  Argv argv(keys.size() + 1);
  argv.add(name);
  argv.add_all(keys);
  return detail::to_integer(core.run(keys[0], argv.view()), Call{endpoint, name});
}

// MSET split by slot; false when every key is in one slot (then a plain MSET does it).
bool sharded_mset(const Client& client, const std::string& endpoint, std::size_t count,
                  const std::function<std::string_view(std::size_t)>& key_at,
                  const std::function<std::string_view(std::size_t)>& value_at) {
  const auto groups = group_by_slot(count, key_at);
  if (groups.size() < 2) return false;
  for (const Reply& reply : run_per_slot(client, "MSET", groups, key_at, &value_at)) {
    if (reply.is_error()) detail::throw_reply_error(endpoint, "MSET", reply);
    detail::expect_ok(reply, Call{endpoint, "MSET"});
  }
  return true;
}

// The one body of both mset overloads (owned strings in a vector, views in a braced list).
template <class Pairs>
void mset_pairs(const Client& client, detail::ClientCore& core, const Pairs& items) {
  if (items.size() == 0) return;
  const auto first = items.begin();
  if (core.sharded() && sharded_mset(
                            client, client.endpoint(), items.size(),
                            [&](std::size_t i) { return std::string_view(first[i].first); },
                            [&](std::size_t i) { return std::string_view(first[i].second); })) {
    return;
  }
  Argv argv(items.size() * 2 + 1);
  argv.add("MSET");
  for (const auto& [key, value] : items) {
    argv.add(key);
    argv.add(value);
  }
  detail::expect_ok(core.run(first->first, argv.view()), Call{client.endpoint(), "MSET"});
}

}  // namespace

namespace detail {
// Shared with Pipeline::set so both build exactly the same command.
void build_set(Argv& argv, std::string_view key, std::string_view value, const SetOptions& options,
               IntText& ttl_text) {
  check_set_options(options);
  argv.add("SET");
  argv.add(key);
  argv.add(value);
  if (options.ttl) {
    ttl_text = IntText(options.ttl->count());
    argv.add("PX");
    argv.add(ttl_text);
  } else if (options.keep_ttl) {
    argv.add("KEEPTTL");
  }
  if (options.condition == SetCondition::kIfNotExists) argv.add("NX");
  if (options.condition == SetCondition::kIfExists) argv.add("XX");
}
}  // namespace detail

std::optional<std::string> Client::get(std::string_view key) {
  return detail::to_optional_string(core_->run(key, {"GET", key}), Call{endpoint(), "GET"});
}

bool Client::set(std::string_view key, std::string_view value, const SetOptions& options) {
  Argv argv;
  IntText ttl(0);
  detail::build_set(argv, key, value, options, ttl);
  const Reply reply = core_->run(key, argv.view());
  if (reply.is_nil()) return false;
  detail::expect_ok(reply, Call{endpoint(), "SET"});
  return true;
}

void Client::setex(std::string_view key, std::chrono::seconds ttl, std::string_view value) {
  detail::require_positive(ttl, "Client::setex ttl");
  const IntText seconds(ttl.count());
  detail::expect_ok(core_->run(key, {"SETEX", key, seconds, value}), Call{endpoint(), "SETEX"});
}

std::vector<std::optional<std::string>> Client::mget(ArgList keys) {
  if (keys.empty()) return {};
  if (core_->sharded() && keys.size() > 1) {
    const auto key_at = [&](std::size_t i) { return keys[i]; };
    const auto groups = group_by_slot(keys.size(), key_at);
    if (groups.size() > 1) {
      std::vector<Reply> replies = run_per_slot(*this, "MGET", groups, key_at, nullptr);
      std::vector<std::optional<std::string>> values(keys.size());
      for (std::size_t g = 0; g < groups.size(); ++g) {
        if (replies[g].is_error()) detail::throw_reply_error(endpoint(), "MGET", replies[g]);
        auto part = detail::to_optional_strings(std::move(replies[g]), Call{endpoint(), "MGET"});
        if (part.size() != groups[g].size()) detail::throw_unexpected(Call{endpoint(), "MGET"}, {});
        for (std::size_t j = 0; j < part.size(); ++j) values[groups[g][j]] = std::move(part[j]);
      }
      return values;
    }
  }
  Argv argv(keys.size() + 1);
  argv.add("MGET");
  argv.add_all(keys);
  return detail::to_optional_strings(core_->run(keys[0], argv.view()), Call{endpoint(), "MGET"});
}

void Client::mset(const std::vector<std::pair<std::string, std::string>>& items) {
  mset_pairs(*this, *core_, items);
}

void Client::mset(std::initializer_list<std::pair<std::string_view, std::string_view>> items) {
  mset_pairs(*this, *core_, items);
}

long long Client::incr(std::string_view key) {
  return detail::to_integer(core_->run(key, {"INCR", key}), Call{endpoint(), "INCR"});
}

long long Client::incrby(std::string_view key, long long increment) {
  const IntText by(increment);
  return detail::to_integer(core_->run(key, {"INCRBY", key, by}), Call{endpoint(), "INCRBY"});
}

long long Client::decrby(std::string_view key, long long decrement) {
  const IntText by(decrement);
  return detail::to_integer(core_->run(key, {"DECRBY", key, by}), Call{endpoint(), "DECRBY"});
}

long long Client::del(ArgList keys) { return keys_command(*this, *core_, endpoint(), "DEL", keys); }

long long Client::unlink(ArgList keys) {
  return keys_command(*this, *core_, endpoint(), "UNLINK", keys);
}

long long Client::exists(ArgList keys) {
  return keys_command(*this, *core_, endpoint(), "EXISTS", keys);
}

bool Client::expire(std::string_view key, std::chrono::seconds ttl) {
  detail::require_duration(ttl, -detail::kMaxDuration, detail::kMaxDuration, "Client::expire ttl");
  const IntText seconds(ttl.count());
  return detail::to_bool(core_->run(key, {"EXPIRE", key, seconds}), Call{endpoint(), "EXPIRE"});
}

bool Client::pexpire(std::string_view key, std::chrono::milliseconds ttl) {
  detail::require_duration(ttl, -detail::kMaxDuration, detail::kMaxDuration, "Client::pexpire ttl");
  const IntText ms(ttl.count());
  return detail::to_bool(core_->run(key, {"PEXPIRE", key, ms}), Call{endpoint(), "PEXPIRE"});
}

long long Client::ttl(std::string_view key) {
  return detail::to_integer(core_->run(key, {"TTL", key}), Call{endpoint(), "TTL"});
}

long long Client::pttl(std::string_view key) {
  return detail::to_integer(core_->run(key, {"PTTL", key}), Call{endpoint(), "PTTL"});
}

ScanPage Client::scan(std::uint64_t cursor, const ScanOptions& options) {
  const Call call{endpoint(), "SCAN"};
  if (options.count && *options.count == 0) {
    throw std::invalid_argument("ScanOptions::count must be positive when set");
  }
  const IntText cursor_text(static_cast<long long>(cursor));
  const IntText count_text(static_cast<long long>(options.count.value_or(0)));
  Argv argv;
  argv.add("SCAN");
  argv.add(cursor_text);
  if (!options.match.empty()) {
    argv.add("MATCH");
    argv.add(options.match);
  }
  if (options.count) {
    argv.add("COUNT");
    argv.add(count_text);
  }
  if (!options.type.empty()) {
    argv.add("TYPE");
    argv.add(options.type);
  }
  // On a cluster the cursor's top bits say which master is being scanned (Redis's own cursors
  // stay far below 2^54), so one cursor walks every master in turn.
  constexpr int kNodeShift = 54;
  constexpr std::uint64_t kNodeCursor = (std::uint64_t{1} << kNodeShift) - 1;
  std::vector<ConnectionPool*> masters;
  std::size_t node = 0;
  Reply reply;
  if (core_->sharded()) {
    masters = core_->topology()->masters();
    node = static_cast<std::size_t>(cursor >> kNodeShift);
    if (node >= masters.size()) return ScanPage{};
    const IntText node_cursor(static_cast<long long>(cursor & kNodeCursor));
    Argv node_argv;
    node_argv.add("SCAN");
    node_argv.add(node_cursor);
    const ArgList rest = argv.view();
    for (std::size_t i = 2; i < rest.size(); ++i) node_argv.add(rest[i]);
    reply = masters[node]->command(node_argv.view());
    if (reply.is_error()) detail::throw_reply_error(masters[node]->endpoint(), "SCAN", reply);
  } else {
    reply = core_->run({}, argv.view());
  }
  if (!reply.is_array() || reply.elements.size() != 2 || !reply.elements[0].is_string()) {
    detail::throw_unexpected(call, reply);
  }
  ScanPage page;
  const std::string& next = reply.elements[0].str;
  const auto parsed = std::from_chars(next.data(), next.data() + next.size(), page.cursor);
  if (parsed.ec != std::errc()) detail::throw_unexpected(call, reply.elements[0]);
  page.keys = detail::to_strings(std::move(reply.elements[1]), call);
  if (!masters.empty()) {
    if (page.cursor > kNodeCursor) detail::throw_unexpected(call, reply.elements[0]);
    if (page.cursor != 0) {
      page.cursor |= static_cast<std::uint64_t>(node) << kNodeShift;
    } else if (node + 1 < masters.size()) {
      page.cursor = static_cast<std::uint64_t>(node + 1) << kNodeShift;
    }
  }
  return page;
}

void Client::scan_each(const ScanOptions& options,
                       const std::function<void(std::string_view)>& on_key) {
  std::uint64_t cursor = 0;
  do {
    ScanPage page = scan(cursor, options);
    for (const std::string& key : page.keys) on_key(key);
    cursor = page.cursor;
  } while (cursor != 0);
}

}  // namespace rediscache
