// get_many: one MGET (with a near cache: local hits, then GET + PTTL of the rest in one pipeline),
// one pipeline of leases and one batch load for the misses this caller owns, one write-back
// pipeline, and waiting (not loading) for misses other callers of this cache are loading.
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "cache/cache_core_impl.hpp"
#include "cache/lease_scripts.hpp"
#include "client/client_core.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/random.hpp"

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
  std::vector<bool> from_memory;  // near-tier hits: not read from Redis
  const auto make_keys = [&] { keys = keys_.keys_for(unique, version); };
  const bool reached = try_redis(call, "MGET", [&] {
    version = keys_.version();
    make_keys();
    raws = near_ ? near_->read_many(keys, from_memory) : client_.mget(keys);
  });
  if (!reached) {
    call.redis_down = true;
    version = keys_.cached_version().value_or(0);
    make_keys();
  }
  raws.resize(count);
  from_memory.resize(count);

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
    if (raws[j] && !from_memory[j]) bytes_read += raws[j]->size();
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
    std::vector<std::size_t> loaded_ids;  // the owned ids whose load succeeded
    std::uint32_t load_us = 0;
    BatchLeases leases;
    if (!owned.empty()) {
      std::vector<std::string> missing;
      missing.reserve(owned.size());
      for (const std::size_t j : owned) missing.emplace_back(unique[j]);
      if (options_.lock.enabled && !call.redis_down) leases = take_leases(call, missing, version);

      counters_.loads.add();
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::pair<std::string, Object>> loaded;
      try {
        loaded = loader(missing);
      } catch (...) {
        counters_.load_latency.record(std::chrono::steady_clock::now() - started);
        counters_.load_errors.add();
        release_leases(call, keys, owned, leases);
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
      if (finished == 0) {
        const auto elapsed = std::chrono::steady_clock::now() - started;
        counters_.load_latency.record(elapsed);
        load_us = per_item_us(elapsed, owned.size());
        std::unordered_map<std::string_view, Object> by_id;
        by_id.reserve(loaded.size());
        for (auto& item : loaded) by_id.emplace(item.first, std::move(item.second));
        for (const std::size_t j : owned) {
          const auto it = by_id.find(unique[j]);
          values[j] = it == by_id.end() ? nullptr : it->second;  // absent: "not found"
        }
        if (!call.redis_down) loaded_ids = owned;
      }
    }
    write_back(call, keys, loaded_ids, values, leases, load_us, corrupt);
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

// --- Leases and write-back --------------------------------------------------------------

CacheCore::Impl::BatchLeases CacheCore::Impl::take_leases(Call& call,
                                                          const std::vector<std::string>& ids,
                                                          long long version) {
  BatchLeases leases;
  leases.token = random_token();
  leases.lock_keys.reserve(ids.size());
  SetOptions nx;
  nx.ttl = options_.lock.ttl;
  nx.condition = SetCondition::kIfNotExists;
  Pipeline pipeline = client_.pipeline();
  for (const std::string& id : ids) {
    leases.lock_keys.push_back(keys_.lock_key_for(id, version));
    pipeline.set(leases.lock_keys.back(), leases.token, nx);
  }
  leases.held.assign(ids.size(), false);
  try_redis(call, "SET NX leases", [&] {
    const std::vector<Reply> replies = pipeline.exec();
    for (std::size_t i = 0; i < replies.size() && i < ids.size(); ++i) {
      leases.held[i] = replies[i].is_status();  // +OK; nil when another load holds it
    }
  });
  return leases;
}

void CacheCore::Impl::release_leases(Call& call, const std::vector<std::string>& keys,
                                     const std::vector<std::size_t>& owned,
                                     const BatchLeases& leases) {
  std::vector<LeaseWrite> writes;
  for (std::size_t i = 0; i < leases.held.size(); ++i) {
    if (leases.held[i]) writes.push_back({LeaseWrite::kRelease, i, owned[i], {}, std::nullopt});
  }
  send_lease_writes(call, keys, leases, writes, {});
}

void CacheCore::Impl::write_back(Call& call, const std::vector<std::string>& keys,
                                 const std::vector<std::size_t>& owned,
                                 const std::vector<Object>& values, const BatchLeases& leases,
                                 std::uint32_t load_us, const std::vector<std::string>& corrupt) {
  const bool leased = !leases.held.empty();
  std::vector<LeaseWrite> writes;
  writes.reserve(owned.size());
  for (std::size_t i = 0; i < owned.size(); ++i) {
    const std::size_t j = owned[i];
    // Another process holds this id's lease: it writes the value, not us (as in get_or_load).
    if (leased && !leases.held[i]) continue;
    std::optional<Prepared> prepared = prepare(values[j], load_us);
    if (!prepared) {
      if (leased) writes.push_back({LeaseWrite::kRelease, i, j, {}, std::nullopt});
      continue;
    }
    writes.push_back({leased ? LeaseWrite::kStore : LeaseWrite::kSet, i, j,
                      std::move(prepared->entry), prepared->px});
  }
  // No near-cache announcement, unlike store(): a batch only writes ids that were missing or
  // past their logical expiry, and no near tier keeps a copy past either.
  send_lease_writes(call, keys, leases, writes, corrupt);
}

void CacheCore::Impl::send_lease_writes(Call& call, const std::vector<std::string>& keys,
                                        const BatchLeases& leases,
                                        const std::vector<LeaseWrite>& writes,
                                        const std::vector<std::string>& corrupt) {
  if (call.redis_down || (writes.empty() && corrupt.empty())) return;

  // Writes under leases go through the store script, many ids per run: a script run costs the
  // server far more than the commands in it. On a cluster a script may only touch one slot, so
  // there each id (whose entry and lock share a slot) gets its own run; on one node a run takes
  // up to kIdsPerScript ids, which bounds how long it holds the server.
  constexpr std::size_t kIdsPerScript = 128;
  const std::size_t per_run =
      ClientAccess::core(client_).sharded() ? std::size_t{1} : kIdsPerScript;
  std::vector<std::string> expiries(writes.size());  // ARGV text per write, alive until sent
  std::vector<std::vector<std::size_t>> runs;        // indexes into writes, per script run
  std::vector<std::size_t> sets;                     // indexes into writes: plain SETs
  for (std::size_t w = 0; w < writes.size(); ++w) {
    const LeaseWrite& write = writes[w];
    if (write.kind == LeaseWrite::kSet) {
      sets.push_back(w);
      continue;
    }
    expiries[w] = write.kind == LeaseWrite::kRelease ? "-"
                  : write.ttl                        ? std::to_string(write.ttl->count())
                                                     : "0";
    if (runs.empty() || runs.back().size() == per_run) runs.emplace_back();
    runs.back().push_back(w);
  }
  // `by_source` sends the script itself (EVAL), which also loads it for the next runs.
  const auto queue_run = [&](Pipeline& pipeline, const std::vector<std::size_t>& run,
                             bool by_source) {
    const std::string numkeys = std::to_string(2 * run.size());
    std::vector<std::string_view> argv;
    argv.reserve(4 + 4 * run.size());
    argv.emplace_back(by_source ? "EVAL" : "EVALSHA");
    argv.push_back(by_source ? store_script().source() : store_script().sha1());
    argv.push_back(numkeys);
    for (const std::size_t w : run) {
      argv.push_back(keys[writes[w].key]);
      argv.push_back(leases.lock_keys[writes[w].lease]);
    }
    argv.push_back(leases.token);
    for (const std::size_t w : run) {
      argv.push_back(writes[w].entry);
      argv.push_back(expiries[w]);
    }
    pipeline.command(argv);
  };

  Pipeline pipeline = client_.pipeline();
  for (const std::size_t w : sets) {
    SetOptions set_options;
    set_options.ttl = writes[w].ttl;
    pipeline.set(keys[writes[w].key], writes[w].entry, set_options);
  }
  for (const std::vector<std::size_t>& run : runs) queue_run(pipeline, run, false);
  if (!corrupt.empty()) pipeline.del(corrupt);

  const ScopedTimer timer(counters_.write_latency);
  try_redis(call, "write back", [&] {
    std::vector<Reply> replies = pipeline.exec();
    replies.resize(sets.size() + runs.size());
    const auto count_written = [&](const LeaseWrite& write) {
      counters_.writes.add();
      counters_.bytes_written.add(write.entry.size());
    };
    for (std::size_t s = 0; s < sets.size(); ++s) {
      if (!replies[s].is_error()) count_written(writes[sets[s]]);
    }
    // NOSCRIPT: the server lost the script (restart, SCRIPT FLUSH, failover) since it last
    // ran. Every such run goes again as EVAL, all in one more round trip.
    std::vector<std::size_t> missing;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const Reply& reply = replies[sets.size() + r];
      if (reply.is_error() && reply.str.compare(0, 8, "NOSCRIPT") == 0) {
        missing.push_back(r);
        queue_run(pipeline, runs[r], true);
      }
    }
    if (!missing.empty()) {
      std::vector<Reply> again = pipeline.exec();
      for (std::size_t m = 0; m < missing.size() && m < again.size(); ++m) {
        replies[sets.size() + missing[m]] = std::move(again[m]);
      }
    }
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const Reply& reply = replies[sets.size() + r];
      for (std::size_t k = 0; k < runs[r].size(); ++k) {
        const LeaseWrite& write = writes[runs[r][k]];
        if (write.kind == LeaseWrite::kRelease || reply.is_error()) continue;
        const bool stored = reply.is_array() && k < reply.elements.size() &&
                            reply.elements[k].is_integer() && reply.elements[k].integer == 1;
        if (stored) {
          count_written(write);
        } else {
          counters_.lease_lost.add();  // invalidated or set while we loaded: not written
        }
      }
    }
  });
}

}  // namespace rediscache::detail
