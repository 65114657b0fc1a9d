// Info: parsing INFO text into sections.
#include "rediscache/client/info.hpp"

#include <gtest/gtest.h>

namespace {

constexpr const char* kSample =
    "# Server\r\nredis_version:7.0.15\r\n\r\n# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:5\r\n"
    "instantaneous_input_kbps:0.12\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n"
    "odd line without colon\r\n";

TEST(Info, Parse_SectionsAndFields) {
  const auto info = rediscache::Info::parse(kSample);
  EXPECT_EQ(info.get("server", "redis_version").value_or(""), "7.0.15");
  EXPECT_EQ(info.get("keyspace", "db0").value_or(""), "keys=3,expires=1,avg_ttl=0");
  EXPECT_EQ(info.get_int("keyspace_hits").value_or(-1), 10);
  EXPECT_DOUBLE_EQ(info.get_double("instantaneous_input_kbps").value_or(-1), 0.12);
  EXPECT_FALSE(info.get("stats", "nope"));
  EXPECT_FALSE(info.get_int("redis_version"));
  EXPECT_EQ(info.sections().size(), 3u);
}

TEST(Info, Parse_EmptyText) { EXPECT_TRUE(rediscache::Info::parse("").sections().empty()); }

}  // namespace
