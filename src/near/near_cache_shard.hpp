// NearCacheShard: one shard of a NearCache with its eviction policy (LRU, or W-TinyLFU: a window
// LRU in front of a segmented LRU, admission by the frequency sketch, the window sized by
// WindowGhosts), its fetches in progress and its counters. Private; NearCache (near_cache.cpp) is
// the facade that picks the shard. Pure: no Redis, time passed in, so its eviction is unit-tested
// directly.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "near/frequency_sketch.hpp"
#include "near/window_ghosts.hpp"
#include "rediscache/near/near_cache.hpp"

namespace rediscache::detail {

/// One shard: its own map, LRU lists, sketch, fetches in progress and counters, all under `mu_`.
class NearCacheShard {
 public:
  using Clock = NearCache::Clock;

  NearCacheShard(std::size_t max_entries, std::size_t max_bytes, const NearCacheOptions& options)
      : policy_(options.policy),
        max_entries_(max_entries),
        max_bytes_(max_bytes),
        adaptive_(options.policy == NearCachePolicy::kWTinyLfu && options.adaptive_window &&
                  max_entries >= 2),
        sketch_(max_entries),
        ghosts_(adaptive_ ? max_entries : 0, initial_window(max_entries, options)) {
    set_window(initial_window(max_entries, options));
  }

  /// What complete() stores: bytes, or a decoded value charged `bytes` (see NearCache).
  struct Value {
    std::string_view bytes_value;
    NearCache::Decoded decoded;
    std::size_t bytes = 0;
  };

  std::optional<std::string> get(std::string_view key, std::uint64_t hash, Clock::time_point now,
                                 bool enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* entry = find_live(key, hash, now, enabled, false);
    if (entry == nullptr) return std::nullopt;
    return entry->value;
  }

  NearCache::Decoded get_decoded(std::string_view key, std::uint64_t hash, Clock::time_point now,
                                 bool enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* entry = find_live(key, hash, now, enabled, true);
    if (entry == nullptr) return nullptr;
    return entry->decoded;
  }

  std::size_t window_entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return window_max_entries_;
  }

  std::uint64_t begin_fetch(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = pending_.try_emplace(std::string(key));
    static_cast<void>(inserted);
    ++it->second.fetchers;
    return it->second.generation;
  }

  void end_fetch(std::string_view key) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    end_fetch_locked(key);
  }

  bool complete(const std::string& key, std::uint64_t hash, std::uint64_t generation,
                std::uint64_t epoch, const std::atomic<std::uint64_t>& current_epoch,
                const std::atomic<bool>& enabled, std::string_view value,
                Clock::time_point expires_at) {
    return complete(key, hash, generation, epoch, current_epoch, enabled,
                    Value{value, nullptr, value.size()}, expires_at);
  }

  // The epoch and the enabled flag are read under this shard's lock: clear() bumps the epoch
  // before it locks the shards, so a fetch either sees the new epoch or has its value cleared.
  bool complete(const std::string& key, std::uint64_t hash, std::uint64_t generation,
                std::uint64_t epoch, const std::atomic<std::uint64_t>& current_epoch,
                const std::atomic<bool>& enabled, Value value, Clock::time_point expires_at) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto pending = pending_.find(key);
    const bool current = pending != pending_.end() && pending->second.generation == generation &&
                         current_epoch.load(std::memory_order_acquire) == epoch &&
                         enabled.load(std::memory_order_acquire);
    end_fetch_locked(key);
    if (!current) {
      ++stale_fetches_;
      return false;
    }
    const std::size_t charge = NearCache::charge(key.size(), value.bytes);
    if (charge > max_bytes_) {
      ++rejected_;
      return false;
    }
    const auto existing = index_.find(key);
    if (existing != index_.end()) remove(existing->second);
    insert(key, hash, std::move(value), expires_at, charge);
    ++inserts_;
    return true;
  }

  void invalidate(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto found = index_.find(key);
    if (found != index_.end()) {
      remove(found->second);
      ++invalidations_;
    }
    const auto pending = pending_.find(std::string(key));
    if (pending != pending_.end()) ++pending->second.generation;
  }

  void invalidate_prefix(std::string_view prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    for (List* list : {&window_, &probation_, &protected_}) {
      for (auto it = list->begin(); it != list->end();) {
        const Iter current = it++;
        if (starts_with(current->key, prefix)) {
          remove(current);
          ++invalidations_;
        }
      }
    }
    for (auto& [key, pending] : pending_) {
      if (starts_with(key, prefix)) ++pending.generation;
    }
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    index_.clear();
    window_.clear();
    probation_.clear();
    protected_.clear();
    for (std::size_t i = 0; i < kRegions; ++i) count_[i] = bytes_[i] = 0;
    for (auto& entry : pending_) ++entry.second.generation;
  }

  void add_to(NearCacheStats& s) const {
    std::lock_guard<std::mutex> lock(mu_);
    s.hits += hits_;
    s.misses += misses_;
    s.expired += expired_;
    s.inserts += inserts_;
    s.rejected += rejected_;
    s.stale_fetches += stale_fetches_;
    s.evictions += evictions_;
    s.invalidations += invalidations_;
    for (std::size_t i = 0; i < kRegions; ++i) {
      s.entries += count_[i];
      s.bytes += bytes_[i];
    }
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_[0] + count_[1] + count_[2];
  }

  std::size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_[0] + bytes_[1] + bytes_[2];
  }

 private:
  enum Region : std::size_t { kWindow = 0, kProbation = 1, kProtected = 2 };
  static constexpr std::size_t kRegions = 3;

  struct Entry {
    std::string key;
    std::string value;           // held as bytes (complete())
    NearCache::Decoded decoded;  // or decoded (complete_decoded()): then `value` is empty
    Clock::time_point expires_at;
    std::size_t charge = 0;
    std::uint64_t hash = 0;
    Region region = kWindow;
  };
  using List = std::list<Entry>;
  using Iter = List::iterator;

  struct PendingFetch {
    std::uint64_t generation = 0;  // bumped by every invalidation of the key
    std::size_t fetchers = 0;      // concurrent fetches of the key
  };

  static bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.substr(0, prefix.size()) == prefix;
  }

  List& list_of(Region region) noexcept {
    switch (region) {
      case kWindow:
        return window_;
      case kProbation:
        return probation_;
      default:
        return protected_;
    }
  }

  static std::size_t initial_window(std::size_t max_entries, const NearCacheOptions& options) {
    if (options.policy != NearCachePolicy::kWTinyLfu || max_entries < 2) return 0;
    return std::max<std::size_t>(
        1, static_cast<std::size_t>(static_cast<double>(max_entries) * options.window_fraction));
  }

  // Splits the shard's budget: `window` entries (and the same share of bytes) for the admission
  // window, the rest for the main region, 80 % of which is protected.
  void set_window(std::size_t window) noexcept {
    window_max_entries_ = window;
    window_max_bytes_ =
        static_cast<std::size_t>(static_cast<double>(max_bytes_) * static_cast<double>(window) /
                                 static_cast<double>(max_entries_));
    main_max_entries_ = max_entries_ - window_max_entries_;
    main_max_bytes_ = max_bytes_ - window_max_bytes_;
    // Segmented LRU keeps 80 % of the main region for entries that were hit at least twice.
    protected_max_entries_ = main_max_entries_ * 4 / 5;
    protected_max_bytes_ = main_max_bytes_ / 5 * 4;
  }

  // After the ghosts moved the window, entries change regions to fit the new split: no entry is
  // evicted by a resize, except when the window cannot take the main region's surplus.
  void resize_window() noexcept {
    set_window(ghosts_.window());
    // A smaller window: its oldest entries join probation, as if admitted.
    while (!window_.empty() &&
           (count_[kWindow] > window_max_entries_ || bytes_[kWindow] > window_max_bytes_)) {
      move(std::prev(window_.end()), kProbation);
    }
    // A smaller main region: its oldest entries go back to the window, to compete again.
    while (main_over()) {
      const Iter oldest =
          probation_.empty() ? std::prev(protected_.end()) : std::prev(probation_.end());
      if (count_[kWindow] >= window_max_entries_ ||
          bytes_[kWindow] + oldest->charge > window_max_bytes_) {
        ghosts_.main_evicted(oldest->hash);
        evict(oldest);
      } else {
        move(oldest, kWindow);
      }
    }
    while (count_[kProtected] > protected_max_entries_ ||
           bytes_[kProtected] > protected_max_bytes_) {
      move(std::prev(protected_.end()), kProbation);
    }
  }

  // The live entry of `key` held as the kind asked for, or null (a miss, counted). Records the
  // access for the sketch, a hit for the eviction order, and a miss for the window's ghosts (a
  // hit touches no ghost).
  const Entry* find_live(std::string_view key, std::uint64_t hash, Clock::time_point now,
                         bool enabled, bool decoded) {
    if (policy_ == NearCachePolicy::kWTinyLfu) sketch_.increment(hash);
    if (!enabled) {
      ++misses_;
      return nullptr;
    }
    const auto found = index_.find(key);
    if (found == index_.end()) {
      ++misses_;
      if (adaptive_ && ghosts_.missed(hash)) resize_window();
      return nullptr;
    }
    if ((found->second->decoded != nullptr) != decoded) {
      ++misses_;
      return nullptr;
    }
    const Iter entry = found->second;
    if (entry->expires_at <= now) {
      remove(entry);
      ++expired_;
      ++misses_;
      return nullptr;
    }
    on_hit(entry);
    ++hits_;
    return &*entry;
  }

  void end_fetch_locked(std::string_view key) noexcept {
    const auto pending = pending_.find(std::string(key));
    if (pending != pending_.end() && --pending->second.fetchers == 0) pending_.erase(pending);
  }

  // Moves `entry` to the front (most recent end) of `to`.
  void move(Iter entry, Region to) noexcept {
    count_[entry->region] -= 1;
    bytes_[entry->region] -= entry->charge;
    list_of(to).splice(list_of(to).begin(), list_of(entry->region), entry);
    entry->region = to;
    count_[to] += 1;
    bytes_[to] += entry->charge;
  }

  void remove(Iter entry) noexcept {
    count_[entry->region] -= 1;
    bytes_[entry->region] -= entry->charge;
    index_.erase(std::string_view(entry->key));
    list_of(entry->region).erase(entry);
  }

  void evict(Iter entry) noexcept {
    remove(entry);
    ++evictions_;
  }

  bool main_over() const noexcept {
    return count_[kProbation] + count_[kProtected] > main_max_entries_ ||
           bytes_[kProbation] + bytes_[kProtected] > main_max_bytes_;
  }

  void on_hit(Iter entry) noexcept {
    switch (entry->region) {
      case kWindow:
        move(entry, kWindow);
        return;
      case kProtected:
        move(entry, kProtected);
        return;
      case kProbation:
        if (policy_ == NearCachePolicy::kLru) {
          move(entry, kProbation);
          return;
        }
        move(entry, kProtected);
        // Demote the protected region's oldest entries, keeping at least the one just promoted.
        while (count_[kProtected] > 1 && (count_[kProtected] > protected_max_entries_ ||
                                          bytes_[kProtected] > protected_max_bytes_)) {
          move(std::prev(protected_.end()), kProbation);
        }
        return;
    }
  }

  void insert(const std::string& key, std::uint64_t hash, Value value, Clock::time_point expires_at,
              std::size_t charge) {
    const Region first = policy_ == NearCachePolicy::kWTinyLfu ? kWindow : kProbation;
    List& list = list_of(first);
    list.push_front(Entry{key, std::string(value.bytes_value), std::move(value.decoded), expires_at,
                          charge, hash, first});
    try {
      index_.emplace(std::string_view(list.front().key), list.begin());
    } catch (...) {
      list.pop_front();
      throw;
    }
    count_[first] += 1;
    bytes_[first] += charge;
    if (first == kWindow) {
      while (!window_.empty() &&
             (count_[kWindow] > window_max_entries_ || bytes_[kWindow] > window_max_bytes_)) {
        admit_or_reject(std::prev(window_.end()));
      }
    } else {
      const Iter newcomer = probation_.begin();
      while (main_over()) {
        Iter victim = victim_except(newcomer);
        if (victim == newcomer) {
          evict(newcomer);
          break;
        }
        evict(victim);
      }
    }
  }

  // The main region's least valuable entry: the oldest on probation, else the oldest protected.
  Iter victim_except(Iter candidate) noexcept {
    if (!probation_.empty() && std::prev(probation_.end()) != candidate) {
      return std::prev(probation_.end());
    }
    if (!protected_.empty()) return std::prev(protected_.end());
    return candidate;
  }

  // W-TinyLFU: the window's oldest entry joins probation only if it is accessed more often than
  // each victim it would displace.
  void admit_or_reject(Iter candidate) {
    move(candidate, kProbation);
    const std::uint8_t candidate_frequency = sketch_.frequency(candidate->hash);
    while (main_over()) {
      Iter victim = victim_except(candidate);
      if (victim == candidate || sketch_.frequency(victim->hash) >= candidate_frequency) {
        if (adaptive_) ghosts_.window_rejected(candidate->hash);
        evict(candidate);
        ++rejected_;
        return;
      }
      if (adaptive_) ghosts_.main_evicted(victim->hash);
      evict(victim);
    }
  }

  mutable std::mutex mu_;
  const NearCachePolicy policy_;
  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  const bool adaptive_;  // kWTinyLfu with NearCacheOptions::adaptive_window
  // The split between window and main region; guarded by mu_ (the ghosts move it).
  std::size_t window_max_entries_ = 0;
  std::size_t window_max_bytes_ = 0;
  std::size_t main_max_entries_ = 0;
  std::size_t main_max_bytes_ = 0;
  std::size_t protected_max_entries_ = 0;
  std::size_t protected_max_bytes_ = 0;

  FrequencySketch sketch_;                                 // guarded by mu_
  WindowGhosts ghosts_;                                    // guarded by mu_
  List window_, probation_, protected_;                    // guarded by mu_; front = newest
  std::unordered_map<std::string_view, Iter> index_;       // guarded by mu_; views into entries
  std::unordered_map<std::string, PendingFetch> pending_;  // guarded by mu_
  std::size_t count_[kRegions] = {0, 0, 0};                // guarded by mu_
  std::size_t bytes_[kRegions] = {0, 0, 0};                // guarded by mu_
  std::uint64_t hits_ = 0, misses_ = 0, expired_ = 0, inserts_ = 0, rejected_ = 0;  // mu_
  std::uint64_t stale_fetches_ = 0, evictions_ = 0, invalidations_ = 0;             // mu_
};

}  // namespace rediscache::detail
