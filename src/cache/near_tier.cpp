#include "cache/near_tier.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "cache/entry.hpp"
#include "cache/key_layout.hpp"
#include "net/connection.hpp"
#include "rediscache/client/pipeline.hpp"

namespace rediscache::detail {

namespace {

std::string entry_prefix_of(const CacheOptions& options) {
  if (!options.key_layout) return options.name + ":v";
  return KeyLayout(*options.key_layout, options.name, "CacheOptions::key_layout").prefix();
}

InvalidationOptions invalidation_for(const CacheOptions& options) {
  InvalidationOptions io = options.near_cache->invalidation;
  // "<ns>:v" covers the entries of every version (and the version key), not the lock keys.
  // A custom key layout: the literal text its keys start with.
  if (io.prefixes.empty()) io.prefixes = {entry_prefix_of(options)};
  if (!io.on_error && options.on_error) io.on_error = options.on_error;
  return io;
}

}  // namespace

NearTier::NearTier(const Client& client, const CacheOptions& options, const EntryDecoder& decoder)
    : client_(client),
      options_(options),
      decoder_(decoder),
      cache_(std::make_shared<NearCache>(options.near_cache->cache)),
      publisher_(client, options.near_cache->invalidation.channel),
      listener_(std::make_unique<InvalidationListener>(client, cache_, invalidation_for(options))) {
}

NearTier::~NearTier() = default;

EntryRead NearTier::read(const std::string& key) {
  EntryRead read;
  if ((read.decoded = std::static_pointer_cast<const DecodedEntry>(cache_->get_decoded(key)))) {
    read.from_memory = true;
    return read;
  }
  NearCache::Fetch fetch = cache_->begin_fetch(key);
  Pipeline pipeline = client_.pipeline();
  pipeline.get(key);
  pipeline.command({"PTTL", key});
  std::vector<Reply> replies = pipeline.exec();
  return keep(fetch, replies[0], replies[1]);
}

std::vector<EntryRead> NearTier::read_many(
    const std::vector<std::string>& keys,
    std::vector<std::pair<std::size_t, ReplyError>>& wrong_type) {
  std::vector<EntryRead> reads(keys.size());
  std::vector<std::size_t> fetched;
  std::vector<NearCache::Fetch> fetches;
  Pipeline pipeline = client_.pipeline();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    reads[i].decoded = std::static_pointer_cast<const DecodedEntry>(cache_->get_decoded(keys[i]));
    if (reads[i].decoded) {
      reads[i].from_memory = true;
      continue;
    }
    fetched.push_back(i);
    fetches.push_back(cache_->begin_fetch(keys[i]));
    pipeline.get(keys[i]);
    pipeline.command({"PTTL", keys[i]});
  }
  if (fetched.empty()) return reads;
  std::vector<Reply> replies = pipeline.exec();
  for (std::size_t f = 0; f < fetched.size(); ++f) {
    try {
      reads[fetched[f]] = keep(fetches[f], replies[2 * f], replies[2 * f + 1]);
    } catch (const ReplyError& e) {
      if (e.server_code() != "WRONGTYPE") throw;
      wrong_type.emplace_back(fetched[f], e);  // a corrupt entry, for the caller to repair
    }
  }
  return reads;
}

EntryRead NearTier::keep(NearCache::Fetch& fetch, Reply& get, const Reply& pttl) {
  if (get.is_error()) throw_reply_error(client_.endpoint(), "GET", get);
  EntryRead read;
  if (!get.is_string()) return read;
  read.raw = std::move(get.str);
  const std::string& raw = *read.raw;
  // Never serve locally past the Redis expiry, nor past the entry's logical expiry (after which
  // the core reloads it and this copy would only cost a detour).
  std::optional<std::chrono::milliseconds> lifetime;
  if (pttl.is_integer() && pttl.integer > 0) {
    lifetime = std::chrono::milliseconds(pttl.integer);
  } else if (!pttl.is_integer() || pttl.integer != kTtlNoExpiry) {
    return read;  // gone between GET and PTTL, or PTTL failed: not kept
  }
  auto decoded = std::make_shared<DecodedEntry>();
  try {
    // A plain entry (EntryFormat::kPlain) has no header: its Redis TTL is its only lifetime.
    decoded->meta = decoder_.header(raw);
    if (decoded->meta.expires_at_ms != 0) {
      const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
      const auto left = remaining_lifetime(
          decoded->meta.expires_at_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
      if (left.count() <= 0) return read;  // stale or expired: the core decides, not kept
      lifetime = lifetime ? std::min(*lifetime, left) : left;
    }
    decoded->value = decoder_.value(raw, decoded->meta);
  } catch (const std::exception&) {
    return read;  // corrupt: the core deals with it; never kept locally
  }
  const std::size_t bytes = decoder_.footprint(*decoded, raw.size());
  read.decoded = decoded;
  cache_->complete_decoded(fetch, std::move(decoded), bytes, lifetime);
  return read;
}

bool NearTier::wrote(const std::string& key) noexcept {
  cache_->invalidate(key);
  if (listener_->mode() == InvalidationMode::kServerAssisted) return true;
  try {
    publisher_.keys({key});
    return true;
  } catch (const IoError& e) {
    report("near cache: publish invalidation", e);
    return false;  // unreachable: worth another try
  } catch (const std::exception& e) {
    report("near cache: publish invalidation", e);
    return true;  // refused (an error reply): another try would be refused too
  }
}

void NearTier::forget_locally(const std::string& key) noexcept { cache_->invalidate(key); }

void NearTier::forget_prefix_locally(const std::string& prefix) noexcept {
  try {
    cache_->invalidate_prefix(prefix);
  } catch (const std::exception& e) {
    report("near cache: drop prefix", e);
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
  report_error(options_.on_error, context, error);
}

}  // namespace rediscache::detail
