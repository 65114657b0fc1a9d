// CacheAside against raw hiredis and against itself, same server, same run:
// - a hit of a ~200-byte JSON object (decoded) vs a raw GET of the same JSON decoded with
//   nlohmann_json; the *Bytes variants cache std::string (no JSON), which separates the policy's
//   own cost from the codec's;
// - BM_Lib_TaggedHit: a hit of the same object carrying two tags, vs the untagged hit
//   (BM_Untagged_) and the raw GET + decode;
// - get_many of 100 keys vs 100 sequential get_or_load calls, vs a raw MGET of the same objects
//   (each decoded), and vs redis-benchmark -P 100 (scripts/bench, no decoding: the ceiling of
//   the round trip); *Miss100: the miss path of a batch, with and without leases;
// - BM_SoftStale_CacheAsideHit: a read of an expired entry whose loader hangs, served stale at
//   load_soft_timeout (1 ms), against the fresh hit: its cost is the GET plus the soft timeout;
// - BM_Lib_NearHit / BM_Shared_NearHit: the same object from a near tier, which holds it decoded
//   (copied for the caller, or shared), against the raw GET + decode.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_common.hpp"
#include "rediscache/cache/cache_aside.hpp"

namespace bench_model {

// About 200 bytes of JSON: a typical catalogue entry.
struct Product {
  int id = 0;
  std::string name;
  std::string description;
  double price = 0;
  int stock = 0;
  std::vector<std::string> tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Product, id, name, description, price, stock, tags)

}  // namespace bench_model

namespace rediscache::bench {
namespace {

using bench_model::Product;
constexpr int kBatch = 100;

Product product(int id) {
  return Product{id,
                 "Espresso machine " + std::to_string(id),
                 "Dual boiler, PID temperature control, 58 mm portafilter, 2 l water tank.",
                 649.90,
                 17,
                 {"kitchen", "coffee", "appliances"}};
}

std::atomic<long> g_loads{0};

std::optional<Product> load_product(std::string_view id) {
  g_loads.fetch_add(1, std::memory_order_relaxed);
  return product(std::stoi(std::string(id)));
}

std::unordered_map<std::string, Product> load_products(const std::vector<std::string>& ids) {
  std::unordered_map<std::string, Product> out;
  for (const auto& id : ids) {
    g_loads.fetch_add(1, std::memory_order_relaxed);
    out.emplace(id, product(std::stoi(id)));
  }
  return out;
}

CacheAside<Product>& cache(const Endpoint& ep) {
  static CacheAside<Product>* instance = [&] {
    CacheOptions options;
    options.name = "bench-products";
    options.ttl = std::chrono::hours(1);
    return new CacheAside<Product>(shared_client(ep, 1), options);
  }();
  return *instance;
}

std::vector<std::string> ids(int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(std::to_string(i + 1));
  return out;
}

// Loads every id once so that the measured calls are hits.
void warm(const Endpoint& ep) { cache(ep).get_many(ids(kBatch), load_products); }

// What a raw hiredis user stores for the same product: its JSON text under a key of its own.
std::string raw_key(const std::string& id) { return "bench-raw:product:" + id; }

void store_raw_products(const Endpoint& ep) {
  RawContext c = raw_connect(ep);
  for (const auto& id : ids(kBatch)) {
    raw_command(c.get(), {"SET", raw_key(id), nlohmann::json(product(std::stoi(id))).dump()});
  }
}

// The raw baseline does the decoding CacheAside<Product> does: GET, then nlohmann::json::parse
// and get<Product>() (a raw user's natural code). BM_Raw_CacheAsideHitBytes has no decoding.
void raw_product_hits(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  store_raw_products(*ep);
  const std::string key = raw_key("1");
  RawContext c = raw_connect(*ep);
  const char* argv[] = {"GET", key.c_str()};
  const size_t lens[] = {3, key.size()};
  for (auto _ : state) {
    RawReply r(static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens)));
    if (!r || r->type != REDIS_REPLY_STRING) {
      state.SkipWithError("raw GET did not return the product");
      break;
    }
    Product value = nlohmann::json::parse(std::string_view(r->str, r->len)).get<Product>();
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Raw_CacheAsideHit(benchmark::State& state) { raw_product_hits(state); }

void product_hits(benchmark::State& state, CacheAside<Product>& cache) {
  const long loads_before = g_loads.load();
  for (auto _ : state) {
    auto value = cache.get_or_load("1", load_product);
    benchmark::DoNotOptimize(value);
  }
  if (g_loads.load() != loads_before) state.SkipWithError("a hit called the loader");
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_CacheAsideHit(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  warm(*ep);
  product_hits(state, cache(*ep));
}

// The same product with two tags (CacheOptions::tags): a hit reads the entry and both tags'
// stamps in one round trip (GET + MGET pipelined).
CacheAside<Product>& tagged_cache(const Endpoint& ep) {
  static CacheAside<Product>* instance = [&] {
    CacheOptions options;
    options.name = "bench-tagged-products";
    options.ttl = std::chrono::hours(1);
    options.tags = TagOptions{};
    options.tags->name_space = "bench-tags";
    auto* cache = new CacheAside<Product>(shared_client(ep, 1), options);
    cache->set("1", product(1), {"tenant:1", "category:coffee"});
    return cache;
  }();
  return *instance;
}

// Tagged hit against the untagged hit of the same object, and against the raw GET + decode.
void BM_Lib_TaggedHit(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  product_hits(state, tagged_cache(*ep));
}
void BM_Untagged_TaggedHit(benchmark::State& state) { BM_Lib_CacheAsideHit(state); }
void BM_Raw_TaggedHit(benchmark::State& state) { raw_product_hits(state); }

// The same product held by a near tier (CacheOptions::near_cache): a hit is a hash lookup of
// the decoded Product, no Redis and no JSON. BM_Lib_NearHit copies the Product for its caller
// (get_or_load returns std::optional<Product>); BM_Shared_NearHit takes a reference to the one
// immutable copy (get_or_load_shared). Both against the raw GET + decode.
CacheAside<Product>& near_cache(const Endpoint& ep) {
  static CacheAside<Product>* instance = [&] {
    CacheOptions options;
    options.name = "bench-near-products";
    options.ttl = std::chrono::hours(1);
    NearTierOptions near;
    near.cache.max_lifetime = std::chrono::minutes(10);
    near.invalidation.channel = "bench-near-products:invalidate";
    options.near_cache = near;
    auto* cache = new CacheAside<Product>(shared_client(ep, 1), options);
    // Until the listener is connected the near tier is off; then the first reads fill it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      cache->get_or_load("1", load_product);
      if (cache->stats().near.hits > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return cache;
  }();
  return *instance;
}

void near_hits(benchmark::State& state, bool shared) {
  const auto ep = require_redis(state);
  if (!ep) return;
  CacheAside<Product>& cache = near_cache(*ep);
  const long loads_before = g_loads.load();
  const std::uint64_t hits_before = cache.stats().near.hits;
  for (auto _ : state) {
    if (shared) {
      auto value = cache.get_or_load_shared("1", load_product);
      benchmark::DoNotOptimize(value);
    } else {
      auto value = cache.get_or_load("1", load_product);
      benchmark::DoNotOptimize(value);
    }
  }
  if (g_loads.load() != loads_before) state.SkipWithError("a hit called the loader");
  if (cache.stats().near.hits - hits_before < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("a read was not a near hit");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_NearHit(benchmark::State& state) { near_hits(state, false); }
void BM_Shared_NearHit(benchmark::State& state) { near_hits(state, true); }
void BM_Raw_NearHit(benchmark::State& state) { raw_product_hits(state); }

// A cache whose entries are all expired but within the stale window (its clock runs 90 minutes
// ahead of the writer's), with a 1 ms soft timeout.
CacheAside<Product>& stale_cache(const Endpoint& ep) {
  static CacheAside<Product>* instance = [&] {
    CacheOptions options;
    options.name = "bench-soft-stale";
    options.ttl = std::chrono::hours(1);
    options.ttl_jitter = 0;
    options.stale_window = std::chrono::hours(1);
    CacheAside<Product> writer(shared_client(ep, 1), options);
    writer.set("1", product(1));
    options.clock = [] { return std::chrono::system_clock::now() + std::chrono::minutes(90); };
    options.load_soft_timeout = std::chrono::milliseconds(1);
    return new CacheAside<Product>(shared_client(ep, 1), options);
  }();
  return *instance;
}

// The database never answers: every read joins the one hung load and is served stale.
std::optional<Product> hung_load(std::string_view) {
  std::this_thread::sleep_for(std::chrono::hours(24));
  return std::nullopt;
}

void BM_SoftStale_CacheAsideHit(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  CacheAside<Product>& cache = stale_cache(*ep);
  for (auto _ : state) {
    auto value = cache.get_or_load("1", hung_load);
    benchmark::DoNotOptimize(value);
  }
  if (cache.stats().soft_timeouts < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("a read was not served stale at the soft timeout");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_GetMany100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  warm(*ep);
  const auto batch = ids(kBatch);
  for (auto _ : state) {
    auto values = cache(*ep).get_many(batch, load_products);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Sequential_GetMany100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  warm(*ep);
  const auto batch = ids(kBatch);
  for (auto _ : state) {
    for (const auto& id : batch) {
      auto value = cache(*ep).get_or_load(id, load_product);
      benchmark::DoNotOptimize(value);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// MGET of the same 100 products, each decoded as BM_Raw_CacheAsideHit decodes it.
void BM_RawMget_GetMany100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  store_raw_products(*ep);
  std::vector<std::string> argv = {"MGET"};
  for (const auto& id : ids(kBatch)) argv.push_back(raw_key(id));
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  RawContext c = raw_connect(*ep);
  std::vector<Product> values(kBatch);
  for (auto _ : state) {
    RawReply r(static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(ptrs.size()), ptrs.data(), lens.data())));
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != static_cast<size_t>(kBatch)) {
      state.SkipWithError("raw MGET did not return the products");
      break;
    }
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      values[i] = nlohmann::json::parse(std::string_view(e->str, e->len)).get<Product>();
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

CacheAside<std::string>& bytes_cache(const Endpoint& ep) {
  static CacheAside<std::string>* instance = [&] {
    CacheOptions options;
    options.name = "bench-bytes";
    options.ttl = std::chrono::hours(1);
    return new CacheAside<std::string>(shared_client(ep, 1), options);
  }();
  return *instance;
}

std::optional<std::string> load_bytes(std::string_view) {
  g_loads.fetch_add(1, std::memory_order_relaxed);
  return std::string(200, 'b');
}

std::unordered_map<std::string, std::string> load_many_bytes(const std::vector<std::string>& ids) {
  std::unordered_map<std::string, std::string> out;
  for (const auto& id : ids) out.emplace(id, *load_bytes(id));
  return out;
}

void BM_Raw_CacheAsideHitBytes(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  bytes_cache(*ep).get_many(ids(kBatch), load_many_bytes);
  const std::string key = bytes_cache(*ep).key_for("1");
  raw_get_loop(state, *ep, key);
}

void BM_Lib_CacheAsideHitBytes(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  bytes_cache(*ep).get_many(ids(kBatch), load_many_bytes);
  for (auto _ : state) {
    auto value = bytes_cache(*ep).get_or_load("1", load_bytes);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_GetMany100Bytes(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const auto batch = ids(kBatch);
  bytes_cache(*ep).get_many(batch, load_many_bytes);
  for (auto _ : state) {
    auto values = bytes_cache(*ep).get_many(batch, load_many_bytes);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Sequential_GetMany100Bytes(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  const auto batch = ids(kBatch);
  bytes_cache(*ep).get_many(batch, load_many_bytes);
  for (auto _ : state) {
    for (const auto& id : batch) {
      auto value = bytes_cache(*ep).get_or_load(id, load_bytes);
      benchmark::DoNotOptimize(value);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// The miss path of a batch: 100 ids never asked for before, so every call misses, loads and
// writes back. Raw: what a hand-written cache-aside without leases sends through hiredis (one
// MGET, then 100 SET PX in one pipeline). Unleased: the library with lock.enabled off (the same
// commands). Lib: the library with its default leases (a SET NX pipeline, and the write-back
// through the store script). Entries live 5 s, so the server does not fill up.
std::atomic<long> g_fresh{0};

std::vector<std::string> fresh_ids(int n) {
  const long first = g_fresh.fetch_add(n);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (long i = first; i < first + n; ++i) out.push_back("m" + std::to_string(i));
  return out;
}

CacheAside<std::string>& miss_cache(const Endpoint& ep, bool leases) {
  const auto make = [&](const char* name, bool enabled) {
    CacheOptions options;
    options.name = name;
    options.ttl = std::chrono::seconds(5);
    options.lock.enabled = enabled;
    return new CacheAside<std::string>(shared_client(ep, 1), options);
  };
  static CacheAside<std::string>* leased = make("bench-miss", true);
  static CacheAside<std::string>* unleased = make("bench-miss-unleased", false);
  return leases ? *leased : *unleased;
}

void lib_miss_loop(benchmark::State& state, bool leases) {
  const auto ep = require_redis(state);
  if (!ep) return;
  CacheAside<std::string>& cache = miss_cache(*ep, leases);
  for (auto _ : state) {
    auto values = cache.get_many(fresh_ids(kBatch), load_many_bytes);
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Raw_GetManyMiss100(benchmark::State& state) {
  const auto ep = require_redis(state);
  if (!ep) return;
  RawContext c = raw_connect(*ep);
  const std::string value(224, 'b');  // what the library stores: 24-byte header + 200 bytes
  for (auto _ : state) {
    std::vector<std::string> argv = {"MGET"};
    for (const auto& id : fresh_ids(kBatch)) argv.push_back("bench-miss-raw:" + id);
    RawReply read = raw_command(c.get(), argv);
    benchmark::DoNotOptimize(read->elements);
    for (std::size_t i = 1; i < argv.size(); ++i) {
      const char* set[] = {"SET", argv[i].c_str(), value.data(), "PX", "5000"};
      const size_t lens[] = {3, argv[i].size(), value.size(), 2, 4};
      redisAppendCommandArgv(c.get(), 5, set, lens);
    }
    for (std::size_t i = 1; i < argv.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(c.get(), &reply) != REDIS_OK) {
        state.SkipWithError("raw pipeline failed");
        return;
      }
      freeReplyObject(reply);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Lib_GetManyMiss100(benchmark::State& state) { lib_miss_loop(state, true); }
void BM_Unleased_GetManyMiss100(benchmark::State& state) { lib_miss_loop(state, false); }

// Not paired: what decoding one ~200-byte Product costs with the default codec (JSON text
// through nlohmann), and with nlohmann's MessagePack for comparison. No Redis involved.
void BM_Codec_JsonDecode(benchmark::State& state) {
  const std::string bytes = Codec<Product>::encode(product(1));
  for (auto _ : state) {
    Product p = Codec<Product>::decode(bytes);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

void BM_Codec_MsgpackDecode(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = nlohmann::json::to_msgpack(nlohmann::json(product(1)));
  for (auto _ : state) {
    Product p = nlohmann::json::from_msgpack(bytes).get<Product>();
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

BENCHMARK(BM_Codec_JsonDecode);
BENCHMARK(BM_Codec_MsgpackDecode);
BENCHMARK(BM_Raw_CacheAsideHit)->UseRealTime();
BENCHMARK(BM_Lib_CacheAsideHit)->UseRealTime();
BENCHMARK(BM_Raw_TaggedHit)->UseRealTime();
BENCHMARK(BM_Untagged_TaggedHit)->UseRealTime();
BENCHMARK(BM_Lib_TaggedHit)->UseRealTime();
BENCHMARK(BM_SoftStale_CacheAsideHit)->UseRealTime();
BENCHMARK(BM_Raw_NearHit)->UseRealTime();
BENCHMARK(BM_Lib_NearHit)->UseRealTime();
BENCHMARK(BM_Shared_NearHit)->UseRealTime();
BENCHMARK(BM_RawMget_GetMany100)->UseRealTime();
BENCHMARK(BM_Lib_GetMany100)->UseRealTime();
BENCHMARK(BM_Sequential_GetMany100)->UseRealTime();
BENCHMARK(BM_Raw_CacheAsideHitBytes)->UseRealTime();
BENCHMARK(BM_Lib_CacheAsideHitBytes)->UseRealTime();
BENCHMARK(BM_Lib_GetMany100Bytes)->UseRealTime();
BENCHMARK(BM_Sequential_GetMany100Bytes)->UseRealTime();
BENCHMARK(BM_Raw_GetManyMiss100)->UseRealTime();
BENCHMARK(BM_Unleased_GetManyMiss100)->UseRealTime();
BENCHMARK(BM_Lib_GetManyMiss100)->UseRealTime();

}  // namespace
}  // namespace rediscache::bench

REDISCACHE_BENCH_MAIN()
