// Many threads on one Client: the pooled connection layer (PoolOptions::multiplex off, a pool of
// 8 connections) against multiplexing (the same pool, plus one shared, auto-pipelined connection
// once all 8 are busy), and raw hiredis with one connection per thread, at 1, 8 and 64 threads,
// for a GET of 100 bytes and for a CacheAside<User> hit (whose raw baseline decodes the same JSON
// with the same codec).
//
// BM_Raw_X: raw hiredis; BM_Pooled_X: Client, pool of 8; BM_Lib_X: Client, pool of 8 multiplexed;
// BM_RedisPlusPlus_X: redis-plus-plus 1.3.15, pool of 8, only in the build scripts/bench makes
// with REDISCACHE_BENCH_REDIS_PLUS_PLUS (from ../shared/peers; never a dependency of rediscache).
// Rows of one name differ only in threads; compare the ratios within one run (scripts/bench).
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "bench_common.hpp"
#include "rediscache/cache/cache_aside.hpp"

#ifdef REDISCACHE_BENCH_REDIS_PLUS_PLUS
#include <sw/redis++/redis++.h>
#endif

namespace bench_mux_model {

// About 100 bytes of JSON.
struct User {
  int id = 0;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, email, roles)

}  // namespace bench_mux_model

namespace rediscache::bench {
namespace {

using bench_mux_model::User;
constexpr std::size_t kPooledSize = 8;
constexpr std::size_t kValueSize = 100;
const std::string kGetKey = "bench:mux:get";

User user(int id) { return User{id, "user " + std::to_string(id), "user@example.com", {"a", "b"}}; }

std::optional<User> load_user(std::string_view id) { return user(std::stoi(std::string(id))); }

Client& client_for(const Endpoint& ep, bool multiplex) {
  Client& client = shared_client(ep, kPooledSize, true, multiplex);
  static std::once_flag seeded;
  std::call_once(seeded, [&] { client.set(kGetKey, value_of(kValueSize)); });
  return client;
}

CacheAside<User>& cache_for(const Endpoint& ep, bool multiplex) {
  static std::mutex mu;
  static std::map<bool, std::unique_ptr<CacheAside<User>>> caches;
  const std::lock_guard<std::mutex> lock(mu);
  auto& slot = caches[multiplex];
  if (!slot) {
    CacheOptions options;
    options.name = "bench-mux-users";
    options.ttl = std::chrono::hours(1);
    slot = std::make_unique<CacheAside<User>>(client_for(ep, multiplex), options);
    slot->set("1", user(1));
  }
  return *slot;
}

// --- GET of 100 bytes --------------------------------------------------------------------

void BM_Raw_Get100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  client_for(*ep, false);  // seeds the key
  raw_get_loop(state, *ep, kGetKey);
}

// Thread 0 reports commands per write on the shared connection over the run (Google Benchmark
// holds every thread at a barrier on both sides of the loop).
class BatchMeter {
 public:
  BatchMeter(benchmark::State& state, Client& client) : state_(state), client_(client) {
    if (state_.thread_index() == 0) before_ = client_.pool().stats();
  }
  void finish() {
    if (state_.thread_index() != 0) return;
    const PoolStats after = client_.pool().stats();
    const auto writes = after.multiplexed_writes - before_.multiplexed_writes;
    const auto requests = after.multiplexed_requests - before_.multiplexed_requests;
    if (writes > 0) {
      state_.counters["cmds_per_write"] =
          static_cast<double>(requests) / static_cast<double>(writes);
    }
  }

 private:
  benchmark::State& state_;
  Client& client_;
  PoolStats before_;
};

void client_gets(benchmark::State& state, bool multiplex) {
  const auto ep = require_redis(state);
  if (!ep) return;
  Client& client = client_for(*ep, multiplex);
  BatchMeter meter(state, client);
  for (auto _ : state) {
    auto value = client.get(kGetKey);
    benchmark::DoNotOptimize(value);
  }
  meter.finish();
  state.SetItemsProcessed(state.iterations());
}

void BM_Pooled_Get100(benchmark::State& state) { client_gets(state, false); }
void BM_Lib_Get100(benchmark::State& state) { client_gets(state, true); }

// --- CacheAside<User> hit ------------------------------------------------------------------

// A raw hiredis user's hit: GET the JSON, parse it, get<User>().
void BM_Raw_UserHit(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = "bench:mux:raw-user";
  RawContext c = raw_connect(*ep);
  // Every thread stores the same value: no thread reads before the key exists.
  raw_command(c.get(), {"SET", key, nlohmann::json(user(1)).dump()});
  const char* argv[] = {"GET", key.c_str()};
  const size_t lens[] = {3, key.size()};
  for (auto _ : state) {
    RawReply r(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
    if (!r || r->type != REDIS_REPLY_STRING) {
      state.SkipWithError("raw GET did not return the user");
      break;
    }
    User value = nlohmann::json::parse(std::string_view(r->str, r->len)).get<User>();
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void user_hits(benchmark::State& state, bool multiplex) {
  const auto ep = require_redis(state);
  if (!ep) return;
  CacheAside<User>& cache = cache_for(*ep, multiplex);
  BatchMeter meter(state, client_for(*ep, multiplex));
  for (auto _ : state) {
    auto value = cache.get_or_load("1", load_user);
    benchmark::DoNotOptimize(value);
  }
  meter.finish();
  state.SetItemsProcessed(state.iterations());
}

void BM_Pooled_UserHit(benchmark::State& state) { user_hits(state, false); }
void BM_Lib_UserHit(benchmark::State& state) { user_hits(state, true); }

#ifdef REDISCACHE_BENCH_REDIS_PLUS_PLUS
// --- redis-plus-plus, the peer C++ users would otherwise pick ------------------------------

sw::redis::Redis& peer_for(const Endpoint& ep) {
  static std::once_flag once;
  static std::unique_ptr<sw::redis::Redis> redis;
  std::call_once(once, [&] {
    sw::redis::ConnectionOptions connection;
    connection.host = ep.host;
    connection.port = ep.port;
    sw::redis::ConnectionPoolOptions pool;
    pool.size = kPooledSize;
    redis = std::make_unique<sw::redis::Redis>(connection, pool);
  });
  return *redis;
}

void BM_RedisPlusPlus_Get100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  client_for(*ep, false);  // seeds the key
  sw::redis::Redis& redis = peer_for(*ep);
  for (auto _ : state) {
    auto value = redis.get(kGetKey);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

// A redis-plus-plus user's hit: GET the JSON, parse it, get<User>() (as BM_Raw_UserHit).
void BM_RedisPlusPlus_UserHit(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const std::string key = "bench:mux:peer-user";
  sw::redis::Redis& redis = peer_for(*ep);
  redis.set(key, nlohmann::json(user(1)).dump());  // every thread: none reads before it exists
  for (auto _ : state) {
    auto got = redis.get(key);
    if (!got) {
      state.SkipWithError("redis-plus-plus GET did not return the user");
      break;
    }
    User value = nlohmann::json::parse(*got).get<User>();
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

#define REDISCACHE_THREADS(b) BENCHMARK(b)->UseRealTime()->Threads(1)->Threads(8)->Threads(64)
REDISCACHE_THREADS(BM_Raw_Get100);
REDISCACHE_THREADS(BM_Pooled_Get100);
REDISCACHE_THREADS(BM_Lib_Get100);
REDISCACHE_THREADS(BM_Raw_UserHit);
REDISCACHE_THREADS(BM_Pooled_UserHit);
REDISCACHE_THREADS(BM_Lib_UserHit);
#ifdef REDISCACHE_BENCH_REDIS_PLUS_PLUS
REDISCACHE_THREADS(BM_RedisPlusPlus_Get100);
REDISCACHE_THREADS(BM_RedisPlusPlus_UserHit);
#endif

}  // namespace
}  // namespace rediscache::bench

int main(int argc, char** argv) { return rediscache::bench::run_main(argc, argv); }
