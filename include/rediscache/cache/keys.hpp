// KeySpace: the key layout of one cache namespace ("users:v3:42") and its version, kept in Redis,
// so that bumping the version invalidates every key of the namespace at once, no SCAN.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache {

/// Options of a KeySpace. Validated by its constructor (std::invalid_argument naming the field).
struct KeySpaceOptions {
  /// How long a version read from Redis is trusted before it is read again. This is the bound on
  /// how long another instance keeps using the old version after an `invalidate_all()` elsewhere
  /// (plus one round trip). Positive.
  std::chrono::milliseconds version_check_interval{1000};
  /// Expiry of the version key, renewed by every read of it. Positive. If it ever expires (or is
  /// evicted) the version restarts from the Redis clock, above any version used before.
  std::chrono::milliseconds version_key_ttl = std::chrono::hours(24 * 30);
  /// A custom layout of entry keys instead of "<ns>:v<N>{:<id>}", for keys other services use
  /// ("user:{id}"): "{id}" stands for the id (exactly once), "{version}" for the version (at
  /// most once; without it the keys have no version, version() is 0 without I/O and bump()
  /// throws std::logic_error); every other character is literal, so "user:{{id}}" gives
  /// "user:{42}", a cluster hash tag around the id. It must start with literal text other than
  /// '{' and must not produce keys under "<ns>:". Lock keys are then "{<t>}:lock:<entry key>",
  /// <t> a short tag of the entry's own cluster slot. Unset: the default layout.
  std::optional<std::string> layout;
};

/// The keys of one namespace. Default layout (the namespace may use only [A-Za-z0-9_.-], so no two
/// namespaces and no two kinds of key can ever produce the same key):
///
///     <ns>:v<N>{:<id>}        a cache entry, version N
///     <ns>:lock:v<N>{:<id>}   the stampede lock (lease) of that entry
///     <ns>:version            the current version N
///
/// `{:<id>}` is a Redis Cluster hash tag: an entry and its lock hash to one slot (the scripts
/// that store an entry touch both), while different ids spread over the cluster. The tag starts
/// with ':' so that it is never empty, whatever the id (an empty tag would hash the whole key).
///
/// A namespace's first version is the Redis server's clock in milliseconds (so
/// `users:v1795000000123{:42}` rather than `users:v1{:42}`): if the version key is ever lost
/// (expiry, eviction), the version restarts above every version used before, so entries of
/// invalidated versions can never come back. Each bump adds one. Instances cache the version for
/// `version_check_interval`; the instance that bumps sees the new version at once, others within
/// that interval. Thread-safe.
class REDISCACHE_EXPORT KeySpace {
 public:
  /// Throws std::invalid_argument ("KeySpace name" or an option) for an empty name, one with
  /// characters outside [A-Za-z0-9_.-], one longer than 128 bytes, or an invalid
  /// `options.layout` ("KeySpaceOptions::layout"). Does not contact Redis.
  KeySpace(Client client, std::string name, KeySpaceOptions options = {});
  ~KeySpace();
  KeySpace(const KeySpace&) = delete;
  KeySpace& operator=(const KeySpace&) = delete;

  /// The namespace name.
  [[nodiscard]] const std::string& name() const noexcept;
  /// "<ns>:version".
  [[nodiscard]] std::string version_key() const;

  /// The current version: the cached one while it is younger than `version_check_interval`, else
  /// read from Redis (one round trip, a script that also creates the version key on first use and
  /// renews its expiry). Throws the Client's errors when it must read and cannot.
  long long version();
  /// The cached version, without I/O; nullopt before the first successful read.
  [[nodiscard]] std::optional<long long> cached_version() const;
  /// Reads the version from Redis now (one round trip). Throws the Client's errors.
  long long refresh();
  /// Moves the namespace to a new version (one round trip) and returns it: every entry of the old
  /// version becomes unreachable at once here, and within `version_check_interval` in other
  /// instances; old entries expire by their own TTL. Throws the Client's errors, and
  /// std::logic_error when the layout has no "{version}".
  long long bump();

  /// False for a custom layout without "{version}": its keys do not change with a bump.
  [[nodiscard]] bool versioned() const noexcept;
  /// The text every entry key starts with: "<ns>:v" by default, else the layout's literal text
  /// before its first placeholder.
  [[nodiscard]] const std::string& entry_prefix() const noexcept;

  /// "<ns>:v<version()>{:<id>}" (or the layout's key); may cost the round trip of `version()`.
  std::string key_for(std::string_view id);
  /// "<ns>:v<version>{:<id>}", no I/O.
  [[nodiscard]] std::string key_for(std::string_view id, long long version) const;
  /// "<ns>:lock:v<version>{:<id>}" (a custom layout: see KeySpaceOptions::layout), no I/O.
  [[nodiscard]] std::string lock_key_for(std::string_view id, long long version) const;
  /// key_for(id, version) of each id, in order, with the common part built once. No I/O.
  [[nodiscard]] std::vector<std::string> keys_for(const std::vector<std::string_view>& ids,
                                                  long long version) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rediscache
