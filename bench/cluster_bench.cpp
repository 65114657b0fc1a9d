// One redis-server versus the 3-master Redis Cluster, 8 client threads sharing one Client:
// GET hits (the read path of get_or_load on a hit) and MGET of 100 keys (get_many(100)), which
// the cluster client splits into one batch per node and sends to all nodes at once.
// Servers: REDISCACHE_TEST_REDIS_HOST/PORT and REDISCACHE_TEST_CLUSTER_SEEDS ("host:port,...").
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "rediscache/client.hpp"
#include "rediscache/cluster.hpp"

namespace {

constexpr int kKeys = 1000;
constexpr int kBatch = 100;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string key_of(int i) { return "bench:cluster:" + std::to_string(i); }

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

std::shared_ptr<rediscache::Client> client(bool cluster) {
  static std::once_flag once;
  static std::shared_ptr<rediscache::Client> single_client;
  static std::shared_ptr<rediscache::Client> cluster_client;
  std::call_once(once, [] {
    single_client = make_single();
    cluster_client = make_cluster();
    const std::string value(100, 'v');
    std::vector<std::pair<std::string, std::string>> items;
    for (int i = 0; i < kKeys; ++i) items.emplace_back(key_of(i), value);
    if (single_client) single_client->mset(items);
    if (cluster_client) cluster_client->mset(items);
  });
  return cluster ? cluster_client : single_client;
}

void get_hits(benchmark::State& state, bool cluster) {
  const auto c = client(cluster);
  if (!c) {
    state.SkipWithError("server not configured");
    return;
  }
  int i = static_cast<int>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto value = c->get(key_of(i++ % kKeys));
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void mget_100(benchmark::State& state, bool cluster) {
  const auto c = client(cluster);
  if (!c) {
    state.SkipWithError("server not configured");
    return;
  }
  std::vector<std::string> keys;
  for (int i = 0; i < kBatch; ++i) {
    keys.push_back(key_of((static_cast<int>(state.thread_index()) * 131 + i * 7) % kKeys));
  }
  for (auto _ : state) {
    auto values = c->mget(keys);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Single_GetHit(benchmark::State& state) { get_hits(state, false); }
void BM_Cluster_GetHit(benchmark::State& state) { get_hits(state, true); }
void BM_Single_Mget100(benchmark::State& state) { mget_100(state, false); }
void BM_Cluster_Mget100(benchmark::State& state) { mget_100(state, true); }

// Interleaved single/cluster, so drift on a shared machine hits both alike.
BENCHMARK(BM_Single_GetHit)->Threads(8)->UseRealTime();
BENCHMARK(BM_Cluster_GetHit)->Threads(8)->UseRealTime();
BENCHMARK(BM_Single_Mget100)->Threads(8)->UseRealTime();
BENCHMARK(BM_Cluster_Mget100)->Threads(8)->UseRealTime();

}  // namespace
