// CacheAside<T>: the cache-aside (lazy loading) policy. Reads try Redis and fall back to a user
// loader; TTLs, stampede protection, refresh-ahead, fail-safe and a circuit breaker included.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/codec.hpp"
#include "rediscache/cache/detail/cache_core.hpp"
#include "rediscache/cache/load_context.hpp"
#include "rediscache/client/client.hpp"

namespace rediscache {

namespace detail {

/// Adapts a typed loader to the core: borrowed for a call, cloned (owning a copy) on demand. `Fn`
/// is std::function<std::optional<T>(std::string_view)> (a plain loader) or
/// std::function<std::optional<T>(LoadContext<T>&)> (a deciding one).
template <class T, class Fn>
class TypedLoader final : public ErasedLoader {
 public:
  explicit TypedLoader(const Fn& borrowed) : fn_(&borrowed) {}
  explicit TypedLoader(std::shared_ptr<const Fn> owned)
      : fn_(owned.get()), owned_(std::move(owned)) {}

  Object load(LoadRequest& request) const override {
    std::optional<T> value;
    if constexpr (std::is_invocable_v<const Fn&, LoadContext<T>&>) {
      LoadContext<T> context(request);
      value = (*fn_)(context);
    } else {
      value = (*fn_)(request.id);
    }
    if (!value) return nullptr;
    return std::make_shared<T>(std::move(*value));
  }
  [[nodiscard]] std::shared_ptr<const ErasedLoader> clone() const override {
    return std::make_shared<const TypedLoader>(std::make_shared<const Fn>(*fn_));
  }

 private:
  const Fn* fn_;
  std::shared_ptr<const Fn> owned_;
};

/// Whether F is a deciding loader (takes LoadContext<T>&) and not a plain one, so that a generic
/// lambda keeps resolving to the plain overload.
template <class F, class T, class Context>
inline constexpr bool kDecidingLoader =
    std::is_invocable_v<F&, Context&> && !std::is_invocable_v<F&, std::string_view> &&
    !std::is_invocable_v<F&, const std::vector<std::string>&>;

}  // namespace detail

/// Cache-aside over Redis for values of type T, encoded by codec C (see codec.hpp).
///
/// Keys are "<options.name>:v<N>{:<id>}" (see KeySpace), or `options.key_layout`'s. Every entry
/// carries a TTL. Entries are a small header (format version, flags, logical expiry, load time,
/// checksum) plus the codec's payload, zstd-compressed above `compress_above`; with
/// `EntryFormat::kPlain`, the payload alone, which other languages read (docs/cache-aside.md).
///
/// Failure model: Redis problems never fail a read the loader can serve (the loader's value is
/// returned and counted in `redis_errors`); a circuit breaker keeps a dead Redis from costing more
/// than one timeout per cool-down. Loader exceptions reach the caller unchanged, unless an expired
/// copy within `stale_window` can be served instead. Writes (`set`, `invalidate`, `invalidate_all`)
/// throw Redis errors, because the caller must know they did not happen.
///
/// Thread-safe: one instance serves all threads of a process. Move-only; a moved-from cache may
/// only be destroyed or assigned to.
template <class T, class C = Codec<T>>
class CacheAside {
 public:
  /// Returns the value for an id, or nullopt for "not found". Called on a miss.
  using Loader = std::function<std::optional<T>(std::string_view id)>;
  /// Returns the values of the ids that exist (missing ids mean "not found"). One call per
  /// get_many, with the misses only.
  using BatchLoader =
      std::function<std::unordered_map<std::string, T>(const std::vector<std::string>& ids)>;
  /// A deciding loader: sees the id and the stale copy, and may set this entry's TTL, skip
  /// caching, or keep the stale copy (see LoadContext).
  using ContextLoader = std::function<std::optional<T>(LoadContext<T>& context)>;
  /// A deciding batch loader: one context per missing id, in order; returns the values of the
  /// ids that exist (an id whose context says keep_stale() needs no value).
  using ContextBatchLoader =
      std::function<std::unordered_map<std::string, T>(std::vector<LoadContext<T>>& contexts)>;

  /// Validates `options` (std::invalid_argument naming the field, e.g. "CacheOptions::ttl" when no
  /// TTL is set and `allow_no_ttl` is not). Does not contact Redis, so a cache can be built while
  /// Redis is down. With RefreshMode::kThreshold it starts the refresh threads.
  CacheAside(Client client, CacheOptions options)
      : core_(std::make_unique<detail::CacheCore>(
            std::move(client), std::move(options),
            detail::TypeOps{&decode_object, &encode_object, &footprint_of})) {}

  /// The value of `id`: from Redis when a fresh entry is there (one round trip), else from
  /// `loader`, which is then cached for ttl (± jitter); "not found" is cached for negative_ttl.
  ///
  /// Concurrent misses of one key call the loader once in this process (the others wait for its
  /// result) and, with the stampede lock, once across processes in the common case (others poll up
  /// to lock.max_wait, then load by themselves). A miss costs about three round trips (GET,
  /// lock+GET, store script) plus the load.
  ///
  /// If the loader throws and an expired copy within stale_window exists, that copy is returned
  /// (counted in stale_served); otherwise the loader's exception propagates unchanged (to every
  /// caller that waited for that load). Redis errors are never thrown from here. A value larger
  /// than max_value_bytes is returned but not cached (counted in `oversize`).
  ///
  /// With RefreshMode::kThreshold the loader is copied and may run later on a background thread, so
  /// it must not capture references to objects that die with the call. A loader must not call
  /// get_or_load for the same id on the same cache (it would wait for itself).
  ///
  /// With load_soft_timeout / load_hard_timeout set, the load runs on the cache's background
  /// executor and this call waits for it at most that long (then: the stale copy, or LoadTimeout
  /// at the hard bound while the load goes on and caches its result); the loader is then copied,
  /// as for kThreshold. See CacheOptions.
  std::optional<T> get_or_load(std::string_view id, const Loader& loader) {
    const detail::TypedLoader<T, Loader> erased(loader);
    return take(core_->get_or_load(id, erased));
  }

  /// get_or_load() without a copy: the value shared with the cache's near tier (and with other
  /// callers of the same load), immutable; null for "not found". With a near tier
  /// (CacheOptions::near_cache) a local hit is a hash lookup and a reference count, where
  /// get_or_load() copies the T for its caller; otherwise the same as get_or_load(), and a value
  /// decoded for this call alone is moved, not copied.
  std::shared_ptr<const T> get_or_load_shared(std::string_view id, const Loader& loader) {
    const detail::TypedLoader<T, Loader> erased(loader);
    return std::static_pointer_cast<const T>(core_->get_or_load(id, erased).value);
  }

  /// get_or_load with a deciding loader `std::optional<T>(LoadContext<T>&)`: it sees the id and
  /// the expired copy within stale_window (for a conditional refresh), and may set this entry's
  /// TTL, return a value without caching it, or keep the stale copy for another TTL (see
  /// LoadContext). Otherwise exactly as above; a context setter's exception is the loader's.
  template <class F, std::enable_if_t<detail::kDecidingLoader<F, T, LoadContext<T>>, int> = 0>
  std::optional<T> get_or_load(std::string_view id, F&& loader) {
    const ContextLoader fn(std::forward<F>(loader));
    const detail::TypedLoader<T, ContextLoader> erased(fn);
    return take(core_->get_or_load(id, erased));
  }

  /// Values for many ids, in the order of `ids` (nullopt for "not found"). One MGET for all (with
  /// a near cache: local copies first, GET + PTTL for the rest in one pipeline), one `loader`
  /// call for the misses (skipped when there are none), and around it one pipeline taking their
  /// leases and one writing them back under the leases, so an invalidate() racing the batch load
  /// wins, as in get_or_load. Ids that another caller of this cache is loading right now are
  /// awaited, not loaded again; ids whose lease another process holds are loaded here too (no
  /// waiting) and left for that process to store. No refresh-ahead here. Loader exceptions: as
  /// get_or_load (stale copies served where available; otherwise the exception propagates).
  std::vector<std::optional<T>> get_many(const std::vector<std::string>& ids,
                                         const BatchLoader& loader) {
    if (loads_in_background()) {
      // The load may outlive this call: the core's copy owns a copy of the loader.
      auto owned = std::make_shared<const BatchLoader>(loader);
      const detail::ErasedBatchLoader erased = [owned](const std::vector<std::string>& missing,
                                                       std::vector<detail::LoadRequest>&) {
        return erase_values((*owned)(missing));
      };
      return take_all(core_->get_many(ids, erased));
    }
    const detail::ErasedBatchLoader erased = [&loader](const std::vector<std::string>& missing,
                                                       std::vector<detail::LoadRequest>&) {
      return erase_values(loader(missing));
    };
    return take_all(core_->get_many(ids, erased));
  }

  /// get_many with a deciding batch loader: one LoadContext per missing id (id, stale copy,
  /// setters, as for get_or_load's deciding loader). Otherwise exactly as above.
  template <class F,
            std::enable_if_t<detail::kDecidingLoader<F, T, std::vector<LoadContext<T>>>, int> = 0>
  std::vector<std::optional<T>> get_many(const std::vector<std::string>& ids, F&& loader) {
    auto fn = std::make_shared<const ContextBatchLoader>(std::forward<F>(loader));
    const detail::ErasedBatchLoader erased = [fn](const std::vector<std::string>&,
                                                  std::vector<detail::LoadRequest>& requests) {
      std::vector<LoadContext<T>> contexts;
      contexts.reserve(requests.size());
      for (detail::LoadRequest& request : requests) contexts.emplace_back(request);
      return erase_values((*fn)(contexts));
    };
    return take_all(core_->get_many(ids, erased));
  }

  /// Stores `value` for `id` with ttl (± jitter), replacing any entry, and cancels the lease of a
  /// load in progress so it cannot overwrite this value (one round trip). Throws std::length_error
  /// when the entry exceeds max_value_bytes (nothing is written). When Redis cannot be reached,
  /// the entry's invalidation is queued instead (kQueued; see RecoveryOptions: writing the value
  /// late could overwrite a newer one); error replies, and every failure with recovery off,
  /// throw the Client's errors.
  WriteResult set(std::string_view id, const T& value) { return core_->set(id, C::encode(value)); }

  /// set() with tags (CacheOptions::tags must be set, else std::logic_error): the entry becomes a
  /// miss once invalidate_tag() is called for any of them after this call began. One more round
  /// trip than set() (the tag clock is read first). At most 32 tags of 1..200 bytes, else
  /// std::invalid_argument naming `CacheAside::set tags`.
  WriteResult set(std::string_view id, const T& value, const std::vector<std::string>& tags) {
    return core_->set(id, C::encode(value), tags);
  }

  /// Makes every entry carrying `tag`, in every cache sharing this cache's
  /// CacheOptions::tags.name_space, in every process, a miss from the moment this returns: one
  /// round trip (one script on the tags' node), whatever the number of entries. A load in flight
  /// when it runs cannot bring the old value back (its entry records the tag clock from before
  /// the load). Throws std::logic_error without CacheOptions::tags, std::invalid_argument for a
  /// tag that is empty or above 200 bytes. When Redis cannot be reached, the invalidation is
  /// queued (kQueued; RecoveryOptions); error replies, and every failure with recovery off,
  /// throw the Client's errors.
  WriteResult invalidate_tag(const std::string& tag) { return core_->invalidate_tags({tag}); }
  /// invalidate_tag() for up to 32 tags at once, in the same single round trip.
  WriteResult invalidate_tags(const std::vector<std::string>& tags) {
    return core_->invalidate_tags(tags);
  }

  /// Deletes the entry of `id` and cancels the lease of a load in progress, so a load that started
  /// before this call cannot write its (possibly older) value afterwards. Two round trips: the
  /// namespace version is re-read first, so the delete never targets a version another instance
  /// has just replaced. When Redis cannot be reached (a connection failure, a timeout, the
  /// breaker open), the delete is queued and replayed when Redis answers again (kQueued;
  /// RecoveryOptions), and reads in this process miss the entry meanwhile. Error replies, and
  /// every failure with recovery off, throw the Client's errors.
  WriteResult invalidate(std::string_view id) { return core_->invalidate(id); }
  /// invalidate() that never queues: the Client's errors reach the caller, for callers that must
  /// know the entry is gone before they go on.
  void invalidate_now(std::string_view id) { core_->invalidate_now(id); }

  /// Invalidates every entry of the namespace by bumping its version (one round trip, no SCAN).
  /// Other instances notice within version_check_interval. Throws std::logic_error when
  /// `key_layout` has no "{version}". Redis unreachable: queued, as invalidate().
  WriteResult invalidate_all() { return core_->invalidate_all(); }

  /// The Redis key of `id` under the current version. May cost one round trip when the cached
  /// version is older than version_check_interval; throws the Client's errors if the version has
  /// never been read and cannot be.
  [[nodiscard]] std::string key_for(std::string_view id) const { return core_->key_for(id); }

  /// The client this cache uses.
  [[nodiscard]] const Client& client() const noexcept { return core_->client(); }
  /// The validated options.
  [[nodiscard]] const CacheOptions& options() const noexcept { return core_->options(); }
  /// A snapshot of the counters and latencies.
  [[nodiscard]] CacheStats stats() const { return core_->stats(); }

 private:
  // Non-const T, so take() may move out of an exclusive value.
  static detail::Object decode_object(std::string_view payload) {
    return std::make_shared<T>(C::decode(payload));
  }
  static std::string encode_object(const void* object) {
    return C::encode(*static_cast<const T*>(object));
  }
  static std::size_t footprint_of(const void* object, std::size_t encoded_size) noexcept {
    if constexpr (detail::kCodecEstimatesSize<C, T>) {
      return C::estimated_size(*static_cast<const T*>(object));
    } else {
      return encoded_size;
    }
  }
  [[nodiscard]] bool loads_in_background() const noexcept {
    const CacheOptions& o = core_->options();
    return o.load_soft_timeout.count() > 0 || o.load_hard_timeout.count() > 0;
  }
  static std::vector<std::pair<std::string, detail::Object>> erase_values(
      std::unordered_map<std::string, T> found) {
    std::vector<std::pair<std::string, detail::Object>> out;
    out.reserve(found.size());
    for (auto& entry : found) {
      out.emplace_back(entry.first, std::make_shared<T>(std::move(entry.second)));
    }
    return out;
  }
  static std::vector<std::optional<T>> take_all(std::vector<detail::Found> found) {
    std::vector<std::optional<T>> values;
    values.reserve(found.size());
    // Each element is released as it is taken, so the last copy of a repeated id can be moved.
    for (detail::Found& element : found) values.push_back(take(std::move(element)));
    return values;
  }
  // Moves the T out when nobody else can see it (a hit), else copies it (a value shared with
  // concurrent callers of the same load).
  static std::optional<T> take(detail::Found&& found) {
    if (!found.value) return std::nullopt;
    if (found.exclusive && found.value.use_count() == 1) {
      // The object was created non-const (decode_object, TypedLoader), so moving is allowed.
      return std::move(*const_cast<T*>(static_cast<const T*>(found.value.get())));
    }
    return *static_cast<const T*>(found.value.get());
  }

  std::unique_ptr<detail::CacheCore> core_;
};

}  // namespace rediscache
