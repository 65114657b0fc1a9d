// WriteBehindOptions::validate and the queue-name rule, moved as they were from
// write_behind_queue.cpp.
#include "cache/write_behind_options.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rediscache/cache/write_behind.hpp"
#include "util/validation.hpp"

namespace rediscache {
namespace {

constexpr std::size_t kMaxBatchLimit = 10000;  // Lua's unpack() takes a few thousand arguments
constexpr std::size_t kMaxQueueName = 128;

}  // namespace

namespace detail {

bool valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxQueueName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

}  // namespace detail

void WriteBehindOptions::validate() const {
  using detail::require;
  using detail::require_positive;
  require(queue.empty() || detail::valid_queue_name(queue), "WriteBehindOptions::queue",
          "must be 1..128 characters of [A-Za-z0-9_.-] (or empty for the cache's namespace)");
  detail::require_range(max_batch, decltype(max_batch){1}, decltype(max_batch){kMaxBatchLimit},
                        "WriteBehindOptions::max_batch");
  require_positive(max_delay, "WriteBehindOptions::max_delay");
  require_positive(poll_interval, "WriteBehindOptions::poll_interval");
  require(max_attempts >= 1, "WriteBehindOptions::max_attempts", "must be at least 1");
  detail::require_backoff(initial_backoff, max_backoff, "WriteBehindOptions::initial_backoff",
                          "WriteBehindOptions::max_backoff");
  require_positive(flusher_lease, "WriteBehindOptions::flusher_lease");
  require_positive(claim_min_idle, "WriteBehindOptions::claim_min_idle");
  detail::require_non_negative(drain_timeout, "WriteBehindOptions::drain_timeout");
  require_positive(queue_ttl, "WriteBehindOptions::queue_ttl");
  require_positive(wait_timeout, "WriteBehindOptions::wait_timeout");
}

}  // namespace rediscache
