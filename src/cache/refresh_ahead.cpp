// Refresh-ahead on a fresh hit: XFetch decides in the caller's thread, threshold mode refreshes
// in the background executor; either way one early refresh takes the lock without waiting.
#include "cache/refresh_ahead.hpp"

#include <algorithm>
#include <cmath>

#include "cache/cache_core_impl.hpp"
#include "util/random.hpp"

namespace rediscache::detail {

bool xfetch_due(std::int64_t now_ms, std::int64_t expiry_ms, std::uint32_t load_time_us,
                double beta, double u) {
  // Refresh when now - delta * beta * ln(u) >= expiry, u uniform in (0, 1]. The gap it
  // tolerates grows with the load time delta, and the chance rises as expiry nears.
  const double delta_ms = std::max(1.0, load_time_us / 1000.0);
  const double early = -delta_ms * beta * std::log(u);
  return static_cast<double>(now_ms) + early >= static_cast<double>(expiry_ms);
}

bool threshold_due(std::int64_t now_ms, std::int64_t expiry_ms, std::chrono::milliseconds ttl,
                   double threshold) {
  // In doubles: a hostile expiry near INT64_MIN must not wrap the difference.
  const double left = static_cast<double>(expiry_ms) - static_cast<double>(now_ms);
  return left < threshold * static_cast<double>(ttl.count());
}

Object CacheCore::Impl::refresh_ahead(Call& call, std::string_view id, const std::string& key,
                                      const std::string& lock_key, const Lookup& hit,
                                      const ErasedLoader& loader) {
  const std::int64_t expiry = hit.meta.expires_at_ms;
  if (expiry == 0 || !options_.ttl) return hit.value;
  const std::int64_t now = now_ms();

  if (options_.refresh.mode == RefreshMode::kXFetch) {
    if (!xfetch_due(now, expiry, hit.meta.load_time_us, options_.refresh.xfetch_beta,
                    uniform01())) {
      return hit.value;
    }
    Object fresh = refresh_now(call, id, key, lock_key, expiry, loader);
    return fresh ? fresh : hit.value;
  }

  // Threshold: refresh in the background, once per key at a time.
  if (!threshold_due(now, expiry, *options_.ttl, options_.refresh.threshold)) return hit.value;
  {
    const std::lock_guard<std::mutex> lock(refresh_mu_);
    if (!refreshing_.insert(key).second) return hit.value;
  }
  std::shared_ptr<const ErasedLoader> owned = loader.clone();
  const bool queued = executor_->try_submit(
      [this, id = std::string(id), key, lock_key, expiry, owned = std::move(owned)] {
        Call background;
        refresh_now(background, id, key, lock_key, expiry, *owned);
        const std::lock_guard<std::mutex> lock(refresh_mu_);
        refreshing_.erase(key);
      });
  if (!queued) {
    counters_.refresh_dropped.add();
    const std::lock_guard<std::mutex> lock(refresh_mu_);
    refreshing_.erase(key);
  }
  return hit.value;
}

Object CacheCore::Impl::refresh_now(Call& call, std::string_view id, const std::string& key,
                                    const std::string& lock_key, std::int64_t seen_expiry_ms,
                                    const ErasedLoader& loader) {
  const std::string token = random_token();
  bool acquired = false;
  try_redis(call, "SET NX refresh lock", [&] {
    SetOptions nx;
    nx.ttl = options_.lock.ttl;
    nx.condition = SetCondition::kIfNotExists;
    acquired = client_.set(lock_key, token, nx);
  });
  if (!acquired) return nullptr;  // another caller or process is refreshing it

  // The lock only serialises refreshes; it does not say whether one already happened. A
  // refresh that finished between our read and our lock (another thread's, another
  // process's) left a newer entry: that is the refresh, and loading again would only double
  // the database's work.
  std::optional<std::string> current;
  if (try_redis(call, "GET before refresh", [&] { current = client_.get(key); })) {
    Lookup there = inspect(call, key, current);
    if (there.state == Freshness::kFresh && there.meta.expires_at_ms > seen_expiry_ms) {
      release(call, lock_key, token);
      return there.value;
    }
  }

  counters_.refreshes.add();
  counters_.loads.add();
  const auto started = std::chrono::steady_clock::now();
  Object value;
  LoadRequest request;  // no stale copy: the entry is still fresh
  request.id = id;
  request.max_ttl = options_.max_ttl;
  request.tags_enabled = tags_ != nullptr;
  request.tag_clock = read_tag_clock(call);
  try {
    value = loader.load(request);
  } catch (const std::exception& e) {
    counters_.load_errors.add();
    report("refresh-ahead load", e);
    release(call, lock_key, token);
    return nullptr;
  } catch (...) {
    counters_.load_errors.add();
    release(call, lock_key, token);
    return nullptr;
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  counters_.load_latency.record(elapsed);
  store(call, key, lock_key, &token, value, saturating_us(elapsed), &request);
  // A refresh that finds the id gone returns the current value to this caller; the cached
  // "not found" serves the next ones.
  return value;
}

}  // namespace rediscache::detail
