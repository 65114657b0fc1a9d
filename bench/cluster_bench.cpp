// One redis-server versus the 3-master Redis Cluster, 8 client threads sharing one
// CacheAside<std::string> (100-byte values, all hits): get_or_load, and get_many of 100 ids, whose
// MGET the cluster client splits into one batch per node and sends to all nodes at once.
// Servers: REDISCACHE_TEST_REDIS_HOST/PORT and REDISCACHE_TEST_CLUSTER_SEEDS ("host:port,...").
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"

namespace {

constexpr int kKeys = 1000;
constexpr int kBatch = 100;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

using Cache = rediscache::CacheAside<std::string>;

std::string id_of(int i) { return std::to_string(i); }

rediscache::PoolOptions pool_options() {
  rediscache::PoolOptions pool;
  pool.size = 8;
  return pool;
}

// Built once, shared by every thread (as an application shares its Client); keys preloaded.
std::shared_ptr<rediscache::Client> make_single() {
  const auto port = env("REDISCACHE_TEST_REDIS_PORT");
  if (!port) return nullptr;
  rediscache::ConnectionOptions options;
  options.host = env("REDISCACHE_TEST_REDIS_HOST").value_or("127.0.0.1");
  options.port = std::atoi(port->c_str());
  return std::make_shared<rediscache::Client>(options, pool_options());
}

std::shared_ptr<rediscache::Client> make_cluster() {
  const auto seeds = env("REDISCACHE_TEST_CLUSTER_SEEDS");
  if (!seeds) return nullptr;
  rediscache::ClusterOptions options;
  std::stringstream items(*seeds);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto colon = item.rfind(':');
    options.seeds.push_back({item.substr(0, colon), std::atoi(item.c_str() + colon + 1)});
  }
  options.pool = pool_options();
  return std::make_shared<rediscache::Client>(rediscache::Client::cluster(options));
}

std::optional<std::string> load_one(std::string_view) { return std::string(100, 'v'); }

std::unordered_map<std::string, std::string> load_many(const std::vector<std::string>& ids) {
  std::unordered_map<std::string, std::string> out;
  for (const std::string& id : ids) out.emplace(id, std::string(100, 'v'));
  return out;
}

// Built once, shared by every thread (as an application shares its cache); every id loaded
// once, so the measured calls are all hits.
std::shared_ptr<Cache> make_cache(const std::shared_ptr<rediscache::Client>& client) {
  if (!client) return nullptr;
  rediscache::CacheOptions options;
  options.name = "bench-cluster";
  options.ttl = std::chrono::hours(1);
  auto cache = std::make_shared<Cache>(*client, options);
  std::vector<std::string> ids;
  for (int i = 0; i < kKeys; ++i) ids.push_back(id_of(i));
  cache->get_many(ids, load_many);
  return cache;
}

std::shared_ptr<Cache> cache(bool cluster) {
  static std::once_flag once;
  static std::shared_ptr<Cache> single_cache;
  static std::shared_ptr<Cache> cluster_cache;
  std::call_once(once, [] {
    single_cache = make_cache(make_single());
    cluster_cache = make_cache(make_cluster());
  });
  return cluster ? cluster_cache : single_cache;
}

void get_hits(benchmark::State& state, bool cluster) {
  const auto c = cache(cluster);
  if (!c) {
    state.SkipWithError("server not configured");
    return;
  }
  int i = static_cast<int>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto value = c->get_or_load(id_of(i++ % kKeys), load_one);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void get_many_100(benchmark::State& state, bool cluster) {
  const auto c = cache(cluster);
  if (!c) {
    state.SkipWithError("server not configured");
    return;
  }
  std::vector<std::string> ids;
  for (int i = 0; i < kBatch; ++i) {
    ids.push_back(id_of((static_cast<int>(state.thread_index()) * 131 + i * 7) % kKeys));
  }
  for (auto _ : state) {
    auto values = c->get_many(ids, load_many);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Single_GetHit(benchmark::State& state) { get_hits(state, false); }
void BM_Cluster_GetHit(benchmark::State& state) { get_hits(state, true); }
void BM_Single_GetMany100(benchmark::State& state) { get_many_100(state, false); }
void BM_Cluster_GetMany100(benchmark::State& state) { get_many_100(state, true); }

// Interleaved single/cluster, so drift on a shared machine hits both alike.
BENCHMARK(BM_Single_GetHit)->Threads(8)->UseRealTime();
BENCHMARK(BM_Cluster_GetHit)->Threads(8)->UseRealTime();
BENCHMARK(BM_Single_GetMany100)->Threads(8)->UseRealTime();
BENCHMARK(BM_Cluster_GetMany100)->Threads(8)->UseRealTime();

}  // namespace
