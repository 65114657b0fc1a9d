// KeyLayout: a user-defined key template for a cache's entries ("user:{id}", "user:{{id}}",
// "app:v{version}:user:{id}"), parsed and validated once, expanded per id without I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rediscache::detail {

/// A parsed key template. "{id}" stands for the id (exactly once), "{version}" for the
/// namespace version (at most once); every other character, '{' and '}' included, is literal,
/// so "user:{{id}}" gives "user:{42}", a Redis Cluster hash tag around the id.
class KeyLayout {
 public:
  /// Parses `layout`; throws std::invalid_argument naming `field` when it has no "{id}" or more
  /// than one, more than one "{version}", is longer than 256 bytes, holds a control character,
  /// starts with anything but a literal character other than '{' (so the cache's lock keys,
  /// which start with '{', never meet an entry key), or can produce a key under "<name>:" (the
  /// cache's own keys: version, WriteThrough locks).
  KeyLayout(std::string_view layout, std::string_view name, std::string_view field);

  /// True when the layout has "{version}": invalidate_all() then bumps it.
  [[nodiscard]] bool versioned() const noexcept { return versioned_; }
  /// The literal text before the first placeholder: every key starts with it (near-tier
  /// tracking prefix, invalidate_all's local drop).
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
  /// The key of `id` under `version` (ignored when not versioned).
  [[nodiscard]] std::string expand(std::string_view id, long long version) const;

 private:
  enum class Part : std::uint8_t { kLiteral, kId, kVersion };
  struct Segment {
    Part part;
    std::string text;  // kLiteral
  };
  std::vector<Segment> segments_;
  std::string prefix_;
  bool versioned_ = false;
};

/// The lock (lease) key of the entry `entry_key` under a custom layout:
/// "{<t>}:lock:<entry_key>", where <t> is a short tag of the entry's own cluster slot, so the
/// entry and its lock always share a slot (the store script touches both) whatever braces the
/// layout or the id hold.
std::string layout_lock_key(std::string_view entry_key);

}  // namespace rediscache::detail
