#include "rediscache/near/near_cache.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "near/near_cache_shard.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

std::uint64_t hash_key(std::string_view key) noexcept {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(key));
}

// The map's buckets use the low bits of the same std::hash; pick shards from mixed high bits so
// one shard's keys still spread over its buckets.
std::size_t shard_index(std::uint64_t hash, std::size_t mask) noexcept {
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  return static_cast<std::size_t>(hash >> 20) & mask;
}

}  // namespace

void NearCacheOptions::validate() const {
  detail::require_at_least(max_entries, std::size_t{1}, "NearCacheOptions::max_entries");
  detail::require_at_least(max_bytes, std::size_t{1}, "NearCacheOptions::max_bytes");
  detail::require_positive(max_lifetime, "NearCacheOptions::max_lifetime");
  detail::require(shards == 0 || (is_power_of_two(shards) && shards <= 1024),
                  "NearCacheOptions::shards", "must be 0 (automatic) or a power of two in 1..1024");
  detail::require(window_fraction > 0.0 && window_fraction <= 0.5,
                  "NearCacheOptions::window_fraction", "must be in (0, 0.5]");
}

// --- Fetch ---------------------------------------------------------------------------------

NearCache::Fetch::Fetch(NearCache* cache, std::string key, std::size_t hash,
                        std::uint64_t generation, std::uint64_t epoch,
                        Clock::time_point started) noexcept
    : cache_(cache),
      key_(std::move(key)),
      hash_(hash),
      generation_(generation),
      epoch_(epoch),
      started_(started) {}

NearCache::Fetch::Fetch(Fetch&& other) noexcept
    : cache_(std::exchange(other.cache_, nullptr)),
      key_(std::move(other.key_)),
      hash_(other.hash_),
      generation_(other.generation_),
      epoch_(other.epoch_),
      started_(other.started_) {}

NearCache::Fetch& NearCache::Fetch::operator=(Fetch&& other) noexcept {
  if (this != &other) {
    end();
    cache_ = std::exchange(other.cache_, nullptr);
    key_ = std::move(other.key_);
    hash_ = other.hash_;
    generation_ = other.generation_;
    epoch_ = other.epoch_;
    started_ = other.started_;
  }
  return *this;
}

NearCache::Fetch::~Fetch() { end(); }

void NearCache::Fetch::end() noexcept {
  if (cache_ != nullptr) cache_->shard_for(hash_).end_fetch(key_);
  cache_ = nullptr;
}

// --- NearCache -----------------------------------------------------------------------------

namespace {
NearCacheOptions validated(NearCacheOptions options) {
  options.validate();
  return options;
}

// NearCacheOptions::shards resolved: as given, or automatic; never more than there are entries.
std::size_t shard_count_for(const NearCacheOptions& options) {
  std::size_t shards = options.shards;
  std::size_t min_entries = 1;
  if (shards == 0) {
    shards = NearCacheOptions::kAutoShards;
    min_entries = NearCacheOptions::kMinEntriesPerAutoShard;
  }
  while (shards > 1 && options.max_entries / shards < min_entries) shards >>= 1;
  return shards;
}
}  // namespace

NearCache::NearCache(NearCacheOptions options) : options_(validated(std::move(options))) {
  const std::size_t shards = shard_count_for(options_);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<detail::NearCacheShard>(
        options_.max_entries / shards, std::max<std::size_t>(options_.max_bytes / shards, 1),
        options_));
  }
  shard_mask_ = shards - 1;
}

NearCache::~NearCache() = default;

detail::NearCacheShard& NearCache::shard_for(std::size_t hash) const noexcept {
  return *shards_[shard_index(hash, shard_mask_)];
}

NearCache::Clock::time_point NearCache::now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

std::optional<std::string> NearCache::get(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
  return shard_for(hash).get(key, hash, now(), enabled_.load(std::memory_order_acquire));
}

NearCache::Fetch NearCache::begin_fetch(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
  const Clock::time_point started = now();
  // The epoch is read before the key is marked, so a clear() in between poisons this fetch.
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  const std::uint64_t generation = shard_for(hash).begin_fetch(key);
  return Fetch(this, std::string(key), hash, generation, epoch, started);
}

NearCache::Decoded NearCache::get_decoded(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
  return shard_for(hash).get_decoded(key, hash, now(), enabled_.load(std::memory_order_acquire));
}

bool NearCache::complete(Fetch& fetch, std::string_view value,
                         std::optional<std::chrono::milliseconds> redis_ttl) {
  return finish(fetch, value, nullptr, value.size(), redis_ttl);
}

bool NearCache::complete_decoded(Fetch& fetch, Decoded decoded, std::size_t bytes,
                                 std::optional<std::chrono::milliseconds> redis_ttl) {
  if (!decoded) {
    fetch.end();
    return false;
  }
  return finish(fetch, {}, std::move(decoded), bytes, redis_ttl);
}

bool NearCache::finish(Fetch& fetch, std::string_view value, Decoded decoded,
                       std::size_t value_bytes,
                       std::optional<std::chrono::milliseconds> redis_ttl) {
  if (fetch.cache_ != this) return false;
  fetch.cache_ = nullptr;  // complete() ends the fetch below
  std::chrono::milliseconds lifetime = options_.max_lifetime;
  if (redis_ttl) lifetime = std::min(lifetime, *redis_ttl);
  detail::NearCacheShard& shard = shard_for(fetch.hash_);
  if (lifetime.count() <= 0) {
    shard.end_fetch(fetch.key_);
    return false;
  }
  return shard.complete(fetch.key_, fetch.hash_, fetch.generation_, fetch.epoch_, epoch_, enabled_,
                        detail::NearCacheShard::Value{value, std::move(decoded), value_bytes},
                        fetch.started_ + lifetime);
}

void NearCache::invalidate(std::string_view key) { shard_for(hash_key(key)).invalidate(key); }

void NearCache::invalidate_prefix(std::string_view prefix) {
  for (auto& shard : shards_) shard->invalidate_prefix(prefix);
}

void NearCache::clear() {
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  flushes_.fetch_add(1, std::memory_order_relaxed);
  for (auto& shard : shards_) shard->clear();
}

void NearCache::set_enabled(bool enabled) noexcept {
  enabled_.store(enabled, std::memory_order_release);
}

bool NearCache::enabled() const noexcept { return enabled_.load(std::memory_order_acquire); }

std::size_t NearCache::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) n += shard->size();
  return n;
}

std::size_t NearCache::bytes() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) n += shard->bytes();
  return n;
}

std::size_t NearCache::window_entries() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) n += shard->window_entries();
  return n;
}

NearCacheStats NearCache::stats() const {
  NearCacheStats s;
  for (const auto& shard : shards_) shard->add_to(s);
  s.flushes = flushes_.load(std::memory_order_relaxed);
  s.enabled = enabled();
  return s;
}

}  // namespace rediscache
