// Unit tests of WindowGhosts, which sizes W-TinyLFU's admission window from ghost entries: misses
// on keys the window rejected grow it, misses on keys the main region evicted shrink it, by
// ARC's ratio in fractional steps, within [1, capacity - 1], remembering at most `capacity`
// hashes.
#include "near/window_ghosts.hpp"

#include <cstddef>
#include <cstdint>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

// Hit count that moves the window by at least one whole entry at ratio 1.
constexpr std::uint64_t kHitsPerEntry = static_cast<std::uint64_t>(1.0 / WindowGhosts::kStepShare);

TEST(WindowGhostsTest, Construct_InitialWindow_ClampedToBounds) {
  EXPECT_EQ(WindowGhosts(1000, 10).window(), 10u);
  EXPECT_EQ(WindowGhosts(1000, 0).window(), 1u);
  EXPECT_EQ(WindowGhosts(1000, 5000).window(), 999u);
}

TEST(WindowGhostsTest, TinyCapacity_NothingToAdapt) {
  WindowGhosts g(1, 1);
  EXPECT_EQ(g.window(), 0u);
  g.window_rejected(7);
  EXPECT_FALSE(g.missed(7));
  EXPECT_EQ(g.window_ghosts(), 0u);
}

TEST(WindowGhostsTest, MissOnRejectedKey_WindowGrows) {
  WindowGhosts g(1000, 10);
  for (std::uint64_t h = 0; h < 100; ++h) g.window_rejected(h);
  for (std::uint64_t h = 0; h < 4 * kHitsPerEntry; ++h) g.missed(h);
  EXPECT_GE(g.window(), 13u);
}

TEST(WindowGhostsTest, MissOnEvictedKey_WindowShrinks) {
  WindowGhosts g(1000, 500);
  for (std::uint64_t h = 0; h < 100; ++h) g.main_evicted(h);
  for (std::uint64_t h = 0; h < 4 * kHitsPerEntry; ++h) g.missed(h);
  EXPECT_LE(g.window(), 497u);
}

TEST(WindowGhostsTest, MissOnUnknownKey_NoChange) {
  WindowGhosts g(1000, 10);
  g.window_rejected(1);
  g.main_evicted(2);
  for (std::uint64_t h = 100; h < 200; ++h) EXPECT_FALSE(g.missed(h));
  EXPECT_EQ(g.window(), 10u);
  EXPECT_EQ(g.window_ghosts(), 1u);
  EXPECT_EQ(g.main_ghosts(), 1u);
}

TEST(WindowGhostsTest, GhostHit_ForgetsTheGhost) {
  WindowGhosts g(1000, 10);
  g.window_rejected(5);
  g.missed(5);
  EXPECT_EQ(g.window_ghosts(), 0u);
  const std::size_t after = g.window();
  EXPECT_FALSE(g.missed(5));  // counted once
  EXPECT_EQ(g.window(), after);
}

TEST(WindowGhostsTest, FewerGhostsOnThisSide_LargerStep) {
  // ARC's rule: one window-side ghost against 400 main-side ones moves by 400 steps at once.
  WindowGhosts g(1000, 500);
  for (std::uint64_t h = 0; h < 400; ++h) g.main_evicted(h);
  g.window_rejected(10'000);
  EXPECT_TRUE(g.missed(10'000));
  EXPECT_EQ(g.window(), 500u + static_cast<std::size_t>(400 * WindowGhosts::kStepShare));
}

TEST(WindowGhostsTest, StaysWithinBounds) {
  WindowGhosts grow(100, 50);
  for (std::uint64_t round = 0; round < 2000; ++round) {
    grow.window_rejected(round);
    grow.missed(round);
  }
  EXPECT_EQ(grow.window(), 99u);
  WindowGhosts shrink(100, 50);
  for (std::uint64_t round = 0; round < 2000; ++round) {
    shrink.main_evicted(round);
    shrink.missed(round);
  }
  EXPECT_EQ(shrink.window(), 1u);
}

TEST(WindowGhostsTest, RemembersAtMostCapacity_SplitLikeArc) {
  WindowGhosts g(1000, 100);
  for (std::uint64_t h = 0; h < 5000; ++h) {
    g.window_rejected(h);
    g.main_evicted(1'000'000 + h);
  }
  EXPECT_EQ(g.window_ghosts(), 900u);  // capacity - window
  EXPECT_EQ(g.main_ghosts(), 100u);    // window
  // The newest are kept: the oldest window-side ghost still remembered is 5000 - 900.
  EXPECT_FALSE(g.missed(5000 - 901));
  EXPECT_TRUE(g.missed(4999) || g.window() >= 100u);
}

TEST(WindowGhostsTest, KeyEvictedAgainFromOtherSide_CountedOnce) {
  WindowGhosts g(1000, 100);
  g.window_rejected(3);
  g.main_evicted(3);  // the same key, later evicted from main: its newest ghost counts
  EXPECT_EQ(g.window_ghosts(), 0u);
  EXPECT_EQ(g.main_ghosts(), 1u);
}

}  // namespace
}  // namespace rediscache::detail
