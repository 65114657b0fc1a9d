// get_many's leases and write-back: take the leases of the owned misses in one pipeline, then
// write the loaded values under them (the store script, many ids per run) in one more, or give
// them back after a failed load.
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_core_impl.hpp"
#include "cache/lease_scripts.hpp"
#include "client/client_core.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/random.hpp"

namespace rediscache::detail {

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
  // The tag clock before the load (see TagSpace), in the same round trip.
  if (tags_) pipeline.command({"GET", tags_->clock_key()});
  leases.held.assign(ids.size(), false);
  try_redis(call, "SET NX leases", [&] {
    const std::vector<Reply> replies = pipeline.exec();
    for (std::size_t i = 0; i < replies.size() && i < ids.size(); ++i) {
      leases.held[i] = replies[i].is_status();  // +OK; nil when another load holds it
    }
    if (tags_ && replies.size() == ids.size() + 1 && !replies.back().is_error()) {
      leases.tag_clock = TagSpace::parse_counter(replies.back());
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
                                 std::uint32_t load_us, const std::vector<std::string>& corrupt,
                                 const std::vector<LoadRequest>* decisions) {
  const bool leased = !leases.held.empty();
  std::vector<LeaseWrite> writes;
  writes.reserve(owned.size());
  for (std::size_t i = 0; i < owned.size(); ++i) {
    const std::size_t j = owned[i];
    // Another process holds this id's lease: it writes the value, not us (as in get_or_load).
    if (leased && !leases.held[i]) continue;
    const LoadRequest* request = decisions != nullptr ? &(*decisions)[i] : nullptr;
    std::optional<Prepared> prepared = prepare(values[j], load_us, request);
    if (tags_ && prepared) {
      tags_->remember(keys[j],
                      request != nullptr ? request->decision.tags : std::vector<std::string>{});
    }
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
                                        const std::vector<std::string>& corrupt,
                                        bool give_back_on_failure) {
  if (call.redis_down || (writes.empty() && corrupt.empty())) return;
  // Writes under leases go through the store script, many ids per run: a script run costs the
  // server far more than the commands in it. On a cluster a script may only touch one slot, so
  // there each id (whose entry and lock share a slot) gets its own run; on one node a run takes
  // up to kIdsPerScript ids, which bounds how long it holds the server.
  constexpr std::size_t kIdsPerScript = 128;
  const std::size_t per_run =
      ClientAccess::core(client_).sharded() ? std::size_t{1} : kIdsPerScript;
  const LeasePlan plan = plan_lease_writes(writes, per_run);
  const LeaseBatch batch{keys, leases, writes, plan};

  Pipeline pipeline = client_.pipeline();
  // Corrupt entries go first: most of them are reloaded by this very batch, and deleting them
  // after the write-back would delete the values just stored in their place. One DEL each: on a
  // cluster they lie in different slots.
  for (const std::string& key : corrupt) pipeline.del({key});
  for (const std::size_t w : plan.sets) {
    SetOptions set_options;
    set_options.ttl = writes[w].ttl;
    pipeline.set(keys[writes[w].key], writes[w].entry, set_options);
  }
  for (const std::vector<std::size_t>& run : plan.runs)
    queue_store_run(pipeline, batch, run, false);

  const ScopedTimer timer(counters_.write_latency);
  std::vector<Reply> replies;
  const bool sent = try_redis(call, "write back", [&] {
    replies = exec_reloading_scripts(pipeline, batch, corrupt.size());
    count_lease_replies(batch, replies, corrupt.size());
  });
  if (give_back_on_failure)
    give_back_failed(keys, batch, sent ? &replies : nullptr, corrupt.size());
}

void CacheCore::Impl::give_back_failed(const std::vector<std::string>& keys,
                                       const LeaseBatch& batch, const std::vector<Reply>* replies,
                                       std::size_t offset) {
  // A run that failed (an error reply, or the pipeline lost: outcome unknown) leaves its leases
  // behind, and readers of those ids would poll for them for lock.max_wait. Give them back at
  // once, as get_or_load does after a failed store: one attempt, on a fresh call so that the
  // failure does not skip it (the breaker still does). Where a store did land, the release
  // finds the lease gone and deletes nothing.
  const std::size_t sets = batch.plan.sets.size();
  std::vector<LeaseWrite> releases;
  for (std::size_t r = 0; r < batch.plan.runs.size(); ++r) {
    if (replies != nullptr && !(*replies)[offset + sets + r].is_error()) continue;
    for (const std::size_t w : batch.plan.runs[r]) {
      const LeaseWrite& write = batch.writes[w];
      releases.push_back({LeaseWrite::kRelease, write.lease, write.key, {}, std::nullopt});
    }
  }
  if (releases.empty()) return;
  Call again;
  send_lease_writes(again, keys, batch.leases, releases, {}, false);
}

CacheCore::Impl::LeasePlan CacheCore::Impl::plan_lease_writes(const std::vector<LeaseWrite>& writes,
                                                              std::size_t per_run) {
  LeasePlan plan;
  plan.expiries.resize(writes.size());
  for (std::size_t w = 0; w < writes.size(); ++w) {
    const LeaseWrite& write = writes[w];
    if (write.kind == LeaseWrite::kSet) {
      plan.sets.push_back(w);
      continue;
    }
    plan.expiries[w] = write.kind == LeaseWrite::kRelease ? "-"
                       : write.ttl                        ? std::to_string(write.ttl->count())
                                                          : "0";
    if (plan.runs.empty() || plan.runs.back().size() == per_run) plan.runs.emplace_back();
    plan.runs.back().push_back(w);
  }
  return plan;
}

void CacheCore::Impl::queue_store_run(Pipeline& pipeline, const LeaseBatch& batch,
                                      const std::vector<std::size_t>& run, bool by_source) {
  // `by_source` sends the script itself (EVAL), which also loads it for the next runs.
  const std::string numkeys = std::to_string(2 * run.size());
  std::vector<std::string_view> argv;
  argv.reserve(4 + 4 * run.size());
  argv.emplace_back(by_source ? "EVAL" : "EVALSHA");
  argv.push_back(by_source ? store_script().source() : store_script().sha1());
  argv.push_back(numkeys);
  for (const std::size_t w : run) {
    argv.push_back(batch.keys[batch.writes[w].key]);
    argv.push_back(batch.leases.lock_keys[batch.writes[w].lease]);
  }
  argv.push_back(batch.leases.token);
  for (const std::size_t w : run) {
    argv.push_back(batch.writes[w].entry);
    argv.push_back(batch.plan.expiries[w]);
  }
  pipeline.command(argv);
}

std::vector<Reply> CacheCore::Impl::exec_reloading_scripts(Pipeline& pipeline,
                                                           const LeaseBatch& batch,
                                                           std::size_t offset) {
  const std::size_t sets = offset + batch.plan.sets.size();
  std::vector<Reply> replies = pipeline.exec();
  replies.resize(sets + batch.plan.runs.size());
  // NOSCRIPT: the server lost the script (restart, SCRIPT FLUSH, failover) since it last ran.
  // Every such run goes again as EVAL, all in one more round trip.
  std::vector<std::size_t> missing;
  for (std::size_t r = 0; r < batch.plan.runs.size(); ++r) {
    const Reply& reply = replies[sets + r];
    if (reply.is_error() && reply.str.compare(0, 8, "NOSCRIPT") == 0) {
      missing.push_back(r);
      queue_store_run(pipeline, batch, batch.plan.runs[r], true);
    }
  }
  if (!missing.empty()) {
    std::vector<Reply> again = pipeline.exec();
    for (std::size_t m = 0; m < missing.size() && m < again.size(); ++m) {
      replies[sets + missing[m]] = std::move(again[m]);
    }
  }
  return replies;
}

void CacheCore::Impl::count_lease_replies(const LeaseBatch& batch,
                                          const std::vector<Reply>& replies, std::size_t offset) {
  const auto count_written = [&](const LeaseWrite& write) {
    counters_.writes.add();
    counters_.bytes_written.add(write.entry.size());
  };
  const std::size_t sets = offset + batch.plan.sets.size();
  for (std::size_t s = 0; s < batch.plan.sets.size(); ++s) {
    if (!replies[offset + s].is_error()) count_written(batch.writes[batch.plan.sets[s]]);
  }
  for (std::size_t r = 0; r < batch.plan.runs.size(); ++r) {
    const Reply& reply = replies[sets + r];
    const std::vector<std::size_t>& run = batch.plan.runs[r];
    for (std::size_t k = 0; k < run.size(); ++k) {
      const LeaseWrite& write = batch.writes[run[k]];
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
}

}  // namespace rediscache::detail
