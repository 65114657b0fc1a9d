// LoadRequest: one loader call as the untyped cache core sees it: the id, the stale copy if any,
// and what the loader decided about its result (through LoadContext<T>).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/export.hpp"

namespace rediscache {
struct CacheOptions;
}  // namespace rediscache

namespace rediscache::detail {

/// A decoded value of the cache's T, type-erased; nullptr means "not found".
using Object = std::shared_ptr<const void>;

/// What a loader decided about the entry it loaded (LoadContext's setters).
struct LoadDecision {
  /// This entry's TTL instead of CacheOptions::ttl / negative_ttl (not jittered).
  std::optional<std::chrono::milliseconds> ttl;
  /// Return the result but do not write it.
  bool do_not_cache = false;
  /// Ignore the result: write the stale copy again with a fresh TTL, and return it.
  bool keep_stale = false;
  /// This entry's tags (CacheOptions::tags), sorted, without repeats.
  std::vector<std::string> tags;
};

/// One loader call: what the core tells the loader, and what it answers.
struct LoadRequest {
  std::string_view id;
  /// The expired copy within the stale window (nullptr: none, or a stale "not found").
  Object stale;
  /// Whether an expired copy within the stale window exists (also a stale "not found").
  bool has_stale = false;
  /// CacheOptions::max_ttl.
  std::chrono::milliseconds max_ttl{0};
  /// Whether the cache has CacheOptions::tags (LoadContext::set_tags is allowed).
  bool tags_enabled = false;
  /// The tag clock read before the loader was called (see TagSpace); unset when it could not
  /// be read, and then a tagged result is returned but not cached.
  std::optional<std::uint64_t> tag_clock;
  LoadDecision decision;
};

/// Throws std::invalid_argument naming LoadContext::ttl unless 1 ms <= ttl <= max_ttl.
REDISCACHE_EXPORT void check_loader_ttl(std::chrono::milliseconds ttl,
                                        std::chrono::milliseconds max_ttl);
/// Throws std::logic_error: keep_stale() without a stale copy.
[[noreturn]] REDISCACHE_EXPORT void throw_keep_stale_without_stale();
/// Checks and records a loader's tags (LoadContext::set_tags): std::logic_error without
/// CacheOptions::tags, std::invalid_argument naming LoadContext::tags for bad tags.
REDISCACHE_EXPORT void set_loader_tags(LoadRequest& request, std::vector<std::string> tags);
/// Checks the tags of an explicit write of a cache with `options`: std::logic_error without
/// CacheOptions::tags, std::invalid_argument naming `field` for bad tags.
REDISCACHE_EXPORT void check_entry_tags(const std::vector<std::string>& tags,
                                        const CacheOptions& options, const char* field);

}  // namespace rediscache::detail
