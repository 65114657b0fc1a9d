#include "helpers/common.hpp"

#include "util/random.hpp"

namespace rediscache::detail {

void throw_unexpected(const Reply& reply, std::string_view what) {
  if (reply.is_error()) {
    const auto space = reply.str.find(' ');
    throw ReplyError(std::string(what) + ": " + reply.str, reply.str.substr(0, space));
  }
  throw ProtocolError(std::string(what) + ": unexpected reply of type " + to_string(reply.type));
}

void expect_integers(const Reply& reply, std::size_t count, std::string_view what) {
  if (!reply.is_array() || reply.elements.size() != count) throw_unexpected(reply, what);
  for (const Reply& element : reply.elements) {
    if (!element.is_integer()) throw_unexpected(element, what);
  }
}

long long expect_integer(const Reply& reply, std::string_view what) {
  if (!reply.is_integer()) throw_unexpected(reply, what);
  return reply.integer;
}

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : step_(min), max_(max), rng_(random_u64()) {}

std::chrono::microseconds Backoff::next() {
  const auto step = step_;
  step_ = std::min(step_ * 2, max_);
  std::uniform_int_distribution<long long> jitter(step.count() / 2, step.count());
  return std::chrono::microseconds(jitter(rng_));
}

}  // namespace rediscache::detail
