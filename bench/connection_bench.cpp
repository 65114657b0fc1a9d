// The connection layer against raw hiredis, same server, same run: GET and SET of a 200-byte
// value on 1, 2 and 8 threads (raw: one hiredis context per thread; library: one Client whose
// pool has one connection per thread), and a pipeline of 100 GETs.
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "rediscache/client/pipeline.hpp"

namespace rediscache::bench {
namespace {

constexpr std::size_t kValueSize = 200;
constexpr int kPipelineDepth = 100;

std::string key_for(const benchmark::State& state, const char* what) {
  return "bench:conn:" + std::string(what) + ":" + std::to_string(state.thread_index());
}

void seed_key(const Endpoint& ep, const std::string& key) {
  RawContext c = raw_connect(ep);
  raw_command(c.get(), {"SET", key, value_of(kValueSize)});
}

void BM_Raw_Get(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "get");
  seed_key(*ep, key);
  raw_get_loop(state, *ep, key);
}

void BM_Lib_Get(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "get");
  seed_key(*ep, key);
  Client& client = shared_client(*ep, static_cast<std::size_t>(state.threads()));
  client.ping();  // connects outside the measurement
  for (auto _ : state) {
    auto value = client.get(key);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

// Not paired: the same as BM_Lib_Get with PoolOptions::check_liveness_after_idle unset, which
// shows what the liveness probe (one non-blocking recv on connections idle past 1 ms) costs.
void BM_LibNoProbe_Get(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "get");
  seed_key(*ep, key);
  Client& client = shared_client(*ep, static_cast<std::size_t>(state.threads()), false);
  client.ping();
  for (auto _ : state) {
    auto value = client.get(key);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Raw_Set(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "set");
  const std::string value = value_of(kValueSize);
  RawContext c = raw_connect(*ep);
  const char* argv[] = {"SET", key.c_str(), value.data()};
  const size_t lens[] = {3, key.size(), value.size()};
  for (auto _ : state) {
    RawReply r(static_cast<redisReply*>(redisCommandArgv(c.get(), 3, argv, lens)));
    benchmark::DoNotOptimize(r->type);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_Set(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "set");
  const std::string value = value_of(kValueSize);
  Client& client = shared_client(*ep, static_cast<std::size_t>(state.threads()));
  client.ping();
  for (auto _ : state) {
    benchmark::DoNotOptimize(client.set(key, value));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Raw_Pipeline100Get(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "pipe");
  seed_key(*ep, key);
  RawContext c = raw_connect(*ep);
  const char* argv[] = {"GET", key.c_str()};
  const size_t lens[] = {3, key.size()};
  for (auto _ : state) {
    for (int i = 0; i < kPipelineDepth; ++i) redisAppendCommandArgv(c.get(), 2, argv, lens);
    for (int i = 0; i < kPipelineDepth; ++i) {
      void* reply = nullptr;
      redisGetReply(c.get(), &reply);
      RawReply r(static_cast<redisReply*>(reply));
      benchmark::DoNotOptimize(r->len);
    }
  }
  state.SetItemsProcessed(state.iterations() * kPipelineDepth);
}

void BM_Lib_Pipeline100Get(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = key_for(state, "pipe");
  seed_key(*ep, key);
  Client& client = shared_client(*ep, static_cast<std::size_t>(state.threads()));
  client.ping();
  Pipeline pipeline = client.pipeline();
  for (auto _ : state) {
    for (int i = 0; i < kPipelineDepth; ++i) pipeline.get(key);
    auto replies = pipeline.exec();
    benchmark::DoNotOptimize(replies);
  }
  state.SetItemsProcessed(state.iterations() * kPipelineDepth);
}

// Wall-clock time, so that threads waiting on the server count (CPU time would flatter both).
BENCHMARK(BM_Raw_Get)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);
BENCHMARK(BM_Lib_Get)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);
BENCHMARK(BM_LibNoProbe_Get)->UseRealTime()->Threads(1);
BENCHMARK(BM_Raw_Set)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);
BENCHMARK(BM_Lib_Set)->UseRealTime()->Threads(1)->Threads(2)->Threads(8);
BENCHMARK(BM_Raw_Pipeline100Get)->UseRealTime();
BENCHMARK(BM_Lib_Pipeline100Get)->UseRealTime();

}  // namespace
}  // namespace rediscache::bench

REDISCACHE_BENCH_MAIN()
