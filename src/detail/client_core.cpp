#include "detail/client_core.hpp"

#include <charconv>
#include <cstdlib>

#include "detail/connection.hpp"
#include "detail/resp.hpp"
#include "rediscache/errors.hpp"

namespace rediscache::detail {

ClientCore::ClientCore(std::shared_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {
  if (!pool_) throw std::invalid_argument("pool must not be null");
}

Reply ClientCore::run(std::string_view key, ArgList argv) {
  ConnectionPool& pool = pool_for(key);
  Reply reply = pool.lease().command(argv);
  if (reply.is_error()) throw_reply_error(pool.endpoint(), command_name(argv), reply);
  return reply;
}

Reply ClientCore::run_allow_error(std::string_view key, ArgList argv) {
  return pool_for(key).lease().command(argv);
}

Reply ClientCore::run_blocking(std::string_view key, ArgList argv,
                               std::chrono::milliseconds block) {
  ConnectionPool& pool = pool_for(key);
  Lease lease = pool.lease();
  lease.set_read_timeout(block + pool.connection_options().command_timeout);
  Reply reply = lease.command(argv);
  lease.set_read_timeout(std::nullopt);
  if (reply.is_error()) throw_reply_error(pool.endpoint(), command_name(argv), reply);
  return reply;
}

void throw_unexpected(const Call& call, const Reply& reply) {
  throw ProtocolError("redis " + call.endpoint + ": " + std::string(call.command) +
                      ": unexpected " + to_string(reply.type) + " reply");
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
