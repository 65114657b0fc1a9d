// Near-cache benchmarks: a near-cache hit against a Redis GET of the same key, and a hot-key
// workload (Zipf s=1.1 over 100,000 keys, 8 threads) with and without the near cache, in ops/s
// and in Redis commands per request (INFO total_commands_processed, measured around the run).
//
// BM_Lib_X is paired with BM_Raw_X (raw hiredis, one connection per thread) by scripts/bench;
// the "lib/raw" column of BM_Lib_HotKeyGet is the near cache's speed-up over a Redis GET.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include "rediscache/client/client.hpp"
#include "rediscache/client/info.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/near/near_cached_client.hpp"

namespace {

using rediscache::Client;
using rediscache::ConnectionOptions;
using rediscache::NearCachedClient;
using rediscache::NearTierOptions;

constexpr std::size_t kZipfKeys = 100000;
constexpr double kZipfS = 1.1;
constexpr int kThreads = 8;
const std::string kHotKey = "bench:near:hot";
const std::string kZipfPrefix = "bench:near:zipf:";
const std::string kValue(100, 'x');

ConnectionOptions redis_options() {
  ConnectionOptions o;
  if (const char* host = std::getenv("REDISCACHE_TEST_REDIS_HOST")) o.host = host;
  if (const char* port = std::getenv("REDISCACHE_TEST_REDIS_PORT")) o.port = std::atoi(port);
  return o;
}

rediscache::PoolOptions pool_options() {
  rediscache::PoolOptions p;
  p.size = kThreads;
  return p;
}

Client& shared_client() {
  static Client client(redis_options(), pool_options());
  return client;
}

// NearCachedClient is neither copyable nor movable; build it in place.
NearCachedClient& near_client_in_place() {
  static std::unique_ptr<NearCachedClient> client;
  static std::once_flag once;
  std::call_once(once, [] {
    NearTierOptions o;
    o.cache.max_entries = 10000;  // 10 % of the Zipf key space
    o.cache.max_lifetime = std::chrono::minutes(10);
    o.invalidation.prefixes = {"bench:near:"};
    client = std::make_unique<NearCachedClient>(shared_client(), o);
    if (!client->listener().wait_connected(std::chrono::seconds(5))) {
      throw std::runtime_error("near cache: invalidation listener did not connect");
    }
  });
  return *client;
}

std::string zipf_key(std::size_t rank) { return kZipfPrefix + std::to_string(rank); }

void populate_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    Client& client = shared_client();
    rediscache::SetOptions ttl;
    ttl.ttl = std::chrono::minutes(30);
    client.set(kHotKey, kValue, ttl);
    rediscache::Pipeline pipeline = client.pipeline();
    for (std::size_t i = 0; i < kZipfKeys; ++i) {
      pipeline.set(zipf_key(i), kValue, ttl);
      if (pipeline.size() == 1000) pipeline.exec();
    }
    if (!pipeline.empty()) pipeline.exec();
  });
}

const std::vector<double>& zipf_cdf() {
  static const std::vector<double> cdf = [] {
    std::vector<double> c(kZipfKeys);
    double sum = 0;
    for (std::size_t i = 0; i < kZipfKeys; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), kZipfS);
      c[i] = sum;
    }
    for (double& x : c) x /= sum;
    return c;
  }();
  return cdf;
}

std::size_t zipf_rank(std::mt19937_64& rng) {
  const auto& cdf = zipf_cdf();
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  return static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
}

long long commands_processed() {
  return shared_client().info("stats").get_int("total_commands_processed").value_or(0);
}

// Thread 0 reads the server's command counter before and after the run (Google Benchmark holds
// every thread at a barrier on both sides of the loop); two INFO calls are subtracted.
class CommandMeter {
 public:
  explicit CommandMeter(benchmark::State& state) : state_(state) {
    if (state_.thread_index() == 0) start_ = commands_processed();
  }
  void finish() {
    if (state_.thread_index() != 0) return;
    const long long sent = commands_processed() - start_ - 2;
    const double requests = static_cast<double>(state_.iterations()) * state_.threads();
    state_.counters["redis_cmds_per_req"] =
        benchmark::Counter(requests > 0 ? static_cast<double>(sent) / requests : 0.0);
  }

 private:
  benchmark::State& state_;
  long long start_ = 0;
};

struct RawConnection {
  RawConnection() {
    const ConnectionOptions o = redis_options();
    context = redisConnect(o.host.c_str(), o.port);
    if (context == nullptr || context->err != 0) throw std::runtime_error("raw connect failed");
  }
  ~RawConnection() { redisFree(context); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  void get(const std::string& key) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "GET %b", key.data(), key.size()));
    if (reply == nullptr) throw std::runtime_error("raw GET failed");
    benchmark::DoNotOptimize(reply->len);
    freeReplyObject(reply);
  }
  redisContext* context = nullptr;
};

// --- One hot key ---------------------------------------------------------------------------

void BM_Raw_HotKeyGet(benchmark::State& state) {
  populate_once();
  RawConnection raw;
  for (auto _ : state) raw.get(kHotKey);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Raw_HotKeyGet)->UseRealTime();

void BM_Lib_HotKeyGet(benchmark::State& state) {
  populate_once();
  NearCachedClient& client = near_client_in_place();
  if (!client.get(kHotKey)) state.SkipWithError("hot key missing");
  for (auto _ : state) benchmark::DoNotOptimize(client.get(kHotKey));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lib_HotKeyGet)->UseRealTime();

void BM_Lib_HotKeyGet_NoNearCache(benchmark::State& state) {
  populate_once();
  Client& client = shared_client();
  for (auto _ : state) benchmark::DoNotOptimize(client.get(kHotKey));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lib_HotKeyGet_NoNearCache)->UseRealTime();

// --- Zipf hot keys, 8 threads --------------------------------------------------------------

void BM_Raw_ZipfHotKeys(benchmark::State& state) {
  populate_once();
  RawConnection raw;
  std::mt19937_64 rng(std::random_device{}());  // fresh draws in every run and repetition
  CommandMeter meter(state);
  for (auto _ : state) raw.get(zipf_key(zipf_rank(rng)));
  meter.finish();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Raw_ZipfHotKeys)->Threads(kThreads)->UseRealTime();

void BM_Lib_ZipfHotKeys(benchmark::State& state) {
  populate_once();
  NearCachedClient& client = near_client_in_place();
  std::mt19937_64 rng(std::random_device{}());  // fresh draws in every run and repetition
  CommandMeter meter(state);
  const auto misses_before = client.near_cache().stats().misses;
  for (auto _ : state) benchmark::DoNotOptimize(client.get(zipf_key(zipf_rank(rng))));
  meter.finish();
  if (state.thread_index() == 0) {
    const double requests = static_cast<double>(state.iterations()) * state.threads();
    state.counters["near_miss_ratio"] = benchmark::Counter(
        static_cast<double>(client.near_cache().stats().misses - misses_before) / requests);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lib_ZipfHotKeys)->Threads(kThreads)->UseRealTime();

void BM_Lib_ZipfHotKeys_NoNearCache(benchmark::State& state) {
  populate_once();
  Client& client = shared_client();
  std::mt19937_64 rng(std::random_device{}());  // fresh draws in every run and repetition
  CommandMeter meter(state);
  for (auto _ : state) benchmark::DoNotOptimize(client.get(zipf_key(zipf_rank(rng))));
  meter.finish();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lib_ZipfHotKeys_NoNearCache)->Threads(kThreads)->UseRealTime();

// --- Staleness: from a plain SET's reply to the near cache serving the new value (includes
// the one GET round trip that fetches it) ---------------------------------------------------

void raw_set(RawConnection& raw, const std::string& key, const std::string& value) {
  auto* reply = static_cast<redisReply*>(
      redisCommand(raw.context, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
  if (reply == nullptr) throw std::runtime_error("raw SET failed");
  freeReplyObject(reply);
}

void BM_Lib_InvalidationLatency(benchmark::State& state) {
  NearCachedClient& client = near_client_in_place();
  RawConnection raw;
  const std::string key = "bench:near:latency";
  long n = 0;
  for (auto _ : state) {
    const std::string before = "a" + std::to_string(++n);
    const std::string after = "b" + std::to_string(n);
    raw_set(raw, key, before);
    // Wait until `before` is held locally (its own invalidation may drop the first copy).
    for (;;) {
      const std::uint64_t hits = client.near_cache().stats().hits;
      if (client.get(key) == before && client.near_cache().stats().hits > hits) break;
    }
    raw_set(raw, key, after);
    const auto written = std::chrono::steady_clock::now();
    while (client.get(key) != after) {
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - written).count());
  }
}
BENCHMARK(BM_Lib_InvalidationLatency)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
