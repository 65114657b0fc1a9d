// NearCachedClient: string GET/SET/DEL over a Client with a NearCache in front of the reads and
// an InvalidationListener keeping it coherent with Redis and with other instances.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/near/invalidation.hpp"
#include "rediscache/near/near_cache.hpp"
#include "rediscache/net/args.hpp"

namespace rediscache {

/// Reads hot string keys from process memory, everything else from Redis. Thread-safe; one per
/// process (it owns a listener thread and two connections besides the client's pool).
///
/// Staleness: a value changed in Redis stops being served here once its invalidation is
/// processed: tens of microseconds after the write in server-assisted mode (any writer), or
/// after the writer's PUBLISH in pub/sub mode (writers using this class or
/// InvalidationPublisher only). Never longer than NearCacheOptions::max_lifetime, nor than the
/// key's Redis TTL. While the invalidation connection is down the tier is off.
class REDISCACHE_EXPORT NearCachedClient {
 public:
  /// Validates the options (std::invalid_argument naming the field) and starts the listener,
  /// which connects in the background; until it has, reads go to Redis.
  explicit NearCachedClient(Client client, NearTierOptions options = {});
  ~NearCachedClient();
  NearCachedClient(const NearCachedClient&) = delete;
  NearCachedClient& operator=(const NearCachedClient&) = delete;

  /// The value of `key`: from the near cache (no I/O), else GET and PTTL pipelined (one round
  /// trip) and kept locally for the shorter of the PTTL and max_lifetime, unless an invalidation
  /// arrived meanwhile. Missing keys are not cached. Throws the Client's errors.
  std::optional<std::string> get(std::string_view key);
  /// SET (with its options), announced to other instances in pub/sub mode by a PUBLISH in the
  /// same round trip; this instance's copy is dropped. Returns false when NX/XX prevented the
  /// write. Throws the Client's errors (ReplyError for an error reply).
  bool set(std::string_view key, std::string_view value, const SetOptions& options = {});
  /// DEL, announced like set(); returns how many keys existed. One round trip.
  long long del(ArgList keys);
  /// Drops keys starting with `prefix` from every instance's near cache (not from Redis), for
  /// example after a namespace version bump. One round trip.
  void invalidate_prefix(std::string_view prefix);

  [[nodiscard]] NearCache& near_cache() noexcept { return *cache_; }
  [[nodiscard]] const InvalidationListener& listener() const noexcept { return *listener_; }
  [[nodiscard]] const Client& client() const noexcept { return client_; }

 private:
  [[nodiscard]] bool publishes_keys() const noexcept;

  Client client_;
  std::shared_ptr<NearCache> cache_;
  InvalidationPublisher publisher_;
  std::unique_ptr<InvalidationListener> listener_;
};

}  // namespace rediscache
