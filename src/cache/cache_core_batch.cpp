// get_many in named phases: read (one MGET; with a near cache: local hits, then GET + PTTL of
// the rest in one pipeline), classify (hits, and the misses this caller leads or awaits), load
// the owned misses (one pipeline of leases, one batch load, one write-back pipeline, see
// lease_writes.cpp), await the misses other callers of this cache are loading, and spread the
// values back over the requested ids.
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "cache/cache_core_impl.hpp"

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
  const Distinct requested = distinct(ids);
  Call call;
  Batch batch = read_batch(call, requested.ids);
  classify_batch(call, batch);
  if (load_executor_ && !(batch.owned.empty() && batch.awaited.empty())) {
    load_bounded(call, batch, loader);
  } else {
    load_owned(call, batch, loader);
    await_others(batch);
  }

  if (batch.ids.size() == ids.size()) {  // no repeated id: slot[i] == i, so values move over
    for (std::size_t i = 0; i < ids.size(); ++i) {
      results[i] = Found{std::move(batch.values[i]), batch.exclusive[i]};
    }
  } else {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::size_t j = requested.slot[i];
      results[i] = Found{batch.values[j], batch.exclusive[j]};
    }
  }
  return results;
}

CacheCore::Impl::Batch CacheCore::Impl::read_batch(Call& call,
                                                   const std::vector<std::string_view>& ids) {
  Batch batch;
  batch.ids = ids;
  const std::size_t count = ids.size();
  // A key holding another type (a list, a hash) is a corrupt entry, not Redis being down: MGET
  // reads it as nil, the near tier's GET answers WRONGTYPE for it alone. Either way it is
  // reloaded, and overwritten by the write-back.
  std::vector<std::pair<std::size_t, ReplyError>> wrong_type;
  const bool reached = try_redis(call, "MGET", [&] {
    batch.version = keys_.version();
    batch.keys = keys_.keys_for(ids, batch.version);
    if (near_) {
      batch.reads = near_->read_many(batch.keys, wrong_type);
    } else {
      std::vector<std::optional<std::string>> raws = client_.mget(batch.keys);
      batch.reads.resize(raws.size());
      for (std::size_t j = 0; j < raws.size(); ++j) batch.reads[j].raw = std::move(raws[j]);
    }
  });
  for (const auto& [j, error] : wrong_type) {
    counters_.decode_errors.add();
    report("decode cached value", error);
    batch.corrupt.push_back(batch.keys[j]);
  }
  if (!reached) {
    call.redis_down = true;
    batch.version = keys_.cached_version().value_or(0);
    batch.keys = keys_.keys_for(ids, batch.version);
  }
  batch.reads.resize(count);
  batch.values.resize(count);
  batch.exclusive.assign(count, false);
  batch.stale.resize(count);
  return batch;
}

void CacheCore::Impl::classify_batch(Call& call, Batch& batch) {
  // One clock reading and one update per counter for the batch, not one per key.
  const std::int64_t now = now_ms();
  std::uint64_t bytes_read = 0;
  std::uint64_t hits = 0;
  std::uint64_t negative_hits = 0;
  if (tags_) {
    // Every tagged entry's stamps in one MGET, before any is checked (not one per entry).
    std::vector<std::string> tags;
    for (const EntryRead& read : batch.reads) {
      if (read.decoded) {
        tags.insert(tags.end(), read.decoded->meta.tags.begin(), read.decoded->meta.tags.end());
        continue;
      }
      if (!read.raw) continue;
      try {
        const EntryMeta meta = decoder_.header(*read.raw);
        tags.insert(tags.end(), meta.tags.begin(), meta.tags.end());
      } catch (const std::exception&) {
        // corrupt: inspect() below counts and deletes it
      }
    }
    if (!tags.empty()) fetch_stamps(call, tags);
  }
  for (std::size_t j = 0; j < batch.ids.size(); ++j) {
    const EntryRead& read = batch.reads[j];
    if (read.raw) bytes_read += read.raw->size();
    Lookup lookup = inspect(call, batch.keys[j], read.raw, now, &batch.corrupt, read.decoded.get());
    if (lookup.state == Freshness::kFresh) {
      ++(lookup.meta.negative ? negative_hits : hits);
      batch.values[j] = std::move(lookup.value);
      // Fresh hits from Redis were decoded for this call alone (see Found::exclusive); a near
      // tier's decoded copy is shared with every reader.
      batch.exclusive[j] = batch.values[j] != nullptr && !read.from_memory;
      continue;
    }
    counters_.misses.add();
    if (lookup.state == Freshness::kStale) batch.stale[j] = std::move(lookup);
    SingleFlight::Joined joined = flights_.join(batch.keys[j]);
    if (joined.leader) {
      batch.owned.push_back(j);
      batch.owned_flights.push_back(std::move(joined.flight));
    } else {
      batch.awaited.emplace_back(j, std::move(joined.flight));
    }
  }
  if (bytes_read != 0) counters_.bytes_read.add(bytes_read);
  if (hits != 0) counters_.hits.add(hits);
  if (negative_hits != 0) counters_.negative_hits.add(negative_hits);
}

void CacheCore::Impl::load_owned(Call& call, Batch& batch, const ErasedBatchLoader& loader,
                                 Lifeline* outside) {
  std::size_t finished = 0;  // owned flights completed so far
  try {
    std::vector<std::size_t> loaded_ids;  // the owned ids whose load succeeded
    std::uint32_t load_us = 0;
    BatchLeases leases;
    std::vector<std::string> missing;
    std::vector<LoadRequest> requests;  // parallel to missing: stale copies in, decisions out
    if (!batch.owned.empty()) {
      missing.reserve(batch.owned.size());
      for (const std::size_t j : batch.owned) missing.emplace_back(batch.ids[j]);
      requests.resize(missing.size());
      for (std::size_t i = 0; i < missing.size(); ++i) {
        const Lookup& stale = batch.stale[batch.owned[i]];
        requests[i].id = missing[i];
        requests[i].has_stale = stale.state == Freshness::kStale;
        if (requests[i].has_stale) requests[i].stale = stale.value;
        requests[i].max_ttl = options_.max_ttl;
      }
      std::optional<std::uint64_t> tag_clock;
      if (options_.lock.enabled && !call.redis_down) {
        leases = take_leases(call, missing, batch.version);
        tag_clock = leases.tag_clock;
      } else {
        tag_clock = read_tag_clock(call);
      }
      for (LoadRequest& request : requests) {
        request.tags_enabled = tags_ != nullptr;
        request.tag_clock = tag_clock;
      }

      counters_.loads.add();
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::pair<std::string, Object>> loaded;
      try {
        if (outside != nullptr) outside->leave();
        std::exception_ptr error;
        try {
          loaded = loader(missing, requests);
        } catch (...) {
          error = std::current_exception();
        }
        if (outside != nullptr && !outside->enter()) throw Abandoned{};
        if (error) std::rethrow_exception(error);
      } catch (const Abandoned&) {
        throw;
      } catch (...) {
        counters_.load_latency.record(std::chrono::steady_clock::now() - started);
        counters_.load_errors.add();
        release_leases(call, batch.keys, batch.owned, leases);
        if (!serve_stale_or_fail(batch, finished, std::current_exception())) throw;
      }
      if (finished == 0) {
        const auto elapsed = std::chrono::steady_clock::now() - started;
        counters_.load_latency.record(elapsed);
        load_us = per_item_us(elapsed, batch.owned.size());
        std::unordered_map<std::string_view, Object> by_id;
        by_id.reserve(loaded.size());
        for (auto& item : loaded) by_id.emplace(item.first, std::move(item.second));
        for (std::size_t i = 0; i < batch.owned.size(); ++i) {
          const std::size_t j = batch.owned[i];
          const auto it = by_id.find(batch.ids[j]);
          batch.values[j] = decided_value(it == by_id.end() ? nullptr : it->second,  // "not found"
                                          requests[i]);
        }
        if (!call.redis_down) loaded_ids = batch.owned;
      }
    }
    write_back(call, batch.keys, loaded_ids, batch.values, leases, load_us, batch.corrupt,
               loaded_ids.empty() ? nullptr : &requests);
    for (; finished < batch.owned.size(); ++finished) {
      const std::size_t j = batch.owned[finished];
      flights_.finish(batch.keys[j], batch.owned_flights[finished],
                      FlightResult{batch.values[j], nullptr});
    }
  } catch (const Abandoned&) {
    throw;  // the cache is gone (see Lifeline)
  } catch (...) {
    // Whatever went wrong, nobody may be left waiting for a flight we own.
    const std::exception_ptr error = std::current_exception();
    for (; finished < batch.owned.size(); ++finished) {
      flights_.finish(batch.keys[batch.owned[finished]], batch.owned_flights[finished],
                      FlightResult{nullptr, error});
    }
    throw;
  }
}

bool CacheCore::Impl::serve_stale_or_fail(Batch& batch, std::size_t& finished,
                                          const std::exception_ptr& error) {
  bool all_stale = true;
  for (; finished < batch.owned.size(); ++finished) {
    const std::size_t j = batch.owned[finished];
    if (stale_usable(batch.stale[j])) {
      counters_.stale_served.add();
      batch.values[j] = batch.stale[j].value;
      flights_.finish(batch.keys[j], batch.owned_flights[finished],
                      FlightResult{batch.values[j], nullptr});
    } else {
      all_stale = false;
      flights_.finish(batch.keys[j], batch.owned_flights[finished], FlightResult{nullptr, error});
    }
  }
  return all_stale;
}

void CacheCore::Impl::load_bounded(Call& call, Batch& batch, const ErasedBatchLoader& loader) {
  // One bound for the call: the soft one when every miss has a stale copy to fall back on.
  bool all_stale = true;
  for (const std::size_t j : batch.owned) all_stale = all_stale && stale_usable(batch.stale[j]);
  for (const auto& awaited : batch.awaited) {
    all_stale = all_stale && stale_usable(batch.stale[awaited.first]);
  }
  const Lookup none;
  const std::optional<Bound> bound = bound_for(
      all_stale
          ? batch.stale[batch.owned.empty() ? batch.awaited.front().first : batch.owned.front()]
          : none,
      std::chrono::steady_clock::now());
  if (!batch.owned.empty()) {
    // The background load gets its own copy of the owned misses (this call may leave first).
    auto job = std::make_shared<BackgroundBatch>();
    job->loader = loader;
    const std::size_t n = batch.owned.size();
    job->id_store.reserve(n);
    for (const std::size_t j : batch.owned) job->id_store.emplace_back(batch.ids[j]);
    Batch& sub = job->batch;
    sub.version = batch.version;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = batch.owned[i];
      sub.ids.emplace_back(job->id_store[i]);
      sub.keys.push_back(batch.keys[j]);
      sub.stale.push_back(batch.stale[j]);
      sub.owned.push_back(i);
    }
    sub.values.resize(n);
    sub.exclusive.assign(n, false);
    sub.owned_flights = batch.owned_flights;
    sub.corrupt = std::move(batch.corrupt);
    // `life`, not lifeline_: until enter() succeeds, this cache may already be gone.
    auto task = [this, life = lifeline_, job] {
      if (!life->enter()) return;
      try {
        Call background;
        load_owned(background, job->batch, job->loader, life.get());
      } catch (const Abandoned&) {
        return;
      } catch (...) {  // NOLINT(bugprone-empty-catch): the flights carry the error
      }
      life->leave();
    };
    const bool queued =
        bound ? load_executor_->submit_until(task, bound->at) : load_executor_->try_submit(task);
    if (!queued) {
      counters_.background_loads_rejected.add();
      batch.corrupt = std::move(sub.corrupt);
      if (!bound) {
        load_owned(call, batch, loader);
      } else {
        // Nobody loads this time: the owned flights end with their give-up outcome.
        std::exception_ptr error;
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t j = batch.owned[i];
          try {
            batch.values[j] = give_up(*bound, batch.stale[j]);
            flights_.finish(batch.keys[j], batch.owned_flights[i],
                            FlightResult{batch.values[j], nullptr});
          } catch (...) {
            error = std::current_exception();
            flights_.finish(batch.keys[j], batch.owned_flights[i], FlightResult{nullptr, error});
          }
        }
        if (error) std::rethrow_exception(error);
        await_others(batch);  // none of ours left to wait for
        return;
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        batch.awaited.emplace_back(batch.owned[i], batch.owned_flights[i]);
      }
    }
  }
  if (!bound) {
    await_others(batch);
    return;
  }
  for (auto& [j, flight] : batch.awaited) {
    std::optional<FlightResult> result = flight->wait_until(bound->at);
    if (!result) {
      batch.values[j] = give_up(*bound, batch.stale[j]);
      continue;
    }
    if (result->error) {
      if (!stale_usable(batch.stale[j])) std::rethrow_exception(result->error);
      counters_.stale_served.add();
      batch.values[j] = batch.stale[j].value;
    } else {
      batch.values[j] = std::move(result->value);
    }
  }
}

void CacheCore::Impl::await_others(Batch& batch) {
  for (auto& [j, flight] : batch.awaited) {
    counters_.stampede_waits.add();
    const FlightResult result = flight->wait();
    if (result.error) {
      if (!stale_usable(batch.stale[j])) std::rethrow_exception(result.error);
      counters_.stale_served.add();
      batch.values[j] = batch.stale[j].value;
    } else {
      batch.values[j] = result.value;
    }
  }
}

}  // namespace rediscache::detail
