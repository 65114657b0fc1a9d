// WriteBehindOptions::validate and the queue-name rule, moved as they were from
// write_behind_queue.cpp.
#include "cache/write_behind_options.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rediscache/cache/write_behind.hpp"

namespace rediscache {
namespace {

constexpr std::size_t kMaxBatchLimit = 10000;  // Lua's unpack() takes a few thousand arguments
constexpr std::size_t kMaxQueueName = 128;

void require(bool ok, const char* field, const char* rule) {
  if (!ok) {
    throw std::invalid_argument(std::string("WriteBehindOptions::") + field + " " + rule);
  }
}

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
  require(queue.empty() || detail::valid_queue_name(queue), "queue",
          "must be 1..128 characters of [A-Za-z0-9_.-] (or empty for the cache's namespace)");
  require(max_batch >= 1 && max_batch <= kMaxBatchLimit, "max_batch", "must be in 1..10000");
  require(max_delay.count() > 0, "max_delay", "must be positive");
  require(poll_interval.count() > 0, "poll_interval", "must be positive");
  require(max_attempts >= 1, "max_attempts", "must be at least 1");
  require(initial_backoff.count() > 0, "initial_backoff", "must be positive");
  require(max_backoff >= initial_backoff, "max_backoff", "must be at least initial_backoff");
  require(flusher_lease.count() > 0, "flusher_lease", "must be positive");
  require(claim_min_idle.count() > 0, "claim_min_idle", "must be positive");
  require(drain_timeout.count() >= 0, "drain_timeout", "must not be negative");
  require(queue_ttl.count() > 0, "queue_ttl", "must be positive");
  require(wait_timeout.count() > 0, "wait_timeout", "must be positive");
}

}  // namespace rediscache
