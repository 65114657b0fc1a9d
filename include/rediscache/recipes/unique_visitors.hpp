// UniqueVisitors: approximate distinct counts per day with HyperLogLog (PFADD per day key,
// PFCOUNT of one day or of a range, PFMERGE of a range into a cached union).
#pragma once

#include <chrono>
#include <string>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/recipes/day.hpp"

namespace rediscache::recipes {

/// Options of UniqueVisitors.
struct UniqueVisitorsOptions {
  /// Prefix of every key (`<prefix><YYYY-MM-DD>` per day, `<prefix>merged:<first>:<last>` for
  /// a merged range); must not be empty. For Redis Cluster give it a hash tag ("{uv}:") so a
  /// range's keys share a slot.
  std::string prefix;
  /// Expiry of a day's key, renewed by every add(); must be positive. Keep it longer than the
  /// widest range you count.
  std::chrono::seconds retention = std::chrono::hours(24 * 35);
  /// Expiry of the key merge() writes; must be positive.
  std::chrono::seconds merged_ttl = std::chrono::hours(1);
};

/// Distinct visitors per UTC day, estimated by Redis's HyperLogLog: a standard error of 0.81 %
/// whatever the count, in at most about 12 KB per key (smaller while the count is low). Every
/// key expires. Thread-safe.
class REDISCACHE_EXPORT UniqueVisitors {
 public:
  /// Throws std::invalid_argument naming `prefix`, `retention` or `merged_ttl`.
  UniqueVisitors(Client client, UniqueVisitorsOptions options);

  /// Records visits (PFADD of the ids, then PEXPIRE, in one MULTI/EXEC; one round trip).
  /// Returns true when the day's estimate changed. An empty list sends nothing. Batch ids (a few
  /// thousand per call) rather than calling once per id.
  bool add(Day day, ArgList visitor_ids);
  /// The estimated distinct visitors of one day (PFCOUNT). One round trip.
  long long count(Day day);
  /// The estimated distinct visitors over `first`..`last` (both included): PFCOUNT of all the
  /// day keys, which the server merges on the fly and discards. One round trip; stores nothing.
  /// Throws std::invalid_argument for a bad range (see days_between).
  long long count(Day first, Day last);
  /// Merges the days `first`..`last` into merged_key(first, last) (PFMERGE, then PEXPIRE
  /// merged_ttl and PFCOUNT, in one MULTI/EXEC) and returns its estimate. Use it when the same
  /// range is read often: later reads are a PFCOUNT of one key. One round trip.
  long long merge(Day first, Day last);

  [[nodiscard]] std::string day_key(Day day) const;
  [[nodiscard]] std::string merged_key(Day first, Day last) const;

 private:
  Client client_;
  UniqueVisitorsOptions options_;
};

}  // namespace rediscache::recipes
