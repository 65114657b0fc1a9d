// Transaction: MULTI/EXEC with WATCH.
#include "rediscache/client/transaction.hpp"

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using namespace std::chrono_literals;
using TransactionTest = rediscache::test::RedisTest;

TEST_F(TransactionTest, Exec_AppliesAllAndReturnsReplies) {
  auto tx = client().transaction();
  tx.queue({"SET", key("a"), "1"}).queue({"INCR", key("a")}).queue({"HSET", key("a"), "f", "v"});
  const auto replies = tx.exec();
  ASSERT_TRUE(replies);
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_TRUE((*replies)[2].is_error());  // run-time error: Redis does not roll back
  EXPECT_EQ(client().get(key("a")).value(), "2");
}

TEST_F(TransactionTest, WatchedKeyChanged_ExecReturnsNothingAndAppliesNothing) {
  client().set(key("w"), "1");
  auto tx = client().transaction({key("w")});
  EXPECT_EQ(tx.command({"GET", key("w")}).str, "1");
  client().set(key("w"), "changed-elsewhere");
  tx.queue({"SET", key("w"), "mine"});
  EXPECT_FALSE(tx.exec());
  EXPECT_EQ(client().get(key("w")).value(), "changed-elsewhere");
}

TEST_F(TransactionTest, OptimisticIncrement_ManyThreadsCountExactly) {
  const std::string k = key("opt");
  client().set(k, "0");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        for (;;) {
          auto tx = client().transaction({k});
          const long long value = std::stoll(tx.command({"GET", k}).str);
          tx.queue({"SET", k, std::to_string(value + 1)});
          if (tx.exec()) break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(client().get(k).value(), "400");
}

TEST_F(TransactionTest, CommandRejectedWhileQueuing_AbortsWithReplyError) {
  auto tx = client().transaction();
  tx.queue({"SET", key("x"), "1"}).queue({"NOSUCHCOMMAND"});
  EXPECT_THROW(tx.exec(), rediscache::ReplyError);
  EXPECT_FALSE(client().get(key("x")));
  EXPECT_EQ(client().pool().stats().discarded, 0u);
}

TEST_F(TransactionTest, Abandoned_UnwatchesAndReturnsCleanConnection) {
  rediscache::PoolOptions p;
  p.size = 1;
  rediscache::Client c(options_, p);
  c.set(key("w"), "1");
  { auto tx = c.transaction({key("w")}); }  // destroyed without exec: UNWATCH
  c.set(key("w"), "2");
  // Same (only) connection: a fresh transaction must not be aborted by the old WATCH.
  auto tx = c.transaction();
  tx.queue({"GET", key("w")});
  const auto replies = tx.exec();
  ASSERT_TRUE(replies);
  EXPECT_EQ((*replies)[0].str, "2");
}

TEST_F(TransactionTest, FinishedTransaction_RefusesMoreWork) {
  auto tx = client().transaction();
  tx.queue({"PING"});
  ASSERT_TRUE(tx.exec());
  EXPECT_THROW(tx.queue({"PING"}), std::logic_error);
  EXPECT_THROW(tx.exec(), std::logic_error);
}

}  // namespace
