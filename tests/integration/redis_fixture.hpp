// A fixture for tests against the shared redis-server, or the shared cluster when
// REDISCACHE_TEST_TOPOLOGY=cluster: a Client, a key prefix unique to the test, and removal of
// every key under that prefix afterwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "rediscache/client/client.hpp"
#include "test_env.hpp"

namespace rediscache::test {

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = unique_prefix();
    if (cluster_mode()) {
      if (cluster_seeds().empty()) {
        if (servers_required()) FAIL() << "REDISCACHE_TEST_CLUSTER_SEEDS is not set";
        GTEST_SKIP() << "no shared cluster: set REDISCACHE_TEST_CLUSTER_SEEDS";
      }
      client_ = make_client();
      // Single-node helpers of a test (its own Client, raw commands) talk to the master of the
      // test's slot: every key under prefix_ lives there.
      endpoint_ = cluster_node_for(*client_, prefix_);
    } else {
      const auto ep = shared_redis();
      if (!ep) {
        if (servers_required()) FAIL() << "REDISCACHE_TEST_REDIS_PORT is not set";
        GTEST_SKIP() << "no shared redis-server: set REDISCACHE_TEST_REDIS_HOST/PORT";
      }
      endpoint_ = *ep;
    }
    options_ = connection_options(endpoint_);
    if (!client_) client_.emplace(options_, PoolOptions{});
  }

  void TearDown() override {
    if (!client_) return;
    std::vector<std::string> keys;
    ScanOptions scan;
    scan.match = prefix_ + "*";
    scan.count = 1000;
    try {
      client_->scan_each(scan, [&](std::string_view key) { keys.emplace_back(key); });
      if (!keys.empty()) client_->del(keys);
    } catch (const std::exception&) {
      // A test that broke the server cleans up after itself.
    }
  }

  [[nodiscard]] std::string key(const std::string& name) const { return prefix_ + name; }
  Client& client() { return *client_; }

  Endpoint endpoint_;
  ConnectionOptions options_;
  std::optional<Client> client_;
  std::string prefix_;
};

}  // namespace rediscache::test
