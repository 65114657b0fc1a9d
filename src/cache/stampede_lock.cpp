// The stampede lock of get_or_load: take the lease and re-read the entry in one round trip, or
// poll (with jittered, doubling pauses) until the holder's value arrives or the wait runs out.
#include "cache/cache_core_impl.hpp"
#include "cache/lease_scripts.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/backoff.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

void CacheCore::Impl::release(Call& call, const std::string& lock_key, const std::string& token) {
  try_redis(call, "release lock", [&] { client_.eval(release_script(), {lock_key}, {token}); });
}

CacheCore::Impl::Acquire CacheCore::Impl::acquire_or_wait(Call& call, const std::string& key,
                                                          const std::string& lock_key,
                                                          const std::string& token, Lookup& stale,
                                                          std::optional<std::uint64_t>* tag_clock) {
  const StampedeLockOptions& lock = options_.lock;
  const auto deadline = saturating_deadline(std::chrono::steady_clock::now(), lock.max_wait);
  Backoff backoff(lock.initial_backoff, lock.max_backoff);
  bool waited = false;
  for (;;) {
    bool acquired = false;
    std::optional<std::string> raw;
    // Taking the lock and re-reading the entry share one round trip; the re-read catches a
    // value written between our GET and now (so a late thread does not load again).
    const bool ok = try_redis(call, "SET NX lock", [&] {
      Pipeline pipeline = client_.pipeline();
      SetOptions nx;
      nx.ttl = lock.ttl;
      nx.condition = SetCondition::kIfNotExists;
      pipeline.set(lock_key, token, nx);
      pipeline.get(key);
      // The tag clock before the load (see TagSpace), in the same round trip.
      if (tags_) pipeline.command({"GET", tags_->clock_key()});
      std::vector<Reply> replies = pipeline.exec();
      throw_if_error(replies.at(0), client_.endpoint(), "SET");
      throw_if_error(replies.at(1), client_.endpoint(), "GET");
      acquired = replies[0].is_status();
      if (replies[1].is_string()) raw = std::move(replies[1].str);
      if (tags_) {
        *tag_clock = replies.at(2).is_error() ? std::nullopt : TagSpace::parse_counter(replies[2]);
      }
    });
    if (!ok) return Acquire{};  // load without a lease; nothing will be cached

    Lookup lookup = inspect(call, key, raw);
    if (lookup.state == Freshness::kFresh) {
      if (acquired) release(call, lock_key, token);
      return Acquire{false, true, lookup.meta.negative ? nullptr : lookup.value};
    }
    if (lookup.state == Freshness::kStale) stale = std::move(lookup);
    if (acquired) return Acquire{true, false, nullptr};

    if (!waited) {
      waited = true;
      counters_.stampede_waits.add();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      counters_.lock_timeouts.add();
      return Acquire{};
    }
    // Jitter spreads the pollers of many processes; doubling keeps a long wait cheap.
    sleep_before(backoff.next(), deadline);
  }
}

}  // namespace rediscache::detail
