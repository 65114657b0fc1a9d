// Script: SHA1 naming must match what Redis computes (SCRIPT LOAD).
#include "rediscache/client/script.hpp"

#include <string>

#include <gtest/gtest.h>

#include "util/sha1.hpp"

namespace {

TEST(Sha1, KnownVectors) {
  using rediscache::detail::sha1_hex;
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Script, Sha1_MatchesRedisScriptLoad) {
  // Value printed by `redis-cli SCRIPT LOAD "return redis.call('GET', KEYS[1])"` on Redis 7.0.
  rediscache::Script script("return redis.call('GET', KEYS[1])");
  EXPECT_EQ(script.sha1(), "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f");
}

TEST(Script, EmptySource_Throws) { EXPECT_THROW(rediscache::Script(""), std::invalid_argument); }

}  // namespace
