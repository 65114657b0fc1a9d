// NearTier: the optional in-process tier of a CacheAside (CacheOptions::near_cache). The cache
// core calls it at three points only: to read an entry, after it wrote or deleted one, and after
// a namespace version bump.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/entry_decoder.hpp"
#include "rediscache/cache/cache_options.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/near/invalidation.hpp"
#include "rediscache/near/near_cache.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

/// Holds decoded cache entries (header and value: a hit neither parses nor copies bytes) in
/// process memory, each for no longer than its Redis PTTL, its logical expiry, and
/// NearCacheOptions::max_lifetime, kept coherent by an InvalidationListener. Thread-safe.
class NearTier {
 public:
  /// Starts the listener (connects in the background). `options.near_cache` must be set; with
  /// no tracked prefixes, the namespace's entries ("<name>:v") are tracked. `decoder` must
  /// outlive the tier.
  NearTier(const Client& client, const CacheOptions& options, const EntryDecoder& decoder);
  ~NearTier();
  NearTier(const NearTier&) = delete;
  NearTier& operator=(const NearTier&) = delete;

  /// The entry under `key`: decoded from process memory (`from_memory` set), else GET + PTTL in
  /// one round trip, decoded and kept locally unless an invalidation arrived meanwhile (both
  /// `raw` and `decoded` set; only `raw` when it is not kept: corrupt, expiring, no PTTL).
  /// Throws the Client's errors.
  EntryRead read(const std::string& key);
  /// The same for a batch: the keys not held locally are read with GET + PTTL each, all in one
  /// pipeline. A key holding another type (its GET answered WRONGTYPE) reads as absent and is
  /// listed in `wrong_type` with the error, so one such key does not fail the batch.
  std::vector<EntryRead> read_many(const std::vector<std::string>& keys,
                                   std::vector<std::pair<std::size_t, ReplyError>>& wrong_type);
  /// After this instance wrote or deleted `key` in Redis: drops the local copy and, unless
  /// server-assisted tracking announces writes by itself, publishes the key for other instances
  /// (one round trip). Never throws: a failed announcement goes to CacheOptions::on_error.
  /// False only when Redis could not be reached (IoError): the announcement is worth retrying.
  bool wrote(const std::string& key) noexcept;
  /// Drops the local copy of `key` only (its invalidation is queued for Redis).
  void forget_locally(const std::string& key) noexcept;
  /// Drops the local copies under `prefix` only (a version bump is queued for Redis).
  void forget_prefix_locally(const std::string& prefix) noexcept;
  /// After a namespace version bump: every instance drops the keys under `prefix`. Never throws.
  void dropped_prefix(const std::string& prefix) noexcept;

  [[nodiscard]] NearCacheStats stats() const;

 private:
  /// Keeps the value a GET + PTTL fetched (unless invalidated meanwhile) and returns it.
  EntryRead keep(NearCache::Fetch& fetch, Reply& get, const Reply& pttl);
  void report(std::string_view context, const std::exception& error) const noexcept;

  Client client_;
  const CacheOptions& options_;
  const EntryDecoder& decoder_;
  std::shared_ptr<NearCache> cache_;
  InvalidationPublisher publisher_;
  std::unique_ptr<InvalidationListener> listener_;
};

}  // namespace rediscache::detail
