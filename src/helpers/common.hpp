// Small pieces the helpers share: reply checks, backoff with jitter, duration formatting.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>

#include "rediscache/net/reply.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

/// Throws ReplyError for an error reply, ProtocolError for any other. `what` names the command.
[[noreturn]] void throw_unexpected(const Reply& reply, std::string_view what);

/// Throws ReplyError for an error reply and ProtocolError unless `reply` is an array of
/// `count` integers. `what` names the script in messages.
void expect_integers(const Reply& reply, std::size_t count, std::string_view what);

/// Throws ReplyError for an error reply and ProtocolError unless `reply` is an integer; returns it.
long long expect_integer(const Reply& reply, std::string_view what);

/// Milliseconds as the decimal string Redis expects.
inline std::string to_arg(std::chrono::milliseconds duration) {
  return std::to_string(duration.count());
}

/// Exponential backoff with "equal jitter": each pause is drawn from [step/2, step], and the
/// step doubles up to `max`. Jitter spreads waiters apart so they do not retry in lockstep.
/// Not thread-safe (one per waiting call).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);
  std::chrono::microseconds next();

 private:
  std::chrono::microseconds step_;
  std::chrono::microseconds max_;
  std::mt19937_64 rng_;
};

}  // namespace rediscache::detail
