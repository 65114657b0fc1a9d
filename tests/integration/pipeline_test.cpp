// Pipeline: one round trip, replies in order, errors confined to their command.
#include "rediscache/client/pipeline.hpp"

#include <string>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using namespace std::chrono_literals;
using PipelineTest = rediscache::test::RedisTest;

TEST_F(PipelineTest, RepliesInOrder_ErrorsPerCommand) {
  auto p = client().pipeline();
  p.set(key("a"), "1", rediscache::SetOptions{60s})
      .get(key("a"))
      .hset(key("a"), "f", "v")  // WRONGTYPE: only this slot fails
      .incrby(key("n"), 5)
      .pexpire(key("n"), 60000ms)
      .get(key("missing"))
      .del({key("n")})
      .publish(key("channel"), "m");
  EXPECT_EQ(p.size(), 8u);
  const auto replies = p.exec();
  ASSERT_EQ(replies.size(), 8u);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].str, "1");
  EXPECT_TRUE(replies[2].is_error());
  EXPECT_EQ(replies[3].integer, 5);
  EXPECT_EQ(replies[4].integer, 1);
  EXPECT_TRUE(replies[5].is_nil());
  EXPECT_EQ(replies[6].integer, 1);
  EXPECT_EQ(replies[7].integer, 0);
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(client().pool().stats().discarded, 0u);
}

TEST_F(PipelineTest, ThousandCommands_OneBatch) {
  auto p = client().pipeline();
  for (int i = 0; i < 1000; ++i) p.command({"RPUSH", key("list"), std::to_string(i)});
  const auto replies = p.exec();
  ASSERT_EQ(replies.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(replies[static_cast<std::size_t>(i)].integer, i + 1);
  EXPECT_EQ(client().lrange(key("list"), 999, 999)[0], "999");
  client().expire(key("list"), 60s);
}

TEST_F(PipelineTest, Reusable_AndEmptyExecIsFree) {
  auto p = client().pipeline();
  EXPECT_TRUE(p.exec().empty());
  p.get(key("x"));
  EXPECT_EQ(p.exec().size(), 1u);
  p.get(key("x")).get(key("y"));
  EXPECT_EQ(p.exec().size(), 2u);
  p.get(key("x"));
  p.clear();
  EXPECT_TRUE(p.exec().empty());
}

TEST_F(PipelineTest, ArgumentsMayBeTemporaries) {
  auto p = client().pipeline();
  for (int i = 0; i < 3; ++i) {
    const std::string value = "value-" + std::to_string(i);  // dies before exec()
    p.set(key(std::to_string(i)), value, rediscache::SetOptions{60s});
  }
  p.exec();
  EXPECT_EQ(client().get(key("2")).value(), "value-2");
}

}  // namespace
