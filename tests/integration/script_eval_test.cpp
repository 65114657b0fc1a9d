// Client::eval: EVALSHA first, EVAL when the server lacks the script.
#include <string>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using ScriptEval = rediscache::test::RedisTest;

TEST_F(ScriptEval, RunsWithKeysAndArgs_AfterScriptFlushToo) {
  // SCRIPT FLUSH/EXISTS are per-node admin commands: on a cluster they reach one node only.
  REDISCACHE_SINGLE_NODE_ONLY();
  static const rediscache::Script kSetAndEcho(
      "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); return redis.call('GET', KEYS[1])");
  EXPECT_EQ(client().eval(kSetAndEcho, {key("s")}, {"v1", "60000"}).str, "v1");
  client().command({"SCRIPT", "FLUSH"});  // forces the NOSCRIPT fallback
  EXPECT_EQ(client().eval(kSetAndEcho, {key("s")}, {"v2", "60000"}).str, "v2");
  EXPECT_EQ(client().command({"SCRIPT", "EXISTS", kSetAndEcho.sha1()}).elements[0].integer, 1);
}

TEST_F(ScriptEval, ScriptError_ThrowsReplyError) {
  static const rediscache::Script kFails("return redis.error_reply('MYERR custom failure')");
  try {
    client().eval(kFails);
    FAIL() << "expected ReplyError";
  } catch (const rediscache::ReplyError& e) {
    EXPECT_EQ(e.server_code(), "MYERR");
  }
}

TEST_F(ScriptEval, ReturnsArraysAndIntegers) {
  static const rediscache::Script kArray("return {1, 'two', {3}}");
  const auto reply = client().eval(kArray);
  ASSERT_TRUE(reply.is_array());
  EXPECT_EQ(reply.elements[0].integer, 1);
  EXPECT_EQ(reply.elements[1].str, "two");
  EXPECT_EQ(reply.elements[2].elements[0].integer, 3);
}

}  // namespace
