#include "policy/near_tier.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "detail/connection.hpp"
#include "policy/entry.hpp"
#include "rediscache/pipeline.hpp"

namespace rediscache::detail {

namespace {

InvalidationOptions invalidation_for(const CacheOptions& options) {
  InvalidationOptions io = options.near_cache->invalidation;
  // "<ns>:v" covers the entries of every version (and the version key), not the lock keys.
  if (io.prefixes.empty()) io.prefixes = {options.name + ":v"};
  if (!io.on_error && options.on_error) io.on_error = options.on_error;
  return io;
}

}  // namespace

NearTier::NearTier(const Client& client, const CacheOptions& options)
    : client_(client),
      options_(options),
      cache_(std::make_shared<NearCache>(options.near_cache->cache)),
      publisher_(client, options.near_cache->invalidation.channel),
      listener_(std::make_unique<InvalidationListener>(client, cache_, invalidation_for(options))) {
}

NearTier::~NearTier() = default;

std::optional<std::string> NearTier::read(const std::string& key, bool* from_memory) {
  if (std::optional<std::string> local = cache_->get(key)) {
    *from_memory = true;
    return local;
  }
  NearCache::Fetch fetch = cache_->begin_fetch(key);
  Pipeline pipeline = client_.pipeline();
  pipeline.get(key);
  pipeline.command({"PTTL", key});
  std::vector<Reply> replies = pipeline.exec();
  if (replies[0].is_error()) throw_reply_error(client_.endpoint(), "GET", replies[0]);
  if (!replies[0].is_string()) return std::nullopt;
  std::string& raw = replies[0].str;
  // Never serve locally past the Redis expiry, nor past the entry's logical expiry (after which
  // the core reloads it and this copy would only cost a detour).
  std::optional<std::chrono::milliseconds> lifetime;
  if (replies[1].is_integer() && replies[1].integer > 0) {
    lifetime = std::chrono::milliseconds(replies[1].integer);
  } else if (!replies[1].is_integer() || replies[1].integer != kTtlNoExpiry) {
    return std::move(raw);  // gone between GET and PTTL, or PTTL failed: not kept
  }
  try {
    const EntryMeta meta = decode_entry_header(raw);
    if (meta.expires_at_ms != 0) {
      const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
      const auto left = std::chrono::milliseconds(
          meta.expires_at_ms -
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
      lifetime = lifetime ? std::min(*lifetime, left) : left;
    }
  } catch (const std::exception&) {
    return std::move(raw);  // corrupt: the core deals with it; never kept locally
  }
  cache_->complete(fetch, raw, lifetime);
  return std::move(raw);
}

void NearTier::wrote(const std::string& key) noexcept {
  cache_->invalidate(key);
  if (listener_->mode() == InvalidationMode::kServerAssisted) return;
  try {
    publisher_.keys({key});
  } catch (const std::exception& e) {
    report("near cache: publish invalidation", e);
  }
}

void NearTier::dropped_prefix(const std::string& prefix) noexcept {
  try {
    cache_->invalidate_prefix(prefix);
    publisher_.prefix(prefix);
  } catch (const std::exception& e) {
    report("near cache: publish prefix invalidation", e);
  }
}

NearCacheStats NearTier::stats() const { return cache_->stats(); }

void NearTier::report(std::string_view context, const std::exception& error) const noexcept {
  if (!options_.on_error) return;
  try {
    options_.on_error(context, error);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing error handler must not break writes
  }
}

}  // namespace rediscache::detail
