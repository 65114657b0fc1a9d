#include "client/client_core.hpp"

#include <charconv>
#include <cstdlib>

#include "net/connection.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

ClientCore::ClientCore(std::shared_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {
  if (!pool_) throw std::invalid_argument("pool must not be null");
}

ClientCore::ClientCore(std::unique_ptr<Topology> topology) : topology_(std::move(topology)) {
  if (!topology_) throw std::invalid_argument("topology must not be null");
  sharded_ = topology_->sharded();
}

ClientCore::~ClientCore() = default;

Reply ClientCore::run(std::string_view key, ArgList argv) {
  if (__builtin_expect(topology_ != nullptr, 0)) return run_topology(key, argv, std::nullopt, true);
  ConnectionPool& pool = *pool_;
  Reply reply = pool.command(argv);
  if (reply.is_error()) throw_reply_error(pool.endpoint(), command_name(argv), reply);
  return reply;
}

Reply ClientCore::run_allow_error(std::string_view key, ArgList argv) {
  if (__builtin_expect(topology_ != nullptr, 0)) {
    return run_topology(key, argv, std::nullopt, false);
  }
  return pool_->command(argv);
}

Reply ClientCore::run_blocking(std::string_view key, ArgList argv,
                               std::chrono::milliseconds block) {
  if (topology_ != nullptr) return run_topology(key, argv, block, true);
  ConnectionPool& pool = *pool_;
  Lease lease = pool.lease();
  lease.set_read_timeout(blocking_read_timeout(block, pool.connection_options().command_timeout));
  Reply reply = lease.command(argv);
  lease.set_read_timeout(std::nullopt);
  if (reply.is_error()) throw_reply_error(pool.endpoint(), command_name(argv), reply);
  return reply;
}

ClientCore::FollowedReplies ClientCore::run_followed(std::string_view key, ArgList argv,
                                                     ArgList follow_up,
                                                     std::chrono::milliseconds block) {
  FollowedReplies out;
  if (topology_ != nullptr) {
    const std::string* endpoint = nullptr;
    Command command{argv, {}, argv.empty() ? std::string_view{} : argv[0]};
    command.follow_up = follow_up;
    command.follow_up_reply = &out.follow_up;
    out.reply = topology_->execute(slot_of(key), command, block, &endpoint);
    out.endpoint = *endpoint;
    return out;
  }
  ConnectionPool& pool = *pool_;
  out.endpoint = pool.endpoint();
  Lease lease = pool.lease();
  lease.set_read_timeout(blocking_read_timeout(block, pool.connection_options().command_timeout));
  lease.append(argv);
  lease.append(follow_up);
  out.reply = lease.read_reply(argv.empty() ? std::string_view{} : argv[0]);
  out.follow_up = lease.read_reply(follow_up.empty() ? std::string_view{} : follow_up[0]);
  lease.set_read_timeout(std::nullopt);
  return out;
}

Reply ClientCore::run_topology(std::string_view key, ArgList argv,
                               std::optional<std::chrono::milliseconds> block,
                               bool throw_on_error) {
  const std::string_view name = argv.empty() ? std::string_view{} : argv[0];
  const std::string* endpoint = nullptr;
  Reply reply = topology_->execute(slot_of(key), Command{argv, {}, name}, block, &endpoint);
  if (throw_on_error && reply.is_error()) {
    throw_reply_error(*endpoint, command_name(argv), reply);
  }
  return reply;
}

void check_one_slot(const ClientCore& core, ArgList keys, std::string_view command) {
  if (!core.sharded() || keys.size() < 2) return;
  const std::uint16_t slot = cluster_slot(keys[0]);
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (cluster_slot(keys[i]) != slot) {
      throw ReplyError("redis cluster: " + std::string(command) +
                           ": CROSSSLOT: these keys must hash to one slot (give them one {hash "
                           "tag}, e.g. \"{user:42}:a\" and \"{user:42}:b\")",
                       "CROSSSLOT");
    }
  }
}

void throw_unexpected(const Call& call, const Reply& reply) {
  if (reply.is_error()) throw_reply_error(call.endpoint, call.command, reply);
  throw ProtocolError("redis " + call.endpoint + ": " + std::string(call.command) +
                      ": unexpected " + to_string(reply.type) + " reply");
}

void throw_if_error(const Reply& reply, const Call& call) {
  if (reply.is_error()) throw_reply_error(call.endpoint, call.command, reply);
}

void expect_integers(const Reply& reply, std::size_t count, const Call& call) {
  if (!reply.is_array() || reply.elements.size() != count) throw_unexpected(call, reply);
  for (const Reply& element : reply.elements) {
    if (!element.is_integer()) throw_unexpected(call, element);
  }
}

std::optional<std::string> to_optional_string(const Reply& reply, const Call& call) {
  if (reply.is_nil()) return std::nullopt;
  if (!reply.is_string() && !reply.is_status()) throw_unexpected(call, reply);
  return reply.str;
}

long long to_integer(const Reply& reply, const Call& call) {
  if (!reply.is_integer()) throw_unexpected(call, reply);
  return reply.integer;
}

bool to_bool(const Reply& reply, const Call& call) { return to_integer(reply, call) != 0; }

double to_double(const Reply& reply, const Call& call) {
  if (!reply.is_string() && !reply.is_status()) throw_unexpected(call, reply);
  const std::string& s = reply.str;
  // strtod understands "inf"/"-inf", which Redis sends for infinite scores.
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) throw_unexpected(call, reply);
  return value;
}

std::optional<double> to_optional_double(const Reply& reply, const Call& call) {
  if (reply.is_nil()) return std::nullopt;
  return to_double(reply, call);
}

std::optional<long long> to_optional_integer(const Reply& reply, const Call& call) {
  if (reply.is_nil()) return std::nullopt;
  return to_integer(reply, call);
}

std::optional<std::string> to_optional_string(Reply&& reply, const Call& call) {
  if (reply.is_nil()) return std::nullopt;
  // A status line where a bulk string is due (+OK to a GET) is not a value: a server (or
  // something posing as one) that answers so is out of step or hostile.
  if (!reply.is_string()) throw_unexpected(call, reply);
  return std::move(reply.str);
}

std::optional<std::string> to_optional_text(Reply&& reply, const Call& call) {
  if (reply.is_nil()) return std::nullopt;
  if (!reply.is_string() && !reply.is_status()) throw_unexpected(call, reply);
  return std::move(reply.str);
}

std::vector<std::string> to_strings(Reply&& reply, const Call& call) {
  if (!reply.is_array()) throw_unexpected(call, reply);
  std::vector<std::string> out;
  out.reserve(reply.elements.size());
  for (Reply& element : reply.elements) {
    if (!element.is_string() && !element.is_status()) throw_unexpected(call, element);
    out.push_back(std::move(element.str));
  }
  return out;
}

std::vector<std::optional<std::string>> to_optional_strings(Reply&& reply, const Call& call) {
  if (!reply.is_array()) throw_unexpected(call, reply);
  std::vector<std::optional<std::string>> out;
  out.reserve(reply.elements.size());
  for (Reply& element : reply.elements) out.push_back(to_optional_string(std::move(element), call));
  return out;
}

void expect_ok(const Reply& reply, const Call& call) {
  if (!reply.is_status()) throw_unexpected(call, reply);
}

}  // namespace rediscache::detail
