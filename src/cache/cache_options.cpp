#include "rediscache/cache/cache_options.hpp"

#include <string>

#include "cache/key_layout.hpp"
#include "util/validation.hpp"

namespace rediscache {
namespace {

using detail::require;
using detail::require_positive;
using detail::require_range;

constexpr std::size_t kMaxRedisString = std::size_t{512} << 20;

}  // namespace

void CacheOptions::validate() const {
  require(!name.empty() && name.size() <= 128, "CacheOptions::name", "must be 1..128 bytes");
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    require(ok, "CacheOptions::name", "may contain only [A-Za-z0-9_.-]");
  }
  require(ttl || allow_no_ttl, "CacheOptions::ttl",
          "is required (every entry needs a TTL); set allow_no_ttl to opt out");
  if (ttl) require_positive(*ttl, "CacheOptions::ttl");
  require(ttl_jitter >= 0.0 && ttl_jitter < 1.0, "CacheOptions::ttl_jitter", "must be in [0, 1)");
  if (negative_ttl) require_positive(*negative_ttl, "CacheOptions::negative_ttl");
  detail::require_non_negative(stale_window, "CacheOptions::stale_window");
  require(max_value_bytes >= 1 && max_value_bytes <= kMaxRedisString,
          "CacheOptions::max_value_bytes", "must be 1 B..512 MiB");
  require_range(compression_level, 1, 19, "CacheOptions::compression_level");
  require_positive(lock.ttl, "CacheOptions::lock.ttl");
  require_positive(lock.max_wait, "CacheOptions::lock.max_wait");
  require_positive(lock.initial_backoff, "CacheOptions::lock.initial_backoff");
  require(lock.max_backoff >= lock.initial_backoff, "CacheOptions::lock.max_backoff",
          "must be at least lock.initial_backoff");
  require_positive(lock.max_backoff, "CacheOptions::lock.max_backoff");
  require(refresh.mode == RefreshMode::kNone || ttl.has_value(), "CacheOptions::refresh.mode",
          "needs a ttl (refresh-ahead refreshes before the TTL ends)");
  require(refresh.xfetch_beta > 0.0 && refresh.xfetch_beta <= 1e6,
          "CacheOptions::refresh.xfetch_beta", "must be in (0, 1e6]");
  require(refresh.threshold > 0.0 && refresh.threshold < 1.0, "CacheOptions::refresh.threshold",
          "must be in (0, 1)");
  require_range(refresh.threads, std::size_t{1}, std::size_t{16}, "CacheOptions::refresh.threads");
  detail::require_at_least(refresh.max_queue, std::size_t{1}, "CacheOptions::refresh.max_queue");
  detail::require_at_least(breaker.failure_threshold, std::uint32_t{1},
                           "CacheOptions::breaker.failure_threshold");
  require_positive(breaker.cool_down, "CacheOptions::breaker.cool_down");
  require_positive(version_check_interval, "CacheOptions::version_check_interval");
  detail::require_non_negative(load_soft_timeout, "CacheOptions::load_soft_timeout");
  detail::require_non_negative(load_hard_timeout, "CacheOptions::load_hard_timeout");
  if (load_soft_timeout.count() > 0 && load_hard_timeout.count() > 0) {
    require(load_soft_timeout < load_hard_timeout, "CacheOptions::load_soft_timeout",
            "must be below load_hard_timeout when both are set");
  }
  require_range(max_background_loads, std::size_t{1}, std::size_t{64},
                "CacheOptions::max_background_loads");
  require_positive(max_ttl, "CacheOptions::max_ttl");
  if (near_cache) {
    near_cache->cache.validate();
    near_cache->invalidation.validate();
  }
  if (entry_format == EntryFormat::kPlain) {
    // A plain entry is the payload alone: nothing records a logical expiry, a load time, a
    // "not found" or compression, so the features that need them cannot be on.
    require(stale_window.count() == 0, "CacheOptions::stale_window",
            "must be 0 with EntryFormat::kPlain (a plain entry has no logical expiry)");
    require(refresh.mode == RefreshMode::kNone, "CacheOptions::refresh.mode",
            "must be kNone with EntryFormat::kPlain (refresh-ahead needs the logical expiry and "
            "load time of the framed format)");
    require(!negative_ttl, "CacheOptions::negative_ttl",
            "must be unset with EntryFormat::kPlain (a plain entry cannot say \"not found\")");
    require(!compress_above, "CacheOptions::compress_above",
            "must be unset with EntryFormat::kPlain (other languages read the payload as is)");
  }
  if (key_layout) (void)detail::KeyLayout(*key_layout, name, "CacheOptions::key_layout");
  if (tags) {
    require(entry_format == EntryFormat::kFramed, "CacheOptions::tags",
            "needs EntryFormat::kFramed (a plain entry cannot carry its tags)");
    require(!tags->name_space.empty() && tags->name_space.size() <= 128,
            "CacheOptions::tags.name_space", "must be 1..128 bytes");
    for (const char c : tags->name_space) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == ':' || c == '-';
      require(ok, "CacheOptions::tags.name_space", "may contain only [A-Za-z0-9_.:-]");
    }
    require_range(tags->remembered_keys, std::size_t{1}, std::size_t{1} << 24,
                  "CacheOptions::tags.remembered_keys");
  }
  require_range(recovery.max_operations, std::size_t{1}, std::size_t{1} << 24,
                "CacheOptions::recovery.max_operations");
  require_range(recovery.max_bytes, std::size_t{1} << 10, std::size_t{1} << 30,
                "CacheOptions::recovery.max_bytes");
  detail::require_duration(recovery.retry_interval, std::chrono::milliseconds(1),
                           std::chrono::hours(1), "CacheOptions::recovery.retry_interval");
  detail::require_duration(recovery.drain_timeout, std::chrono::milliseconds(0),
                           std::chrono::minutes(1), "CacheOptions::recovery.drain_timeout");
}

}  // namespace rediscache
