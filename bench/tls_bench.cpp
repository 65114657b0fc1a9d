// TLS against plain TCP through the library, same run (interleaved): GET of a 200-byte value and
// a pipeline of 100 GETs on the shared plain redis-server and on the TLS one (scripts/lib.sh
// rc_start_tls_redis: the same redis-server build and settings, TLS port only), and the cost of a
// connection: a new pool's first connection (plain TCP; TLS with a full handshake) and a pool's
// reconnect (plain; TLS resuming the session the pool kept). Each connection iteration opens a
// connection, sends PING and drops it. scripts/bench_table.py pairs BM_Plain_<Name> with
// BM_Tls<Variant>_<Name>.
#include <memory>
#include <optional>
#include <string>

#include "bench_common.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/net/connection_pool.hpp"

namespace rediscache::bench {
namespace {

constexpr std::size_t kValueSize = 200;
constexpr int kPipelineDepth = 100;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): no setenv here
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// Options for the plain or the TLS server (REDISCACHE_TEST_TLS_HOST/PORT and
// REDISCACHE_TEST_TLS_CA_FILE); empty, with the benchmark skipped, when unset.
std::optional<ConnectionOptions> options_for(benchmark::State& state, bool tls) {
  ConnectionOptions o;
  if (!tls) {
    const auto ep = require_redis(state);
    if (!ep) return std::nullopt;
    o.host = ep->host;
    o.port = ep->port;
    return o;
  }
  const auto port = env("REDISCACHE_TEST_TLS_PORT");
  const auto ca = env("REDISCACHE_TEST_TLS_CA_FILE");
  if (!port || !ca) {
    state.SkipWithError("REDISCACHE_TEST_TLS_PORT/CA_FILE not set: no TLS redis-server");
    return std::nullopt;
  }
  o.host = env("REDISCACHE_TEST_TLS_HOST").value_or("127.0.0.1");
  o.port = std::atoi(port->c_str());
  o.tls.enabled = true;
  o.tls.ca_file = *ca;
  return o;
}

// One client per transport for the whole program, so that connects are not measured.
Client& client_for(const ConnectionOptions& options, bool tls) {
  static std::unique_ptr<Client> clients[2];
  auto& slot = clients[tls ? 1 : 0];
  if (!slot) slot = std::make_unique<Client>(options);
  return *slot;
}

void get_loop(benchmark::State& state, bool tls) {
  const auto options = options_for(state, tls);
  if (!options) return;
  Client& client = client_for(*options, tls);
  const std::string key = "bench:tls:get";
  client.set(key, value_of(kValueSize));
  for (auto _ : state) {
    auto value = client.get(key);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void pipeline_loop(benchmark::State& state, bool tls) {
  const auto options = options_for(state, tls);
  if (!options) return;
  Client& client = client_for(*options, tls);
  const std::string key = "bench:tls:pipe";
  client.set(key, value_of(kValueSize));
  Pipeline pipeline = client.pipeline();
  for (auto _ : state) {
    for (int i = 0; i < kPipelineDepth; ++i) pipeline.get(key);
    auto replies = pipeline.exec();
    benchmark::DoNotOptimize(replies);
  }
  state.SetItemsProcessed(state.iterations() * kPipelineDepth);
}

// A pool's reconnect: the lease's connection is dropped, so every lease opens a new one (a TLS
// pool offers the session it kept from the previous connection).
void reconnect_loop(benchmark::State& state, bool tls) {
  const auto options = options_for(state, tls);
  if (!options) return;
  PoolOptions pool_options;
  pool_options.size = 1;
  ConnectionPool pool(*options, pool_options);
  {
    Lease warm = pool.lease();  // the first, full handshake is not measured
    warm.command({"PING"});
    warm.discard();
  }
  for (auto _ : state) {
    Lease lease = pool.lease();
    benchmark::DoNotOptimize(lease.command({"PING"}));
    lease.discard();
  }
  state.SetItemsProcessed(state.iterations());
}

// A new pool's first connection: for TLS, building the pool's TLS context (CA file) and a full
// handshake, as a process start or a new node does.
void new_pool_loop(benchmark::State& state, bool tls) {
  const auto options = options_for(state, tls);
  if (!options) return;
  PoolOptions pool_options;
  pool_options.size = 1;
  for (auto _ : state) {
    ConnectionPool pool(*options, pool_options);
    Lease lease = pool.lease();
    benchmark::DoNotOptimize(lease.command({"PING"}));
    lease.discard();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Plain_Get(benchmark::State& state) { get_loop(state, false); }
void BM_Tls_Get(benchmark::State& state) { get_loop(state, true); }
void BM_Plain_Pipeline100Get(benchmark::State& state) { pipeline_loop(state, false); }
void BM_Tls_Pipeline100Get(benchmark::State& state) { pipeline_loop(state, true); }
void BM_Plain_Reconnect(benchmark::State& state) { reconnect_loop(state, false); }
void BM_TlsResumed_Reconnect(benchmark::State& state) { reconnect_loop(state, true); }
void BM_Plain_NewPoolConnect(benchmark::State& state) { new_pool_loop(state, false); }
void BM_TlsFullHandshake_NewPoolConnect(benchmark::State& state) { new_pool_loop(state, true); }

// Wall-clock time: the client mostly waits on the server.
BENCHMARK(BM_Plain_Get)->UseRealTime();
BENCHMARK(BM_Tls_Get)->UseRealTime();
BENCHMARK(BM_Plain_Pipeline100Get)->UseRealTime();
BENCHMARK(BM_Tls_Pipeline100Get)->UseRealTime();
BENCHMARK(BM_Plain_Reconnect)->UseRealTime();
BENCHMARK(BM_TlsResumed_Reconnect)->UseRealTime();
BENCHMARK(BM_Plain_NewPoolConnect)->UseRealTime();
BENCHMARK(BM_TlsFullHandshake_NewPoolConnect)->UseRealTime();

}  // namespace
}  // namespace rediscache::bench

REDISCACHE_BENCH_MAIN()
