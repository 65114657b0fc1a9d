// LoadContext<T>: what a deciding loader of CacheAside<T> sees (the id, the expired copy) and
// what it may decide about its result (this entry's TTL, "do not cache", "keep the stale copy").
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rediscache/cache/detail/load_request.hpp"

namespace rediscache {

/// Passed by reference to a loader of the form `std::optional<T>(LoadContext<T>&)` (see
/// CacheAside::get_or_load and get_many). Valid only during that loader call. Not thread-safe: it
/// belongs to one loader call.
template <class T>
class LoadContext {
 public:
  explicit LoadContext(detail::LoadRequest& request) noexcept : request_(&request) {}

  /// The id being loaded.
  [[nodiscard]] std::string_view id() const noexcept { return request_->id; }
  /// Whether an expired copy within CacheOptions::stale_window exists (also a cached "not
  /// found"). False during refresh-ahead (the entry is still fresh) and without a stale window.
  [[nodiscard]] bool has_stale() const noexcept { return request_->has_stale; }
  /// The expired copy's value, for conditional refresh (compare a version, an ETag); nullptr
  /// when there is none or it is a cached "not found".
  [[nodiscard]] const T* stale() const noexcept {
    return static_cast<const T*>(request_->stale.get());
  }

  /// Caches this result for `ttl` instead of CacheOptions::ttl (or negative_ttl for "not
  /// found", which is then cached even when negative_ttl is unset). Used as given, without
  /// jitter; the stale window is added as usual. Throws std::invalid_argument naming
  /// LoadContext::ttl unless 1 ms <= ttl <= CacheOptions::max_ttl.
  void set_ttl(std::chrono::milliseconds ttl) {
    detail::check_loader_ttl(ttl, request_->max_ttl);
    request_->decision.ttl = ttl;
  }
  /// Tags this result (CacheOptions::tags must be set, else std::logic_error): it becomes a miss
  /// in every process once CacheAside::invalidate_tag is called for any of them after this load
  /// began. At most 32 tags of 1..200 bytes (std::invalid_argument naming LoadContext::tags);
  /// repeats count once; a later call replaces the earlier tags.
  void set_tags(std::vector<std::string> tags) {
    detail::set_loader_tags(*request_, std::move(tags));
  }
  /// Returns this result to the callers without writing it to Redis (the lease is given back).
  void do_not_cache() noexcept { request_->decision.do_not_cache = true; }
  /// "Unchanged": the stale copy is written again with a fresh TTL (set_ttl applies) and
  /// returned; the loader's return value is ignored (return std::nullopt). Counted in
  /// `stale_kept`. Throws std::logic_error when has_stale() is false.
  void keep_stale() {
    if (!request_->has_stale) detail::throw_keep_stale_without_stale();
    request_->decision.keep_stale = true;
  }

 private:
  detail::LoadRequest* request_;
};

}  // namespace rediscache
