// Near-cache eviction on real access traces: hit ratios of plain LRU, segmented LRU (both written
// here as references), the library's NearCache (W-TinyLFU, shards = 1, capacity = max_entries,
// nothing expiring; then split over the default, automatic shards, and over 16) and Belady's
// optimum, per trace and capacity (1 % to 20 % of its distinct keys).
//
// The traces live outside the repository, in $REDISCACHE_TRACES_DIR (default: ../shared/traces
// beside the repository; see its README.md); each is decompressed with gzip/xz into a temp dir.
// Without them the table is skipped, saying so. By default (the smoke run) only a prefix of each
// trace is replayed; `--full` or REDISCACHE_NEAR_TRACE_FULL=1 replays every access.
// `--table_out=PATH` writes the table to PATH (scripts/bench puts it into bench/RESULTS.md);
// REDISCACHE_NEAR_TRACES and REDISCACHE_NEAR_CAPACITIES choose traces and capacities.
//
// The Google Benchmark part needs no server: BM_Near_GetHit times NearCache::get() hits (16
// shards), the cost the adaptive window must not raise.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <list>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "rediscache/near/near_cache.hpp"

namespace {

using Trace = std::vector<std::uint32_t>;

constexpr std::size_t kSmokePrefix = 20000;  // accesses per trace in the smoke run
constexpr double kCapacityShares[] = {0.01, 0.025, 0.05, 0.10, 0.20};
constexpr std::size_t kAutoShards = 0;  // NearCacheOptions::shards' default
constexpr std::size_t kShards = 16;     // the most the default uses, whatever the capacity

enum class Format { kText, kBinaryInt32 };

struct TraceFile {
  const char* name;
  const char* file;
  Format format;
};

const TraceFile kTraces[] = {
    {"loop", "loop.trace.gz", Format::kText},
    {"gli", "gli.trace.gz", Format::kText},
    {"multi3", "multi3.trace.gz", Format::kText},
    {"ps", "ps.trace.gz", Format::kText},
    {"cs", "cs.trace.gz", Format::kText},
    {"web12", "web12.trace.xz", Format::kBinaryInt32},
    {"orm-busy", "orm-busy.trace.xz", Format::kBinaryInt32},
};

// Where the traces are, and how the table names that place (the default without the build's
// absolute source path, so tables from different checkouts compare).
struct TracesDir {
  std::string path;
  std::string label;
};

TracesDir traces_dir() {
  const char* dir = std::getenv("REDISCACHE_TRACES_DIR");  // NOLINT(concurrency-mt-unsafe)
  if (dir != nullptr) return {dir, dir};
  return {std::string(REDISCACHE_SOURCE_DIR) + "/../shared/traces", "../shared/traces"};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Decompresses `path` (or its first `limit` records) into a file in `tmp_dir` and reads it.
Trace load_trace(const std::string& path, Format format, const std::string& tmp_dir,
                 std::size_t limit) {
  const bool xz = path.size() > 3 && path.compare(path.size() - 3, 3, ".xz") == 0;
  const std::string out = tmp_dir + "/trace";
  std::string command = std::string(xz ? "xz" : "gzip") + " -dc '" + path + "'";
  if (limit != 0) {
    // Text: a few extra lines for the `*` markers; binary: 4 bytes per key.
    command += format == Format::kText ? " | head -n " + std::to_string(limit * 2)
                                       : " | head -c " + std::to_string(limit * 4);
  }
  command += " > '" + out + "'";
  const int status = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (status != 0) throw std::runtime_error("failed: " + command);

  Trace trace;
  std::ifstream in(out, std::ios::binary);
  if (format == Format::kText) {
    std::string line;
    while (std::getline(in, line) && (limit == 0 || trace.size() < limit)) {
      if (line.empty() || line[0] == '*') continue;
      trace.push_back(static_cast<std::uint32_t>(std::stoul(line)));
    }
  } else {
    unsigned char b[4];
    while (in.read(reinterpret_cast<char*>(b), 4) && (limit == 0 || trace.size() < limit)) {
      trace.push_back((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                      (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]});
    }
  }
  std::remove(out.c_str());
  return trace;
}

std::size_t distinct(const Trace& trace) {
  std::unordered_map<std::uint32_t, char> seen;
  seen.reserve(trace.size());
  for (std::uint32_t k : trace) seen.emplace(k, 0);
  return seen.size();
}

// --- references ----------------------------------------------------------------------------

std::size_t replay_lru(const Trace& trace, std::size_t capacity) {
  std::list<std::uint32_t> order;  // front = newest
  std::unordered_map<std::uint32_t, std::list<std::uint32_t>::iterator> index;
  index.reserve(capacity * 2);
  std::size_t hits = 0;
  for (std::uint32_t key : trace) {
    const auto found = index.find(key);
    if (found != index.end()) {
      ++hits;
      order.splice(order.begin(), order, found->second);
      continue;
    }
    if (index.size() >= capacity) {
      index.erase(order.back());
      order.pop_back();
    }
    order.push_front(key);
    index.emplace(key, order.begin());
  }
  return hits;
}

// Probation + protected (80 % of the capacity); a hit on probation promotes, the protected
// region's oldest falls back to probation; the victim is probation's oldest.
std::size_t replay_slru(const Trace& trace, std::size_t capacity) {
  using List = std::list<std::uint32_t>;
  struct Slot {
    List::iterator it;
    bool is_protected;
  };
  List probation, protected_list;
  std::unordered_map<std::uint32_t, Slot> index;
  index.reserve(capacity * 2);
  const std::size_t protected_max = std::max<std::size_t>(1, capacity * 4 / 5);
  std::size_t hits = 0;
  for (std::uint32_t key : trace) {
    const auto found = index.find(key);
    if (found != index.end()) {
      ++hits;
      Slot& slot = found->second;
      if (slot.is_protected) {
        protected_list.splice(protected_list.begin(), protected_list, slot.it);
        continue;
      }
      protected_list.splice(protected_list.begin(), probation, slot.it);
      slot.is_protected = true;
      if (protected_list.size() > protected_max) {
        const auto oldest = std::prev(protected_list.end());
        Slot& demoted = index[*oldest];
        probation.splice(probation.begin(), protected_list, oldest);
        demoted.is_protected = false;
      }
      continue;
    }
    if (index.size() >= capacity) {
      List& from = probation.empty() ? protected_list : probation;
      index.erase(from.back());
      from.pop_back();
    }
    probation.push_front(key);
    index.emplace(key, Slot{probation.begin(), false});
  }
  return hits;
}

// Belady's optimum (with bypass): on a miss with a full cache, drop whichever of the cached keys
// and the newcomer is next used furthest in the future.
std::size_t replay_belady(const Trace& trace, std::size_t capacity) {
  const std::size_t n = trace.size();
  std::vector<std::size_t> next_use(n);
  std::unordered_map<std::uint32_t, std::size_t> last;
  last.reserve(n / 4);
  for (std::size_t i = n; i-- > 0;) {
    const auto found = last.find(trace[i]);
    next_use[i] = found == last.end() ? n + i : found->second;  // never again: beyond the end
    last[trace[i]] = i;
  }
  std::set<std::pair<std::size_t, std::uint32_t>> by_next;  // (next use, key)
  std::unordered_map<std::uint32_t, std::size_t> cached;    // key -> its entry's next use
  cached.reserve(capacity * 2);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t key = trace[i];
    const auto found = cached.find(key);
    if (found != cached.end()) {
      ++hits;
      by_next.erase({found->second, key});
      found->second = next_use[i];
      by_next.emplace(next_use[i], key);
      continue;
    }
    if (cached.size() >= capacity) {
      const auto furthest = std::prev(by_next.end());
      if (furthest->first < next_use[i]) continue;  // the newcomer is the one to drop
      cached.erase(furthest->second);
      by_next.erase(furthest);
    }
    cached.emplace(key, next_use[i]);
    by_next.emplace(next_use[i], key);
  }
  return hits;
}

// --- the library ---------------------------------------------------------------------------

rediscache::NearCacheOptions near_options(std::size_t capacity, std::size_t shards) {
  rediscache::NearCacheOptions o;
  o.max_entries = capacity;
  o.max_bytes = std::size_t{1} << 40;
  o.shards = shards;
  o.max_lifetime = std::chrono::hours(24 * 365);
  const auto frozen = rediscache::NearCache::Clock::now();
  o.clock = [frozen] { return frozen; };  // nothing expires
  return o;
}

std::size_t replay_near(const Trace& trace, std::size_t capacity, std::size_t shards) {
  rediscache::NearCache near(near_options(capacity, shards));
  std::unordered_map<std::uint32_t, std::string> names;
  names.reserve(trace.size() / 4);
  std::size_t hits = 0;
  for (std::uint32_t id : trace) {
    auto [it, inserted] = names.try_emplace(id);
    if (inserted) it->second = "k:" + std::to_string(id);
    const std::string& key = it->second;
    if (near.get(key)) {
      ++hits;
      continue;
    }
    rediscache::NearCache::Fetch fetch = near.begin_fetch(key);
    near.complete(fetch, "v", std::nullopt);
  }
  return hits;
}

// The capacities replayed: 1 % to 20 % of the trace's distinct keys, or the entry counts listed
// in REDISCACHE_NEAR_CAPACITIES (e.g. "100,250,1000").
std::vector<std::size_t> capacities(std::size_t keys) {
  std::vector<std::size_t> out;
  const char* listed = std::getenv("REDISCACHE_NEAR_CAPACITIES");  // NOLINT(concurrency-mt-unsafe)
  if (listed != nullptr) {
    for (const char* p = listed; *p != '\0';) {
      char* end = nullptr;
      const unsigned long n = std::strtoul(p, &end, 10);
      if (end == p) break;
      if (n >= 2) out.push_back(n);
      p = *end == ',' ? end + 1 : end;
    }
    return out;
  }
  for (double share : kCapacityShares) {
    out.push_back(
        std::max<std::size_t>(2, static_cast<std::size_t>(static_cast<double>(keys) * share)));
  }
  return out;
}

double percent(std::size_t hits, std::size_t n) {
  return n == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(n);
}

// Prints the table to `out`; returns false when the traces are absent.
bool print_tables(bool full, std::FILE* out) {
  const TracesDir traces = traces_dir();
  const std::string& dir = traces.path;
  if (!exists(dir + "/README.md")) {
    std::fprintf(out,
                 "near_trace_bench: no traces at %s (set REDISCACHE_TRACES_DIR); table skipped\n",
                 dir.c_str());
    return false;
  }
  char tmpl[] = "/tmp/rediscache-traces-XXXXXX";
  const char* tmp = ::mkdtemp(tmpl);
  if (tmp == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string tmp_dir = tmp;

  std::fprintf(
      out,
      "Hit ratio (%%) on the traces in %s (%s). W-TinyLFU is NearCache with shards = 1, "
      "the goal's column; \"default shards\" is the same capacity split as by default (16 shards, "
      "or fewer of at least 128 entries each), \"16 shards\" split 16 ways\n\n",
      traces.label.c_str(), full ? "every access" : "first 20000 accesses of each; --full for all");
  std::fprintf(
      out,
      "| trace | accesses | capacity | LRU | SLRU | W-TinyLFU | default shards | 16 shards "
      "| Belady | W-TinyLFU/Belady | >= best-1 |\n");
  std::fprintf(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
  double ratio_sum = 0, auto_ratio_sum = 0, sharded_ratio_sum = 0;
  std::size_t rows = 0, misses = 0;
  const char* only = std::getenv("REDISCACHE_NEAR_TRACES");  // NOLINT(concurrency-mt-unsafe)
  for (const TraceFile& t : kTraces) {
    // Only the traces named in REDISCACHE_NEAR_TRACES, e.g. "web12,orm-busy".
    if (only != nullptr && ("," + std::string(only) + ",").find("," + std::string(t.name) + ",") ==
                               std::string::npos) {
      continue;
    }
    const std::string path = dir + "/" + t.file;
    if (!exists(path)) {
      std::fprintf(out, "| %s | missing | | | | | | | | | |\n", t.name);
      continue;
    }
    const Trace trace = load_trace(path, t.format, tmp_dir, full ? 0 : kSmokePrefix);
    const std::size_t keys = distinct(trace);
    std::size_t previous = 0;
    for (const std::size_t capacity : capacities(keys)) {
      if (capacity == previous) continue;
      previous = capacity;
      const double share = static_cast<double>(capacity) / static_cast<double>(keys);
      const std::size_t n = trace.size();
      const double lru = percent(replay_lru(trace, capacity), n);
      const double slru = percent(replay_slru(trace, capacity), n);
      const double near = percent(replay_near(trace, capacity, 1), n);
      const double automatic = percent(replay_near(trace, capacity, kAutoShards), n);
      const double sharded = percent(replay_near(trace, capacity, kShards), n);
      const double opt = percent(replay_belady(trace, capacity), n);
      const double ratio = opt > 0 ? near / opt : 1.0;
      const bool ok = near >= std::max(lru, slru) - 1.0;
      ratio_sum += ratio;
      auto_ratio_sum += opt > 0 ? automatic / opt : 1.0;
      sharded_ratio_sum += opt > 0 ? sharded / opt : 1.0;
      ++rows;
      if (!ok) ++misses;
      std::fprintf(out,
                   "| %s | %zu | %zu (%.1f %%) | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f | "
                   "%s |\n",
                   t.name, n, capacity, share * 100, lru, slru, near, automatic, sharded, opt,
                   ratio, ok ? "yes" : "**no**");
    }
  }
  std::fprintf(out,
               "\nW-TinyLFU/Belady on average: %.3f over %zu rows (default shards %.3f, 16 shards "
               "%.3f); %zu row(s) below the better of LRU and SLRU minus one point\n\n",
               rows ? ratio_sum / static_cast<double>(rows) : 0.0, rows,
               rows ? auto_ratio_sum / static_cast<double>(rows) : 0.0,
               rows ? sharded_ratio_sum / static_cast<double>(rows) : 0.0, misses);
  ::rmdir(tmp_dir.c_str());
  std::fflush(out);
  return true;
}

// --- Google Benchmark ----------------------------------------------------------------------

constexpr std::size_t kHitKeys = 4096;

std::vector<std::string> hit_keys() {
  std::vector<std::string> keys;
  keys.reserve(kHitKeys);
  for (std::size_t i = 0; i < kHitKeys; ++i) keys.push_back("bench:near:hit:" + std::to_string(i));
  return keys;
}

// Every get() is a hit: the near cache (16 shards, as by default at this size) holds every key. Set
// up once, outside the timed loops; CPU time, since nothing waits. The adaptive window (the
// default) runs beside its baselines in the same run: the same W-TinyLFU with the window fixed, and
// plain LRU.
enum class HitPolicy { kAdaptive, kFixedWindow, kLru };

rediscache::NearCache& hit_cache(HitPolicy policy) {
  static rediscache::NearCache* caches[3] = {nullptr, nullptr, nullptr};
  rediscache::NearCache*& near = caches[static_cast<int>(policy)];
  if (near == nullptr) {
    rediscache::NearCacheOptions o = near_options(kHitKeys * 2, 16);
    o.adaptive_window = policy == HitPolicy::kAdaptive;
    if (policy == HitPolicy::kLru) o.policy = rediscache::NearCachePolicy::kLru;
    near = new rediscache::NearCache(o);
    for (std::size_t i = 0; i < kHitKeys; ++i) {
      const std::string key = "bench:near:hit:" + std::to_string(i);
      rediscache::NearCache::Fetch fetch = near->begin_fetch(key);
      near->complete(fetch, std::string(100, 'x'), std::nullopt);
    }
  }
  return *near;
}

void run_hits(benchmark::State& state, HitPolicy policy) {
  static const std::vector<std::string> kKeys = hit_keys();
  rediscache::NearCache& near = hit_cache(policy);
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 977;
  for (auto _ : state) {
    benchmark::DoNotOptimize(near.get(kKeys[i++ & (kHitKeys - 1)]));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Near_GetHit(benchmark::State& state) { run_hits(state, HitPolicy::kAdaptive); }
void BM_Near_GetHit_FixedWindow(benchmark::State& state) {
  run_hits(state, HitPolicy::kFixedWindow);
}
void BM_Near_GetHit_Lru(benchmark::State& state) { run_hits(state, HitPolicy::kLru); }
// Set up before the threads start: hit_cache() is not thread-safe.
void set_up_hit_caches(const benchmark::State&) {
  for (HitPolicy p : {HitPolicy::kAdaptive, HitPolicy::kFixedWindow, HitPolicy::kLru}) {
    hit_cache(p);
  }
}
BENCHMARK(BM_Near_GetHit)->Setup(set_up_hit_caches)->Threads(1)->Threads(2);
BENCHMARK(BM_Near_GetHit_FixedWindow)->Setup(set_up_hit_caches)->Threads(1)->Threads(2);
BENCHMARK(BM_Near_GetHit_Lru)->Setup(set_up_hit_caches)->Threads(1)->Threads(2);

}  // namespace

int main(int argc, char** argv) {
  bool full =
      std::getenv("REDISCACHE_NEAR_TRACE_FULL") != nullptr;  // NOLINT(concurrency-mt-unsafe)
  const char* table_out = nullptr;  // --table_out=PATH: the table goes there, not to stdout
  constexpr std::string_view kTableOut = "--table_out=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--full") == 0) {
      full = true;
    } else if (std::string_view(argv[i]).substr(0, kTableOut.size()) == kTableOut) {
      table_out = argv[i] + kTableOut.size();
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::FILE* out = stdout;
  if (table_out != nullptr) {
    out = std::fopen(table_out, "w");
    if (out == nullptr) {
      std::fprintf(stderr, "near_trace_bench: cannot write %s\n", table_out);
      return 1;
    }
  }
  print_tables(full, out);
  if (out != stdout) std::fclose(out);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
