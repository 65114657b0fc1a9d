// TagSpace: the keys and the arithmetic of invalidation by tag, shared by every cache (in any
// process) that uses the same TagOptions::name_space.
//
// A tag clock "{ns}:clock" only grows: invalidate_tags sets it to max(clock + 1, the server's
// time in microseconds) and writes that value as the stamp "{ns}:t:<tag>" of every tag it
// invalidates, in one script. A load reads the clock before it calls the loader and records the
// value in the entry with its tags. The entry is valid while every one of its tags' stamps is at
// most that value: an invalidation after the read sets a stamp above it, so a load racing an
// invalidation cannot bring back what was invalidated; one before it sets a stamp at or below.
// No wall clocks are compared (the server's time only keeps the clock ahead of its own past
// values if the clock key is ever lost), so skew between nodes and processes does not matter.
// All of these keys share one hash slot, so on a cluster the clock and every stamp live on one
// node and a reader gets its stamps with one MGET.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rediscache/cache/cache_options.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

class TagSpace {
 public:
  /// `stamp_ttl`: how long a stamp is kept (0: for ever); it must outlive every entry written
  /// before it, so the caller passes its longest entry lifetime.
  TagSpace(const TagOptions& options, std::chrono::milliseconds stamp_ttl);

  [[nodiscard]] const std::string& clock_key() const noexcept { return clock_key_; }
  [[nodiscard]] std::string stamp_key(std::string_view tag) const;

  /// Throws std::invalid_argument naming `field` unless there are at most kMaxEntryTags tags of
  /// 1..kMaxTagBytes bytes each.
  static void check_tags(const std::vector<std::string>& tags, const char* field);
  /// The tags sorted and without repeats (an entry records each once).
  static std::vector<std::string> normalized(std::vector<std::string> tags);

  /// Makes every entry carrying one of `tags` invalid, in one round trip (a script on the tags'
  /// node). Returns the clock value written. Throws the client's errors.
  std::uint64_t invalidate(const Client& client, const std::vector<std::string>& tags) const;

  /// A clock or stamp read from Redis: nil is 0 (never set), a decimal number up to 2^63 is its
  /// value, anything else (another writer's garbage) is nullopt.
  [[nodiscard]] static std::optional<std::uint64_t> parse_counter(const Reply& reply);
  /// Whether an entry loaded at `tag_clock` is still valid given its tags' stamp replies (in
  /// the order of its tags). An unreadable stamp makes it invalid: a miss is always safe.
  [[nodiscard]] static bool still_valid(std::uint64_t tag_clock,
                                        const std::vector<const Reply*>& stamps);

  /// The tags this process last saw on `key` (empty: none known).
  [[nodiscard]] std::vector<std::string> remembered(const std::string& key) const;
  /// Remembers `tags` for `key` (empty: forgets it). Bounded by TagOptions::remembered_keys.
  void remember(const std::string& key, const std::vector<std::string>& tags);

 private:
  std::string prefix_;  // "{ns}:t:"
  std::string clock_key_;
  std::string stamp_px_;  // "0": no expiry
  std::size_t max_remembered_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::string>> remembered_;  // guarded by mu_
};

}  // namespace rediscache::detail
