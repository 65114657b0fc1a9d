// Options shared by the near-cache integration tests.
#pragma once

#include <chrono>
#include <string>

#include "rediscache/near/invalidation.hpp"

namespace rediscache::test {

/// A near tier for keys under `prefix`: 1,000 entries, 60 s lifetime, fast reconnects, and a
/// channel of its own so that tests running in parallel never disturb each other.
inline NearTierOptions near_options(InvalidationMode mode, const std::string& prefix) {
  NearTierOptions o;
  o.cache.max_entries = 1000;
  o.cache.max_lifetime = std::chrono::seconds(60);
  o.invalidation.mode = mode;
  o.invalidation.prefixes = {prefix};
  o.invalidation.channel = prefix + "invalidate";
  o.invalidation.initial_backoff = std::chrono::milliseconds(10);
  o.invalidation.max_backoff = std::chrono::milliseconds(100);
  return o;
}

}  // namespace rediscache::test
