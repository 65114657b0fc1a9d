// Write policies and helpers, measured against the redis-server of the run: WriteThrough and
// WriteBehind write throughput (no-op database writers, so the figures are the library's and
// Redis's share), distributed lock acquire+release round trips, and rate-limiter checks.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/cache/write_through.hpp"
#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"

namespace rediscache::bench {
namespace {

constexpr std::size_t kValueSize = 200;

CacheAside<std::string>& cache(const Endpoint& ep) {
  static CacheAside<std::string>* instance = [&] {
    CacheOptions options;
    options.name = "bench-writes";
    options.ttl = std::chrono::hours(1);
    return new CacheAside<std::string>(shared_client(ep, 1), options);
  }();
  return *instance;
}

std::string id_for(std::int64_t i) { return std::to_string(i % 1000); }

void BM_Lib_WriteThrough(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  WriteThrough<std::string> policy(cache(*ep), [](std::string_view, const std::string&) {});
  const std::string value = value_of(kValueSize);
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy.write(id_for(i++), value));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_WriteBehind(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  std::atomic<std::int64_t> written{0};
  WriteBehind<std::string> policy(cache(*ep),
                                  [&written](const std::vector<WriteOp<std::string>>& ops) {
                                    written.fetch_add(static_cast<std::int64_t>(ops.size()));
                                  });
  const std::string value = value_of(kValueSize);
  std::int64_t i = 0;
  for (auto _ : state) {
    policy.write(id_for(i++), value);
  }
  state.SetItemsProcessed(state.iterations());
  // Outside the measurement (the loop is over): the flusher must keep up, or the figure would
  // only show how fast the queue grows.
  if (!policy.flush()) state.SkipWithError("write-behind queue did not drain");
  state.counters["written"] = static_cast<double>(written.load());
}

void BM_Lib_LockAcquireRelease(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  LockOptions options;
  options.key_prefix = "bench:lock:";
  DistributedLock lock(shared_client(*ep, 1), "reports", options);
  for (auto _ : state) {
    auto guard = lock.try_lock();
    if (!guard) {
      state.SkipWithError("lock unexpectedly held");
      break;
    }
    benchmark::DoNotOptimize(guard->unlock());
  }
  state.SetItemsProcessed(state.iterations());
}

template <class Limiter, class Options>
void run_limiter(benchmark::State& state, Options options) {
  const auto ep = require_redis(state);
  if (!ep) return;
  Limiter limiter(shared_client(*ep, 1), std::move(options));
  limiter.reset("client-1");
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.check("client-1").allowed);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_RateLimiterGcra(benchmark::State& state) {
  GcraOptions options;
  options.key_prefix = "bench:gcra:";
  options.burst = 1000000;
  run_limiter<GcraLimiter>(state, options);
}

void BM_Lib_RateLimiterSlidingCounter(benchmark::State& state) {
  SlidingWindowCounterOptions options;
  options.key_prefix = "bench:swc:";
  options.limit = 1000000000;
  run_limiter<SlidingWindowCounterLimiter>(state, options);
}

void BM_Lib_RateLimiterSlidingLog(benchmark::State& state) {
  SlidingWindowLogOptions options;
  options.key_prefix = "bench:swl:";
  options.limit = 1000;
  options.window = std::chrono::milliseconds(100);  // keeps the log short
  run_limiter<SlidingWindowLogLimiter>(state, options);
}

BENCHMARK(BM_Lib_WriteThrough)->UseRealTime();
BENCHMARK(BM_Lib_WriteBehind)->UseRealTime();
BENCHMARK(BM_Lib_LockAcquireRelease)->UseRealTime();
BENCHMARK(BM_Lib_RateLimiterGcra)->UseRealTime();
BENCHMARK(BM_Lib_RateLimiterSlidingCounter)->UseRealTime();
BENCHMARK(BM_Lib_RateLimiterSlidingLog)->UseRealTime();

}  // namespace
}  // namespace rediscache::bench

REDISCACHE_BENCH_MAIN()
