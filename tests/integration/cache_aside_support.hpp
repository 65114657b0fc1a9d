// What the CacheAside integration tests share (cache_aside*_test.cpp): options under a
// per-test namespace, a hand-moved clock, cleanup, and small inspection helpers.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/cache/cache_aside.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace cache_aside_support {

using rediscache::CacheAside;
using rediscache::CacheOptions;
using rediscache::Client;
using rediscache::ConnectionOptions;
using rediscache::RefreshMode;
using rediscache::test::Endpoint;
using rediscache::test::make_client;
using rediscache::test::raw_key_command;
using rediscache::test::RedisServer;
using rediscache::test::unique_namespace;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

using StringCache = CacheAside<std::string>;

inline CacheOptions base_options() {
  CacheOptions options;
  options.name = unique_namespace();
  options.ttl = 60s;
  return options;
}

// A wall clock the test moves by hand.
struct FakeClock {
  std::atomic<long long> ms{1'800'000'000'000};
  void advance(milliseconds d) { ms.fetch_add(d.count()); }
  std::function<std::chrono::system_clock::time_point()> fn() {
    return [this] { return std::chrono::system_clock::time_point(milliseconds(ms.load())); };
  }
};

// Deletes every key of a namespace when the test ends.
struct NamespaceCleanup {
  Endpoint ep;
  std::string name;
  ~NamespaceCleanup() {
    try {
      Client client = make_client(ep);
      rediscache::ScanOptions scan;
      scan.match = name + ":*";
      std::vector<std::string> keys;
      client.scan_each(scan, [&](std::string_view k) { keys.emplace_back(k); });
      if (!keys.empty()) client.del(keys);
    } catch (...) {  // NOLINT(bugprone-empty-catch): best effort
    }
  }
};

inline std::vector<std::string> namespace_keys(Client& client, const std::string& name) {
  rediscache::ScanOptions scan;
  scan.match = name + ":*";
  std::vector<std::string> keys;
  client.scan_each(scan, [&](std::string_view k) { keys.emplace_back(k); });
  return keys;
}

struct DbDown : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Calls of one command since the server started, from INFO commandstats.
inline long long command_calls(const RedisServer& server, const std::string& command) {
  const std::string info = server.command({"INFO", "commandstats"});
  const std::string tag = "cmdstat_" + command + ":calls=";
  const std::size_t at = info.find(tag);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + tag.size()));
}

// The lock key of an entry: "<ns>:v<N>{:<id>}" -> "<ns>:lock:v<N>{:<id>}".
inline std::string lock_key_of(const StringCache& cache, const std::string& id) {
  return cache.key_for(id).replace(cache.options().name.size(), 0, ":lock");
}

}  // namespace cache_aside_support
