// Redlock over three private redis-servers: it keeps working with one stopped and refuses with
// two stopped, rolling back what it took.
#include "rediscache/helpers/redlock.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "helpers_test_util.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::Redlock;
using rediscache::RedlockOptions;
using rediscache::test::RedisServer;

class RedlockIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      servers_.push_back(std::make_unique<RedisServer>());
      clients_.push_back(rediscache::test::helpers_client(servers_.back()->endpoint()));
    }
    options_.ttl = 5s;
  }

  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<Client> clients_;
  RedlockOptions options_;
};

TEST_F(RedlockIntegration, AllServersUp_ExclusiveAndReleasedEverywhere) {
  Redlock redlock(clients_, options_);
  Redlock other(clients_, options_);
  EXPECT_EQ(redlock.quorum(), 2u);
  auto guard = redlock.try_lock("job");
  ASSERT_TRUE(guard.has_value());
  EXPECT_TRUE(guard->valid());
  EXPECT_GT(guard->valid_until(), std::chrono::steady_clock::now() + 4s);
  for (const auto& server : servers_) {
    EXPECT_EQ(server->command({"GET", "redlock:{job}"}), guard->token());
  }
  EXPECT_FALSE(other.try_lock("job").has_value());
  EXPECT_TRUE(other.try_lock("another-job").has_value());

  EXPECT_TRUE(guard->extend(10s));
  EXPECT_GT(guard->valid_until(), std::chrono::steady_clock::now() + 9s);
  EXPECT_TRUE(guard->unlock());
  for (const auto& server : servers_) {
    EXPECT_EQ(server->command({"EXISTS", "redlock:{job}"}), "0");
  }
  EXPECT_TRUE(other.try_lock("job").has_value());
}

TEST_F(RedlockIntegration, OneOfThreeStopped_StillLocksAndExcludes) {
  servers_[2]->stop();
  Redlock redlock(clients_, options_);
  Redlock other(clients_, options_);
  auto guard = redlock.try_lock("job");
  ASSERT_TRUE(guard.has_value());
  EXPECT_TRUE(guard->valid());
  EXPECT_FALSE(other.lock("job", 200ms).has_value());
  EXPECT_GE(redlock.stats().server_errors, 1u);
  EXPECT_TRUE(guard->unlock());
  EXPECT_TRUE(other.try_lock("job").has_value());
}

TEST_F(RedlockIntegration, TwoOfThreeStopped_RefusesAndRollsBack) {
  servers_[1]->stop();
  servers_[2]->stop();
  Redlock redlock(clients_, options_);
  EXPECT_FALSE(redlock.try_lock("job").has_value());
  EXPECT_FALSE(redlock.lock("job", 100ms).has_value());
  // The one server that granted was released again.
  EXPECT_EQ(servers_[0]->command({"EXISTS", "redlock:{job}"}), "0");
  const auto stats = redlock.stats();
  EXPECT_EQ(stats.acquisitions, 0u);
  EXPECT_GE(stats.failed_rounds, 2u);

  servers_[1]->start();  // a majority again
  EXPECT_TRUE(redlock.lock("job", 5s).has_value());
}

}  // namespace
