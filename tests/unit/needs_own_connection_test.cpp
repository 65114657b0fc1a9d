// Which commands may share a multiplexed connection (net/multiplexer.hpp), without a server.
#include <gtest/gtest.h>

#include "net/multiplexer.hpp"

namespace rediscache::detail {
namespace {

TEST(NeedsOwnConnection, StatefulAndBlockingCommands_KeepTheirOwn) {
  for (const char* name :
       {"SELECT",  "select", "Auth",  "HELLO",   "CLIENT",    "READONLY",   "ASKING",
        "WATCH",   "MULTI",  "EXEC",  "DISCARD", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
        "MONITOR", "BLPOP",  "brpop", "BLMOVE",  "BZPOPMIN",  "WAIT",       "RESET"}) {
    EXPECT_TRUE(needs_own_connection(ArgList{name, "x"})) << name;
  }
  EXPECT_TRUE(needs_own_connection(ArgList{"XREAD", "COUNT", "1", "block", "0", "STREAMS", "s"}));
  EXPECT_TRUE(needs_own_connection(ArgList{}));
}

TEST(NeedsOwnConnection, PlainCommands_Share) {
  for (const char* name : {"GET", "SET", "MGET", "EVALSHA", "INCR", "PUBLISH", "PING", "DEL",
                           "HSET", "XADD", "ZADD", "INFO", "DEBUG", "SELECTX"}) {
    EXPECT_FALSE(needs_own_connection(ArgList{name, "x"})) << name;
  }
  EXPECT_FALSE(needs_own_connection(ArgList{"XREAD", "COUNT", "1", "STREAMS", "s", "0"}));
}

}  // namespace
}  // namespace rediscache::detail
