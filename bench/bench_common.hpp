// Shared pieces of the bench programs: the server address from the environment, raw hiredis
// contexts for the BM_Raw_ baselines, shared rediscache clients per pool size, and a main()
// that interleaves benchmarks so that raw and library runs see the same machine noise.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include "rediscache/client/client.hpp"

namespace rediscache::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;
};

/// REDISCACHE_TEST_REDIS_HOST/PORT, as for the tests; empty when the port is unset.
inline std::optional<Endpoint> redis_endpoint() {
  const char* port = std::getenv("REDISCACHE_TEST_REDIS_PORT");
  if (port == nullptr || *port == '\0') return std::nullopt;
  Endpoint ep;
  if (const char* host = std::getenv("REDISCACHE_TEST_REDIS_HOST"); host && *host) ep.host = host;
  ep.port = std::atoi(port);
  if (ep.port <= 0 || ep.port > 65535) return std::nullopt;
  return ep;
}

/// The endpoint, or marks the benchmark skipped (with an error message) and returns empty.
inline std::optional<Endpoint> require_redis(benchmark::State& state) {
  auto ep = redis_endpoint();
  if (!ep) state.SkipWithError("REDISCACHE_TEST_REDIS_PORT is not set: no redis-server to measure");
  return ep;
}

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using RawContext = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using RawReply = std::unique_ptr<redisReply, ReplyDeleter>;

/// A plain hiredis connection: what a user of raw hiredis would write.
inline RawContext raw_connect(const Endpoint& ep) {
  RawContext c(redisConnect(ep.host.c_str(), ep.port));
  if (!c || c->err != 0) {
    std::fprintf(stderr, "raw hiredis connect to %s:%d failed\n", ep.host.c_str(), ep.port);
    std::abort();
  }
  return c;
}

/// One raw command by argv (binary safe, no format string): hiredis's fastest blocking call.
inline RawReply raw_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return RawReply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

/// The BM_Raw_ baseline of a read: GET `key` on one plain hiredis connection, one command per
/// iteration, as a user of raw hiredis would write it.
inline void raw_get_loop(benchmark::State& state, const Endpoint& ep, const std::string& key) {
  RawContext c = raw_connect(ep);
  const char* argv[] = {"GET", key.c_str()};
  const size_t lens[] = {3, key.size()};
  for (auto _ : state) {
    RawReply r(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
    benchmark::DoNotOptimize(r->len);
  }
  state.SetItemsProcessed(state.iterations());
}

/// A Client whose pool holds `pool_size` connections, shared by every benchmark thread and
/// kept for the whole program (so connects are not measured).
/// `check_liveness` false gives a pool that never probes its sockets, to measure the probe's cost;
/// `multiplex` sets PoolOptions::multiplex.
inline Client& shared_client(const Endpoint& ep, std::size_t pool_size, bool check_liveness = true,
                             bool multiplex = PoolOptions{}.multiplex) {
  static std::mutex mu;
  static std::map<std::tuple<std::size_t, bool, bool>, std::unique_ptr<Client>> clients;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = clients[{pool_size, check_liveness, multiplex}];
  if (!slot) {
    ConnectionOptions connection;
    connection.host = ep.host;
    connection.port = ep.port;
    PoolOptions pool;
    pool.size = pool_size;
    pool.multiplex = multiplex;
    if (!check_liveness) pool.check_liveness_after_idle.reset();
    slot = std::make_unique<Client>(connection, pool);
  }
  return *slot;
}

/// A value of `size` bytes.
inline std::string value_of(std::size_t size) { return std::string(size, 'v'); }

/// Runs the registered benchmarks with random interleaving on unless the command line says
/// otherwise: each repetition of BM_Raw_X and BM_Lib_X then runs at a different moment, mixed
/// with the others, so slow phases of a noisy machine hit both alike.
inline int run_main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  bool has_interleaving = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--benchmark_enable_random_interleaving", 0) == 0) {
      has_interleaving = true;
    }
  }
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  if (!has_interleaving) args.push_back(interleave);
  if (!redis_endpoint()) {
    std::printf(
        "REDISCACHE_TEST_REDIS_HOST/PORT not set: benchmarks that need Redis are skipped\n");
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace rediscache::bench

#define REDISCACHE_BENCH_MAIN() \
  int main(int argc, char** argv) { return ::rediscache::bench::run_main(argc, argv); }
