// Unit tests of WindowClimber, the hill climber that sizes W-TinyLFU's admission window: fed
// hit rates directly, it keeps its direction while they rise, turns back when they fall, decays
// its step, restarts it on large changes, and stays within its bounds.
#include "near/window_climber.hpp"

#include <cmath>
#include <cstddef>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

TEST(WindowClimberTest, Construct_InitialWindow_ClampedToBounds) {
  EXPECT_EQ(WindowClimber(1000, 10).window(), 10u);
  EXPECT_EQ(WindowClimber(1000, 0).window(), 1u);
  EXPECT_EQ(WindowClimber(1000, 5000).window(), 999u);
  const WindowClimber c(1000, 10);
  EXPECT_EQ(c.min_window(), 1u);
  EXPECT_EQ(c.max_window(), 999u);
  EXPECT_EQ(c.sample_size(), 1000 * WindowClimber::kSamplesPerEntry);
  EXPECT_GT(c.step(), 0.0);  // a small window first grows
}

TEST(WindowClimberTest, Adjust_HitRateRises_KeepsGrowing) {
  WindowClimber c(1000, 10);
  std::size_t last = c.window();
  for (double rate : {0.10, 0.12, 0.14, 0.16}) {
    EXPECT_TRUE(c.adjust(rate));
    EXPECT_GT(c.window(), last);
    last = c.window();
  }
}

TEST(WindowClimberTest, Adjust_HitRateFalls_ReversesDirection) {
  WindowClimber c(1000, 10);
  c.adjust(0.30);  // grows
  c.adjust(0.31);  // grows
  const std::size_t before = c.window();
  c.adjust(0.29);  // fell: this step already goes back
  EXPECT_LT(c.window(), before);
  EXPECT_LT(c.step(), 0.0);
  const std::size_t after = c.window();
  c.adjust(0.30);  // rose again while shrinking: keeps shrinking
  EXPECT_LT(c.window(), after);
  c.adjust(0.28);  // fell: grows again
  EXPECT_GT(c.step(), 0.0);
}

TEST(WindowClimberTest, Adjust_SmallChanges_StepDecays) {
  WindowClimber c(1000, 10);
  c.adjust(0.50);  // a large change from nothing: full step
  const double full = c.step();
  EXPECT_DOUBLE_EQ(std::abs(full), WindowClimber::kStepShare * 1000);
  c.adjust(0.51);
  EXPECT_DOUBLE_EQ(c.step(), full * WindowClimber::kStepDecay);
  c.adjust(0.52);
  EXPECT_DOUBLE_EQ(c.step(), full * WindowClimber::kStepDecay * WindowClimber::kStepDecay);
}

TEST(WindowClimberTest, Adjust_LargeChange_RestartsFullStep) {
  WindowClimber c(1000, 10);
  c.adjust(0.50);
  for (int i = 0; i < 50; ++i) c.adjust(0.50 + 0.001 * (i % 2));
  EXPECT_LT(std::abs(c.step()), WindowClimber::kStepShare * 1000 * 0.5);
  c.adjust(0.20);  // the workload changed: a fall of 0.3 restarts the step, going back
  EXPECT_DOUBLE_EQ(c.step(), -WindowClimber::kStepShare * 1000);
  c.adjust(0.60);  // a rise of 0.4: full step, same direction
  EXPECT_DOUBLE_EQ(c.step(), -WindowClimber::kStepShare * 1000);
}

TEST(WindowClimberTest, Adjust_EndlessRiseOrFall_StaysWithinBounds) {
  WindowClimber grow(100, 1);
  for (int i = 0; i < 1000; ++i) grow.adjust(0.001 * i);  // always rising: keeps growing
  EXPECT_EQ(grow.window(), grow.max_window());
  EXPECT_EQ(grow.window(), 99u);

  WindowClimber shrink(100, 50);
  shrink.adjust(0.9);
  shrink.adjust(0.8);                                 // fell: now shrinking
  for (int i = 0; i < 1000; ++i) shrink.adjust(0.8);  // holds: keeps shrinking
  EXPECT_EQ(shrink.window(), shrink.min_window());
  EXPECT_EQ(shrink.window(), 1u);
}

TEST(WindowClimberTest, Record_AdjustsOnlyAtTheEndOfASamplePeriod) {
  WindowClimber c(100, 1);
  const std::size_t period = c.sample_size();
  for (std::size_t i = 0; i + 1 < period; ++i) EXPECT_FALSE(c.record(i % 2 == 0));
  EXPECT_EQ(c.window(), 1u);
  EXPECT_TRUE(c.record(true));  // ends the period: hit rate 0.5 > 0, grows
  EXPECT_GT(c.window(), 1u);
}

TEST(WindowClimberTest, Record_CapacityBelowTwo_NeverAdapts) {
  WindowClimber c(1, 1);
  EXPECT_EQ(c.window(), 0u);
  for (int i = 0; i < 100000; ++i) EXPECT_FALSE(c.record(i % 3 == 0));
  EXPECT_FALSE(c.adjust(1.0));
  EXPECT_EQ(c.window(), 0u);
}

}  // namespace
}  // namespace rediscache::detail
