// Timeline: a capped, newest-first list per owner (LPUSH + LTRIM in one transaction), read a
// page at a time (LRANGE); fan-out on write to many owners in one round trip.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"

namespace rediscache::recipes {

/// Options of Timeline.
struct TimelineOptions {
  /// Prefix of every key (`<prefix><owner>`); must not be empty.
  std::string prefix;
  /// Entries kept per timeline (older ones are trimmed); at least 1.
  std::size_t max_length = 1000;
  /// Expiry renewed by every push: a timeline is a cache of what the database holds, rebuilt
  /// when it is gone, so by default it expires. Unset: durable. Must be positive when set.
  std::optional<std::chrono::seconds> ttl = std::chrono::hours(24 * 30);
};

/// Newest-first timelines of entries (any byte strings: ids or encoded posts). Thread-safe.
class REDISCACHE_EXPORT Timeline {
 public:
  /// Throws std::invalid_argument naming `prefix`, `max_length` or `ttl`.
  Timeline(Client client, TimelineOptions options);

  /// Adds an entry at the front of `owner`'s timeline and trims it to max_length (LPUSH,
  /// LTRIM and PEXPIRE in one MULTI/EXEC, so the list never exceeds the cap). One round trip.
  void push(std::string_view owner, std::string_view entry);
  /// Adds the same entry to every owner's timeline (fan-out on write), in one MULTI/EXEC.
  /// Sends nothing for an empty list. One round trip.
  void fan_out(ArgList owners, std::string_view entry);
  /// Page `page` (from 0) of `page_size` entries, newest first (LRANGE); empty past the end or
  /// for page_size 0. One round trip.
  std::vector<std::string> page(std::string_view owner, std::size_t page, std::size_t page_size);
  /// Entries in `owner`'s timeline (LLEN). One round trip.
  long long length(std::string_view owner);

  [[nodiscard]] std::string key(std::string_view owner) const;

 private:
  Client client_;
  TimelineOptions options_;
};

}  // namespace rediscache::recipes
