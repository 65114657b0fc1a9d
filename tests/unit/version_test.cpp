#include "rediscache/version.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

TEST(Version, MatchesHeaderMacros) {
  const std::string expected = std::to_string(REDISCACHE_VERSION_MAJOR) + "." +
                               std::to_string(REDISCACHE_VERSION_MINOR) + "." +
                               std::to_string(REDISCACHE_VERSION_PATCH);
  EXPECT_EQ(rediscache::version(), expected);
}

TEST(Version, MatchesCMakeProjectVersion) {
  // project(rediscache VERSION ...) and version.hpp must be bumped together.
  EXPECT_EQ(rediscache::version(), REDISCACHE_TEST_PROJECT_VERSION);
}

}  // namespace
