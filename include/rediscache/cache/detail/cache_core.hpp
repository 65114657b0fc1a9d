// CacheCore: the non-template engine behind CacheAside<T>. It works on type-erased values and
// encoded bytes and does all the Redis, TTL, single-flight, lock, breaker, refresh-ahead and
// statistics work, so the typed shell stays a few lines per instantiation.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/detail/load_request.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"

namespace rediscache::detail {

/// A value the core hands back, and whether the caller may take it apart.
struct Found {
  Object value;
  /// Decoded from Redis for this call and never shared with another thread (the hit path), so
  /// while the caller holds the only reference (`use_count() == 1`, exact because no other
  /// thread can copy it) it may move out of the T instead of copying it. False for values that
  /// single flight shares with concurrent callers (loads, awaited loads, stale values served).
  bool exclusive = false;
};

/// How the core converts between its bytes and the cache's T (filled in by CacheAside<T, C>).
struct TypeOps {
  /// Decodes a payload into a new, non-const T (so an exclusive Found may be moved from).
  /// Throws on bad input.
  Object (*decode)(std::string_view payload);
  /// Encodes a T (given as `const T*`).
  std::string (*encode)(const void* object);
  /// Bytes a decoded T (given as `const T*`) holds, for the near tier's max_bytes: the codec's
  /// `estimated_size(const T&)` when it has one, else `encoded_size` (see Codec).
  std::size_t (*footprint)(const void* object, std::size_t encoded_size) noexcept;
};

/// Whether codec C estimates the memory a decoded T holds (`static std::size_t
/// estimated_size(const T&) noexcept`).
template <class C, class T, class = void>
inline constexpr bool kCodecEstimatesSize = false;
template <class C, class T>
inline constexpr bool kCodecEstimatesSize<
    C, T, std::void_t<decltype(std::size_t{C::estimated_size(std::declval<const T&>())})>> = true;

/// A user loader seen by the core: borrowed for one call, and cloned into an owned copy when the
/// core needs to call it later (background refresh).
class ErasedLoader {
 public:
  ErasedLoader() = default;
  ErasedLoader(const ErasedLoader&) = delete;
  ErasedLoader& operator=(const ErasedLoader&) = delete;
  virtual ~ErasedLoader() = default;
  /// Calls the user's loader for request.id; nullptr means "not found". A deciding loader fills
  /// request.decision. Lets the loader's exception through.
  virtual Object load(LoadRequest& request) const = 0;
  /// A copy that owns the user's loader (and what it captured by value).
  [[nodiscard]] virtual std::shared_ptr<const ErasedLoader> clone() const = 0;
};

/// A batch loader seen by the core: (id, value) pairs for the ids that exist. `requests` runs
/// parallel to `ids` (a deciding loader reads their stale copies and fills their decisions).
using ErasedBatchLoader = std::function<std::vector<std::pair<std::string, Object>>(
    const std::vector<std::string>& ids, std::vector<LoadRequest>& requests)>;

/// See CacheAside for the contract of each member; this class implements them. Thread-safe.
class REDISCACHE_EXPORT CacheCore {
 public:
  /// Validates `options` (std::invalid_argument naming the field). Does not contact Redis.
  CacheCore(Client client, CacheOptions options, TypeOps ops);
  ~CacheCore();
  CacheCore(const CacheCore&) = delete;
  CacheCore& operator=(const CacheCore&) = delete;

  Found get_or_load(std::string_view id, const ErasedLoader& loader);
  std::vector<Found> get_many(const std::vector<std::string>& ids, const ErasedBatchLoader& loader);
  WriteResult set(std::string_view id, const std::string& payload,
                  const std::vector<std::string>& tags = {});
  WriteResult invalidate(std::string_view id);
  void invalidate_now(std::string_view id);
  WriteResult invalidate_tags(const std::vector<std::string>& tags);
  WriteResult invalidate_all();
  [[nodiscard]] std::string key_for(std::string_view id) const;
  [[nodiscard]] const Client& client() const noexcept;
  [[nodiscard]] const CacheOptions& options() const noexcept;
  [[nodiscard]] CacheStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rediscache::detail
