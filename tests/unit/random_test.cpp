// random_token: CSPRNG bytes as URL-safe base64.
#include "util/random.hpp"

#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

namespace {

TEST(RandomToken, Default_Is128BitsUrlSafe) {
  const std::string token = rediscache::random_token();
  EXPECT_EQ(token.size(), 22u);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
}

TEST(RandomToken, Lengths) {
  EXPECT_EQ(rediscache::random_token(1).size(), 2u);
  EXPECT_EQ(rediscache::random_token(2).size(), 3u);
  EXPECT_EQ(rediscache::random_token(3).size(), 4u);
  EXPECT_EQ(rediscache::random_token(32).size(), 43u);
}

TEST(RandomToken, TenThousand_AllDistinct) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(rediscache::random_token());
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
