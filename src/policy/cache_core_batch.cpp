// get_many: one MGET, one batch load for the misses this caller owns, one write-back pipeline,
// and waiting (not loading) for misses other callers of this cache are loading.
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "policy/cache_core_impl.hpp"
#include "rediscache/pipeline.hpp"

namespace rediscache::detail {
namespace {

std::uint32_t per_item_us(std::chrono::steady_clock::duration total, std::size_t items) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(total).count() /
                  static_cast<long long>(items == 0 ? 1 : items);
  return static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX));
}

// The distinct ids of a batch, in first-seen order, and the index of each request among them.
// Open addressing over one index table: no allocation per id, which a node-based map would cost
// on every call of a 100-key batch.
struct Distinct {
  std::vector<std::string_view> ids;
  std::vector<std::size_t> slot;  // slot[i]: index in `ids` of request i
};

Distinct distinct(const std::vector<std::string>& requested) {
  constexpr std::size_t kEmpty = SIZE_MAX;
  Distinct out;
  out.ids.reserve(requested.size());
  out.slot.resize(requested.size());
  std::size_t capacity = 8;
  while (capacity < 2 * requested.size()) capacity *= 2;  // load factor at most 1/2
  const std::size_t mask = capacity - 1;
  std::vector<std::size_t> table(capacity, kEmpty);
  const std::hash<std::string_view> hash;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const std::string_view id = requested[i];
    std::size_t at = hash(id) & mask;
    while (table[at] != kEmpty && out.ids[table[at]] != id) at = (at + 1) & mask;
    if (table[at] == kEmpty) {
      table[at] = out.ids.size();
      out.ids.push_back(id);
    }
    out.slot[i] = table[at];
  }
  return out;
}

}  // namespace

std::vector<Found> CacheCore::Impl::get_many(const std::vector<std::string>& ids,
                                             const ErasedBatchLoader& loader) {
  const ScopedTimer timer(counters_.get_latency);
  std::vector<Found> results(ids.size());
  if (ids.empty()) return results;

  // Each distinct id is read, loaded and written once, however often it is asked for.
  const Distinct batch = distinct(ids);
  const std::vector<std::string_view>& unique = batch.ids;
  const std::size_t count = unique.size();

  Call call;
  long long version = 0;
  std::vector<std::string> keys;
  std::vector<std::optional<std::string>> raws;
  const auto make_keys = [&] { keys = keys_.keys_for(unique, version); };
  const bool reached = try_redis(call, "MGET", [&] {
    version = keys_.version();
    make_keys();
    raws = client_.mget(keys);
  });
  if (!reached) {
    call.redis_down = true;
    version = keys_.cached_version().value_or(0);
    make_keys();
  }
  raws.resize(count);

  std::vector<Object> values(count);
  // Fresh hits were decoded for this call and are never shared (see Found::exclusive).
  std::vector<bool> exclusive(count, false);
  std::vector<Lookup> stale(count);
  std::vector<std::string> corrupt;
  std::vector<std::size_t> owned;
  std::vector<std::shared_ptr<Flight>> owned_flights;
  std::vector<std::pair<std::size_t, std::shared_ptr<Flight>>> awaited;
  // One clock reading and one update per counter for the batch, not one per key.
  const std::int64_t now = now_ms();
  std::uint64_t bytes_read = 0;
  std::uint64_t hits = 0;
  std::uint64_t negative_hits = 0;
  for (std::size_t j = 0; j < count; ++j) {
    if (raws[j]) bytes_read += raws[j]->size();
    Lookup lookup = inspect(call, keys[j], raws[j], now, &corrupt);
    if (lookup.state == Freshness::kFresh) {
      ++(lookup.meta.negative ? negative_hits : hits);
      values[j] = std::move(lookup.value);
      exclusive[j] = values[j] != nullptr;
      continue;
    }
    counters_.misses.add();
    if (lookup.state == Freshness::kStale) stale[j] = std::move(lookup);
    SingleFlight::Joined joined = flights_.join(keys[j]);
    if (joined.leader) {
      owned.push_back(j);
      owned_flights.push_back(std::move(joined.flight));
    } else {
      awaited.emplace_back(j, std::move(joined.flight));
    }
  }
  if (bytes_read != 0) counters_.bytes_read.add(bytes_read);
  if (hits != 0) counters_.hits.add(hits);
  if (negative_hits != 0) counters_.negative_hits.add(negative_hits);

  std::size_t finished = 0;  // owned flights completed so far
  try {
    Pipeline write_back = client_.pipeline();
    if (!owned.empty()) {
      std::vector<std::string> missing;
      missing.reserve(owned.size());
      for (const std::size_t j : owned) missing.emplace_back(unique[j]);

      counters_.loads.add();
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::pair<std::string, Object>> loaded;
      try {
        loaded = loader(missing);
      } catch (...) {
        counters_.load_latency.record(std::chrono::steady_clock::now() - started);
        counters_.load_errors.add();
        const std::exception_ptr error = std::current_exception();
        bool all_stale = true;
        for (; finished < owned.size(); ++finished) {
          const std::size_t j = owned[finished];
          if (stale_usable(stale[j])) {
            counters_.stale_served.add();
            values[j] = stale[j].value;
            flights_.finish(keys[j], owned_flights[finished], FlightResult{values[j], nullptr});
          } else {
            all_stale = false;
            flights_.finish(keys[j], owned_flights[finished], FlightResult{nullptr, error});
          }
        }
        if (!all_stale) throw;  // the loader's exception, unchanged
      }
      const auto elapsed = std::chrono::steady_clock::now() - started;
      if (finished == 0) {
        counters_.load_latency.record(elapsed);
        std::unordered_map<std::string_view, Object> by_id;
        by_id.reserve(loaded.size());
        for (auto& item : loaded) by_id.emplace(item.first, std::move(item.second));
        const std::uint32_t load_us = per_item_us(elapsed, owned.size());
        for (const std::size_t j : owned) {
          const auto it = by_id.find(unique[j]);
          values[j] = it == by_id.end() ? nullptr : it->second;  // absent: "not found"
          if (call.redis_down) continue;
          const std::optional<Prepared> prepared = prepare(values[j], load_us);
          if (!prepared) continue;
          SetOptions set_options;
          set_options.ttl = prepared->px;
          write_back.set(keys[j], prepared->entry, set_options);
          counters_.bytes_written.add(prepared->entry.size());
        }
      }
    }
    const std::size_t sets = write_back.size();
    if (!corrupt.empty()) write_back.del(corrupt);
    if (!write_back.empty()) {
      const ScopedTimer write_timer(counters_.write_latency);
      try_redis(call, "write back", [&] {
        const std::vector<Reply> replies = write_back.exec();
        for (std::size_t r = 0; r < sets && r < replies.size(); ++r) {
          if (!replies[r].is_error()) counters_.writes.add();
        }
      });
    }
    for (; finished < owned.size(); ++finished) {
      flights_.finish(keys[owned[finished]], owned_flights[finished],
                      FlightResult{values[owned[finished]], nullptr});
    }
  } catch (...) {
    // Whatever went wrong, nobody may be left waiting for a flight we own.
    const std::exception_ptr error = std::current_exception();
    for (; finished < owned.size(); ++finished) {
      flights_.finish(keys[owned[finished]], owned_flights[finished], FlightResult{nullptr, error});
    }
    throw;
  }

  for (auto& [j, flight] : awaited) {
    counters_.stampede_waits.add();
    const FlightResult result = flight->wait();
    if (result.error) {
      if (!stale_usable(stale[j])) std::rethrow_exception(result.error);
      counters_.stale_served.add();
      values[j] = stale[j].value;
    } else {
      values[j] = result.value;
    }
  }

  if (count == ids.size()) {  // no repeated id: slot[i] == i, so values move over
    for (std::size_t i = 0; i < count; ++i) results[i] = Found{std::move(values[i]), exclusive[i]};
  } else {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      results[i] = Found{values[batch.slot[i]], exclusive[batch.slot[i]]};
    }
  }
  return results;
}

}  // namespace rediscache::detail
