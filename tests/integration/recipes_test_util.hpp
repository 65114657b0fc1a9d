// Shared by the recipe tests: a client for the shared server, a scoped cleanup of a test's keys,
// and polling for a condition instead of fixed sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "client_factory.hpp"
#include "test_env.hpp"
#include <rediscache/client/client.hpp>

namespace rediscache::test {

/// A client of the shared server `ep`, or of the shared cluster in the cluster rerun
/// (REDISCACHE_TEST_TOPOLOGY=cluster), where unique_prefix() keeps a test's keys in one slot.
inline Client recipe_client(const Endpoint& ep, std::size_t pool_size = 8) {
  if (cluster_mode()) {
    PoolOptions pool;
    pool.size = pool_size;
    return *make_client(pool);
  }
  PoolOptions pool;
  pool.size = pool_size;
  return Client(connection_options(ep), pool);
}

/// Deletes every key under `prefix` when the test ends, pass or fail.
class KeyCleanup {
 public:
  KeyCleanup(Client client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}
  ~KeyCleanup() {
    try {
      ScanOptions options;
      options.match = prefix_ + "*";
      std::vector<std::string> keys;
      client_.scan_each(options, [&](std::string_view key) { keys.emplace_back(key); });
      if (!keys.empty()) client_.del(keys);
    } catch (...) {
      // Best effort: the keys expire or are the test's own; never mask the test's outcome.
    }
  }
  KeyCleanup(const KeyCleanup&) = delete;
  KeyCleanup& operator=(const KeyCleanup&) = delete;

  /// How many keys exist under the prefix right now.
  std::size_t count() {
    ScanOptions options;
    options.match = prefix_ + "*";
    std::size_t n = 0;
    client_.scan_each(options, [&](std::string_view) { ++n; });
    return n;
  }

 private:
  Client client_;
  std::string prefix_;
};

/// Polls `done` every 10 ms for up to `limit`; returns its last answer.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace rediscache::test
