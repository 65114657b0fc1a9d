// A fixture for tests against the shared redis-server: a Client, a key prefix unique to the
// test, and removal of every key under that prefix afterwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/client.hpp"
#include "test_env.hpp"

namespace rediscache::test {

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto ep = shared_redis();
    if (!ep) {
      if (servers_required()) FAIL() << "REDISCACHE_TEST_REDIS_PORT is not set";
      GTEST_SKIP() << "no shared redis-server: set REDISCACHE_TEST_REDIS_HOST/PORT";
    }
    endpoint_ = *ep;
    options_.host = ep->host;
    options_.port = ep->port;
    client_.emplace(options_, PoolOptions{});
    prefix_ = unique_prefix();
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
