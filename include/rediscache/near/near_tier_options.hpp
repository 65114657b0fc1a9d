// What configures a near tier: the invalidation mode and options, and NearTierOptions (the
// in-process cache's bounds plus its invalidation), apart from the listener itself so that
// CacheOptions can hold them without pulling in Client (near/invalidation.hpp does).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "rediscache/near/near_cache.hpp"
#include "rediscache/util/error_handler.hpp"

namespace rediscache {

/// How invalidations reach the near cache.
enum class InvalidationMode {
  /// kServerAssisted when the server accepts CLIENT TRACKING (Redis 6+), else kPubSub. Decided
  /// on every (re)connect.
  kAuto,
  /// Redis 7 client-side caching in broadcast mode: a dedicated connection runs
  /// `CLIENT TRACKING on REDIRECT <listener id> BCAST PREFIX <p>...`, and the server announces
  /// every write to a matching key, by any client, on `__redis__:invalidate`. Writes by programs
  /// that never heard of this library invalidate too.
  kServerAssisted,
  /// Only writes made through this library (which publish on `InvalidationOptions::channel`)
  /// invalidate. For servers without CLIENT TRACKING.
  kPubSub,
};

/// Options of an InvalidationListener. Validated by its constructor (std::invalid_argument
/// naming the field, e.g. "InvalidationOptions::channel").
struct InvalidationOptions {
  /// Which mechanism; see InvalidationMode. All instances sharing a channel should agree.
  InvalidationMode mode = InvalidationMode::kAuto;
  /// Key prefixes the near cache holds, tracked with BCAST PREFIX in server-assisted mode. Empty
  /// tracks every key (then every write to the server costs each instance a message). Redis
  /// refuses overlapping prefixes ("user:" and "user:1"): such a list fails each connect.
  std::vector<std::string> prefixes;
  /// Pub/sub channel for invalidations published by the library: key invalidations in kPubSub
  /// mode, prefix and flush messages in both modes. Not empty.
  std::string channel = "rediscache:near-cache:invalidate";
  /// First pause before reconnecting after the invalidation connection is lost; positive.
  std::chrono::milliseconds initial_backoff{50};
  /// Longest pause between reconnect attempts (the pause doubles, with jitter); at least
  /// initial_backoff.
  std::chrono::milliseconds max_backoff{2000};
  /// Idle time after which the listener PINGs both of its connections; a PONG that takes longer
  /// than the connection's command_timeout counts as a lost connection. This bounds how long a
  /// silently vanished server goes unnoticed. Positive.
  std::chrono::milliseconds health_check_interval{1000};
  /// Called on the listener thread when it swallows an error (a connect that failed, a lost
  /// connection, a malformed message). `context` names the step; messages never contain keys.
  /// Must not throw (exceptions are caught and dropped). Unset: errors are only counted.
  ErrorHandler on_error;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// An in-process tier and how it is kept coherent: what NearCachedClient and
/// CacheOptions::near_cache take.
struct NearTierOptions {
  /// Bounds, policy and lifetime cap of the in-process tier.
  NearCacheOptions cache;
  /// Invalidation mode, tracked prefixes, channel, reconnect backoff, error handler.
  InvalidationOptions invalidation;
};

}  // namespace rediscache
