#include "rediscache/cache/cache_options.hpp"

#include <stdexcept>
#include <string>

namespace rediscache {
namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& rule) {
  throw std::invalid_argument("rediscache: CacheOptions::" + field + " " + rule);
}

constexpr std::size_t kMaxRedisString = std::size_t{512} << 20;

}  // namespace

void CacheOptions::validate() const {
  if (name.empty() || name.size() > 128) invalid("name", "must be 1..128 bytes");
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) invalid("name", "may contain only [A-Za-z0-9_.-]");
  }
  if (!ttl && !allow_no_ttl) {
    invalid("ttl", "is required (every entry needs a TTL); set allow_no_ttl to opt out");
  }
  if (ttl && ttl->count() <= 0) invalid("ttl", "must be positive");
  if (!(ttl_jitter >= 0.0 && ttl_jitter < 1.0)) invalid("ttl_jitter", "must be in [0, 1)");
  if (negative_ttl && negative_ttl->count() <= 0) invalid("negative_ttl", "must be positive");
  if (stale_window.count() < 0) invalid("stale_window", "must not be negative");
  if (max_value_bytes == 0 || max_value_bytes > kMaxRedisString) {
    invalid("max_value_bytes", "must be 1 B..512 MiB");
  }
  if (compression_level < 1 || compression_level > 19) {
    invalid("compression_level", "must be 1..19");
  }
  if (lock.ttl.count() <= 0) invalid("lock.ttl", "must be positive");
  if (lock.max_wait.count() <= 0) invalid("lock.max_wait", "must be positive");
  if (lock.initial_backoff.count() <= 0) invalid("lock.initial_backoff", "must be positive");
  if (lock.max_backoff < lock.initial_backoff) {
    invalid("lock.max_backoff", "must be at least lock.initial_backoff");
  }
  if (refresh.mode != RefreshMode::kNone && !ttl) {
    invalid("refresh.mode", "needs a ttl (refresh-ahead refreshes before the TTL ends)");
  }
  if (!(refresh.xfetch_beta > 0.0)) invalid("refresh.xfetch_beta", "must be positive");
  if (!(refresh.threshold > 0.0 && refresh.threshold < 1.0)) {
    invalid("refresh.threshold", "must be in (0, 1)");
  }
  if (refresh.threads < 1 || refresh.threads > 16) invalid("refresh.threads", "must be 1..16");
  if (refresh.max_queue < 1) invalid("refresh.max_queue", "must be at least 1");
  if (breaker.failure_threshold < 1) invalid("breaker.failure_threshold", "must be at least 1");
  if (breaker.cool_down.count() <= 0) invalid("breaker.cool_down", "must be positive");
  if (version_check_interval.count() <= 0) invalid("version_check_interval", "must be positive");
  if (near_cache) {
    near_cache->cache.validate();
    near_cache->invalidation.validate();
  }
}

}  // namespace rediscache
