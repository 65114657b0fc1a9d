// CacheAside's load control: soft and hard load timeouts (stale served, LoadTimeout, the late
// result cached, many waiters in threads and processes, a bounded destructor, a saturated
// executor), and deciding loaders (LoadContext: set_ttl, do_not_cache, keep_stale).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "cache_aside_support.hpp"
#include "rediscache/cache/load_context.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)
using rediscache::LoadContext;
using rediscache::LoadTimeout;

// A loader's database call that blocks until the test opens the gate. Shared (captured by
// value) because a load may outlive the test's cache.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;  // guarded by mu
  int entered = 0;    // guarded by mu
  int returned = 0;   // guarded by mu

  void pass() {
    std::unique_lock<std::mutex> lock(mu);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void done() {
    const std::lock_guard<std::mutex> lock(mu);
    ++returned;
    cv.notify_all();
  }
  void release() {
    const std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool is_open() {
    const std::lock_guard<std::mutex> lock(mu);
    return open;
  }
  // Waits (bounded) until `n` loads have entered / returned.
  bool wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 20s, [&] { return entered >= n; });
  }
  bool wait_returned(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 20s, [&] { return returned >= n; });
  }
};

// A loader that blocks on `gate` and then returns `value`.
StringCache::Loader gated(const std::shared_ptr<Gate>& gate, std::string value) {
  return [gate, value](std::string_view) -> std::optional<std::string> {
    gate->pass();
    gate->done();
    return value;
  };
}

// A loader that must not run.
const StringCache::Loader kNoLoad = [](std::string_view) -> std::optional<std::string> {
  ADD_FAILURE() << "unexpected load";
  return std::string("unexpected");
};

// Polls (bounded) until `id` reads `want` from Redis without a load.
bool eventually_cached(StringCache& cache, const std::string& id, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto before = cache.stats().stale_served + cache.stats().hard_timeouts;
    try {
      const std::optional<std::string> got = cache.get_or_load(id, kNoLoad);
      if (got == want && cache.stats().stale_served + cache.stats().hard_timeouts == before) {
        return true;
      }
    } catch (const LoadTimeout&) {  // NOLINT(bugprone-empty-catch): still loading
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Options with a fake clock and a stale window, and an entry "old" that is expired but within
// the window.
struct StaleFixture {
  FakeClock clock;
  CacheOptions options;
  StaleFixture() {
    options = base_options();
    options.ttl = 10s;
    options.ttl_jitter = 0;
    options.stale_window = 10min;
    options.clock = clock.fn();
  }
  // Written through a cache of the same namespace without load timeouts, so that this first
  // load is never bounded.
  void make_stale(const Endpoint& ep, const std::string& id) {
    CacheOptions plain = options;
    plain.load_soft_timeout = 0ms;
    plain.load_hard_timeout = 0ms;
    StringCache writer(make_client(ep), plain);
    ASSERT_EQ(
        writer.get_or_load(
            id, [](std::string_view) -> std::optional<std::string> { return std::string("old"); }),
        "old");
    clock.advance(20s);  // expired, well inside the window
  }
};

TEST(CacheAsideLoadControl, LoadSoftTimeout_StaleCopy_ServedWhileLoadGoesOnAndLateResultCached) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StaleFixture f;
  f.options.load_soft_timeout = 100ms;
  StringCache cache(make_client(ep), f.options);
  const NamespaceCleanup cleanup{ep, f.options.name};
  f.make_stale(ep, "s");
  auto gate = std::make_shared<Gate>();
  EXPECT_EQ(cache.get_or_load("s", gated(gate, "new")), "old");
  EXPECT_FALSE(gate->is_open());  // returned while the loader was still blocked
  EXPECT_EQ(cache.stats().soft_timeouts, 1u);
  EXPECT_EQ(cache.stats().stale_served, 1u);
  // A second reader joins the same load (no second load) and is bounded the same way.
  EXPECT_EQ(cache.get_or_load("s", kNoLoad), "old");
  EXPECT_EQ(cache.stats().soft_timeouts, 2u);
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "s", "new"));
  EXPECT_EQ(cache.stats().loads, 1u);  // "new", once
}

TEST(CacheAsideLoadControl, LoadSoftTimeout_NoStaleCopy_WaitsForLoader) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_soft_timeout = 50ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  std::thread opener([&] {
    gate->wait_entered(1);
    std::this_thread::sleep_for(300ms);  // well past the soft timeout
    gate->release();
  });
  EXPECT_EQ(cache.get_or_load("n", gated(gate, "v")), "v");
  opener.join();
  EXPECT_EQ(cache.stats().soft_timeouts, 0u);
  EXPECT_EQ(cache.stats().stale_served, 0u);
  EXPECT_EQ(cache.get_or_load("n", kNoLoad), "v");
}

TEST(CacheAsideLoadControl, LoadHardTimeout_NoStale_LoadTimeoutThenLateResultCached) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_hard_timeout = 200ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  try {
    cache.get_or_load("h", gated(gate, "late"));
    ADD_FAILURE() << "expected LoadTimeout";
  } catch (const LoadTimeout& e) {
    EXPECT_EQ(e.code(), rediscache::Errc::kLoadTimeout);
    EXPECT_NE(std::string(e.what()).find("CacheOptions::load_hard_timeout"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("\"h\""), std::string::npos);
  }
  EXPECT_FALSE(gate->is_open());
  EXPECT_EQ(cache.stats().hard_timeouts, 1u);
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "h", "late"));
  EXPECT_EQ(cache.stats().loads, 1u);
}

TEST(CacheAsideLoadControl, LoadHardTimeout_StaleCopy_ServedAtTheBound) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StaleFixture f;
  f.options.load_hard_timeout = 150ms;
  StringCache cache(make_client(ep), f.options);
  const NamespaceCleanup cleanup{ep, f.options.name};
  f.make_stale(ep, "s");
  auto gate = std::make_shared<Gate>();
  EXPECT_EQ(cache.get_or_load("s", gated(gate, "new")), "old");
  EXPECT_EQ(cache.stats().hard_timeouts, 1u);
  EXPECT_EQ(cache.stats().soft_timeouts, 0u);
  EXPECT_EQ(cache.stats().stale_served, 1u);
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "s", "new"));
}

TEST(CacheAsideLoadControl, LoadHardTimeout_ManyThreads_AllBoundedOneLoad) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_hard_timeout = 200ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  const StringCache::Loader loader = gated(gate, "v");
  constexpr int kThreads = 16;
  std::atomic<int> timed_out{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      try {
        cache.get_or_load("hot", loader);
      } catch (const LoadTimeout&) {
        ++timed_out;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(gate->is_open());  // nobody waited for the loader
  EXPECT_EQ(timed_out.load(), kThreads);
  EXPECT_EQ(cache.stats().loads, 1u);
  EXPECT_EQ(cache.stats().hard_timeouts, static_cast<std::uint64_t>(kThreads));
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "hot", "v"));
  EXPECT_EQ(cache.stats().loads, 1u);
}

TEST(CacheAsideLoadControl, LoadHardTimeout_ForkedProcessesPollingALease_Bounded) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const CacheOptions options = base_options();
  const NamespaceCleanup cleanup{ep, options.name};
  std::string lock_key;
  {
    const StringCache probe(make_client(ep), options);
    lock_key = lock_key_of(probe, "leased");
  }
  // Another process holds the lease (and never writes): the children poll for it.
  Client client = make_client(ep);
  rediscache::SetOptions px;
  px.ttl = 60s;
  ASSERT_TRUE(client.set(lock_key, "someone-else", px));
  constexpr int kProcesses = 3;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char byte = 0;
      while (::read(go[0], &byte, 1) > 0) {
      }
      int code = 100;
      try {
        CacheOptions child_options = options;
        child_options.lock.max_wait = 30s;  // far beyond the hard timeout
        child_options.load_hard_timeout = 300ms;
        StringCache cache(make_client(ep), child_options);
        std::atomic<int> bounded{0};
        std::atomic<int> loads{0};
        const StringCache::Loader loader = [&](std::string_view) -> std::optional<std::string> {
          ++loads;
          return std::string("mine");
        };
        std::vector<std::thread> threads;
        threads.reserve(4);
        for (int t = 0; t < 4; ++t) {
          threads.emplace_back([&] {
            try {
              cache.get_or_load("leased", loader);
            } catch (const LoadTimeout&) {
              ++bounded;
            }
          });
        }
        for (std::thread& t : threads) t.join();
        code = (bounded.load() == 4 && loads.load() == 0) ? 0 : 101;
        // The destructor waits (bounded) for the background poll, which holds on to
        // lock.max_wait; leave without it, as a crashing process would.
        ::_exit(code);
      } catch (...) {
        code = 102;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "101: a caller was not bounded or loaded; 102: threw";
  }
  client.del({lock_key});
}

TEST(CacheAsideLoadControl, Destructor_LoadStillRunning_ReturnsWithinBound) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_hard_timeout = 200ms;
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  std::string key;
  {
    StringCache cache(make_client(ep), options);
    key = cache.key_for("d");
    EXPECT_THROW(cache.get_or_load("d", gated(gate, "v")), LoadTimeout);
    ASSERT_TRUE(gate->wait_entered(1));
  }  // the loader is still blocked: the destructor waits for it at most the hard timeout
  EXPECT_FALSE(gate->is_open());
  gate->release();
  ASSERT_TRUE(gate->wait_returned(1));
  std::this_thread::sleep_for(100ms);  // the abandoned load drops its result
  Client client = make_client(ep);
  EXPECT_FALSE(client.get(key).has_value());
}

TEST(CacheAsideLoadControl, BackgroundLoads_AllBusy_CallersStillBoundedNothingGrows) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_hard_timeout = 200ms;
  options.max_background_loads = 1;  // one thread, a queue of one
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  std::atomic<int> other_loads{0};
  const StringCache::Loader other = [&other_loads](std::string_view) -> std::optional<std::string> {
    ++other_loads;
    return std::string("other");
  };
  EXPECT_THROW(cache.get_or_load("hung", gated(gate, "v")), LoadTimeout);  // holds the thread
  ASSERT_TRUE(gate->wait_entered(1));
  EXPECT_THROW(cache.get_or_load("queued", other), LoadTimeout);    // waits in the queue
  EXPECT_THROW(cache.get_or_load("rejected", other), LoadTimeout);  // no room at all
  EXPECT_EQ(cache.stats().background_loads_rejected, 1u);
  EXPECT_EQ(other_loads.load(), 0);
  gate->release();
  // The queued load runs once the thread is free; the rejected one never started.
  EXPECT_TRUE(eventually_cached(cache, "queued", "other"));
  EXPECT_EQ(other_loads.load(), 1);
  std::optional<std::string> again;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!again && std::chrono::steady_clock::now() < deadline) {
    try {
      again = cache.get_or_load("rejected", other);  // a new load now that there is room
    } catch (const LoadTimeout&) {  // NOLINT(bugprone-empty-catch): a busy machine; retry
    }
  }
  EXPECT_EQ(again, "other");
  EXPECT_EQ(other_loads.load(), 2);
}

TEST(CacheAsideLoadControl, GetMany_LoadHardTimeout_LoadTimeoutThenLateResultCached) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.load_hard_timeout = 200ms;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  auto gate = std::make_shared<Gate>();
  const StringCache::BatchLoader loader = [gate](const std::vector<std::string>& ids) {
    gate->pass();
    std::unordered_map<std::string, std::string> out;
    for (const std::string& id : ids) out.emplace(id, "v-" + id);
    gate->done();
    return out;
  };
  EXPECT_THROW(cache.get_many({"a", "b"}, loader), LoadTimeout);
  EXPECT_FALSE(gate->is_open());
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "a", "v-a"));
  EXPECT_TRUE(eventually_cached(cache, "b", "v-b"));
  EXPECT_EQ(cache.stats().loads, 1u);
}

TEST(CacheAsideLoadControl, GetMany_LoadSoftTimeout_AllStale_ServedStale) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StaleFixture f;
  f.options.load_soft_timeout = 100ms;
  StringCache cache(make_client(ep), f.options);
  const NamespaceCleanup cleanup{ep, f.options.name};
  f.make_stale(ep, "s");
  auto gate = std::make_shared<Gate>();
  const StringCache::BatchLoader loader = [gate](const std::vector<std::string>& ids) {
    gate->pass();
    std::unordered_map<std::string, std::string> out;
    for (const std::string& id : ids) out.emplace(id, "new");
    return out;
  };
  const std::vector<std::optional<std::string>> got = cache.get_many({"s"}, loader);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "old");
  EXPECT_EQ(cache.stats().soft_timeouts, 1u);
  gate->release();
  EXPECT_TRUE(eventually_cached(cache, "s", "new"));
}

// --- LoadContext ---------------------------------------------------------------------------

TEST(CacheAsideLoadControl, LoadContext_PlainLoadersResolveAsBefore) {
  const auto plain = [](std::string_view) -> std::optional<std::string> { return {}; };
  const auto generic = [](auto) -> std::optional<std::string> { return {}; };
  const auto deciding = [](LoadContext<std::string>&) -> std::optional<std::string> { return {}; };
  using Plain = decltype(plain);
  using Generic = decltype(generic);
  using Deciding = decltype(deciding);
  (void)plain;
  (void)generic;
  (void)deciding;
  static_assert(!rediscache::detail::kDecidingLoader<Plain, std::string, LoadContext<std::string>>);
  static_assert(
      !rediscache::detail::kDecidingLoader<Generic, std::string, LoadContext<std::string>>);
  static_assert(
      rediscache::detail::kDecidingLoader<Deciding, std::string, LoadContext<std::string>>);
  SUCCEED();
}

TEST(CacheAsideLoadControl, LoadContext_SetTtl_EntryKeepsThatTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());  // ttl 60 s
  const NamespaceCleanup cleanup{ep, cache.options().name};
  std::string seen_id;
  EXPECT_EQ(cache.get_or_load("t",
                              [&](LoadContext<std::string>& context) -> std::optional<std::string> {
                                seen_id = std::string(context.id());
                                EXPECT_FALSE(context.has_stale());
                                EXPECT_EQ(context.stale(), nullptr);
                                context.set_ttl(5s);
                                return std::string("short");
                              }),
            "short");
  EXPECT_EQ(seen_id, "t");
  const long long pttl = std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("t")}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 5000);
  EXPECT_EQ(cache.get_or_load("t", kNoLoad), "short");
}

TEST(CacheAsideLoadControl, LoadContext_DoNotCache_ReturnedButNotWritten) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StringCache cache(make_client(ep), base_options());
  const NamespaceCleanup cleanup{ep, cache.options().name};
  int loads = 0;
  const auto loader = [&](LoadContext<std::string>& context) -> std::optional<std::string> {
    ++loads;
    context.do_not_cache();
    return std::string("volatile");
  };
  EXPECT_EQ(cache.get_or_load("x", loader), "volatile");
  EXPECT_EQ(cache.get_or_load("x", loader), "volatile");
  EXPECT_EQ(loads, 2);
  Client client = make_client(ep);
  EXPECT_FALSE(client.get(cache.key_for("x")).has_value());
  EXPECT_FALSE(client.exists({lock_key_of(cache, "x")}) != 0);  // the lease was given back
}

TEST(CacheAsideLoadControl, LoadContext_KeepStale_RewritesStaleWithFreshTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StaleFixture f;
  StringCache cache(make_client(ep), f.options);
  const NamespaceCleanup cleanup{ep, f.options.name};
  f.make_stale(ep, "k");
  EXPECT_EQ(cache.get_or_load("k",
                              [](LoadContext<std::string>& context) -> std::optional<std::string> {
                                EXPECT_TRUE(context.has_stale());
                                EXPECT_NE(context.stale(), nullptr);
                                if (context.stale() != nullptr && *context.stale() == "old") {
                                  context.keep_stale();  // "unchanged"
                                }
                                return std::nullopt;
                              }),
            "old");
  EXPECT_EQ(cache.stats().stale_kept, 1u);
  // Fresh again for another TTL: a hit, no load.
  EXPECT_EQ(cache.get_or_load("k", kNoLoad), "old");
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(CacheAsideLoadControl, LoadContext_InvalidTtlOrKeepStaleWithoutStale_ThrowsFromLoader) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheOptions options = base_options();
  options.max_ttl = 1h;
  StringCache cache(make_client(ep), options);
  const NamespaceCleanup cleanup{ep, options.name};
  for (const milliseconds bad : {milliseconds(0), milliseconds(-5), milliseconds(2h)}) {
    try {
      cache.get_or_load("i",
                        [bad](LoadContext<std::string>& context) -> std::optional<std::string> {
                          context.set_ttl(bad);
                          return std::string("v");
                        });
      ADD_FAILURE() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("LoadContext::ttl"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(
      cache.get_or_load("i",
                        [](LoadContext<std::string>& context) -> std::optional<std::string> {
                          context.keep_stale();
                          return std::nullopt;
                        }),
      std::logic_error);
  Client client = make_client(ep);
  EXPECT_FALSE(client.get(cache.key_for("i")).has_value());
}

TEST(CacheAsideLoadControl, LoadContext_GetMany_DecisionsPerId) {
  REDISCACHE_REQUIRE_REDIS(ep);
  StaleFixture f;
  StringCache cache(make_client(ep), f.options);
  const NamespaceCleanup cleanup{ep, f.options.name};
  f.make_stale(ep, "kept");
  const auto loader = [](std::vector<LoadContext<std::string>>& contexts) {
    std::unordered_map<std::string, std::string> out;
    for (LoadContext<std::string>& context : contexts) {
      const std::string id(context.id());
      if (id == "kept") {
        context.keep_stale();
        continue;
      }
      if (id == "short") context.set_ttl(3s);
      if (id == "skip") context.do_not_cache();
      out.emplace(id, "v-" + id);
    }
    return out;
  };
  const std::vector<std::optional<std::string>> got =
      cache.get_many({"kept", "short", "skip", "plain"}, loader);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "old");
  EXPECT_EQ(got[1], "v-short");
  EXPECT_EQ(got[2], "v-skip");
  EXPECT_EQ(got[3], "v-plain");
  Client client = make_client(ep);
  EXPECT_FALSE(client.get(cache.key_for("skip")).has_value());
  const long long short_pttl = std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("short")}));
  EXPECT_GT(short_pttl, 0);
  EXPECT_LE(short_pttl, 3000 + 600'000);  // ttl + stale window
  const long long plain_pttl = std::stoll(raw_key_command(ep, {"PTTL", cache.key_for("plain")}));
  EXPECT_GT(plain_pttl, short_pttl);
  EXPECT_EQ(cache.get_or_load("kept", kNoLoad), "old");  // fresh again
  EXPECT_EQ(cache.stats().stale_kept, 1u);
}

// --- Options ------------------------------------------------------------------------------

TEST(CacheAsideLoadControl, Options_TimeoutsValidatedNamingTheField) {
  const auto message = [](const CacheOptions& options) -> std::string {
    try {
      options.validate();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  CacheOptions options = base_options();
  options.load_soft_timeout = 500ms;
  options.load_hard_timeout = 500ms;
  EXPECT_NE(message(options).find("CacheOptions::load_soft_timeout"), std::string::npos);
  options.load_soft_timeout = 100ms;
  EXPECT_EQ(message(options), "");
  options.load_hard_timeout = std::chrono::hours(24 * 366);
  EXPECT_NE(message(options).find("CacheOptions::load_hard_timeout"), std::string::npos);
  options.load_hard_timeout = -1ms;
  EXPECT_NE(message(options).find("CacheOptions::load_hard_timeout"), std::string::npos);
  options.load_hard_timeout = 0ms;
  options.max_background_loads = 0;
  EXPECT_NE(message(options).find("CacheOptions::max_background_loads"), std::string::npos);
  options.max_background_loads = 65;
  EXPECT_NE(message(options).find("CacheOptions::max_background_loads"), std::string::npos);
  options.max_background_loads = 4;
  options.max_ttl = 0ms;
  EXPECT_NE(message(options).find("CacheOptions::max_ttl"), std::string::npos);
}

}  // namespace
