// Day: calendar arithmetic and key text, and the option checks of every recipe (constructors
// validate without contacting a server).
#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <rediscache/client/client.hpp>
#include <rediscache/recipes/daily_active_users.hpp>
#include <rediscache/recipes/daily_counter.hpp>
#include <rediscache/recipes/day.hpp>
#include <rediscache/recipes/follow_graph.hpp>
#include <rediscache/recipes/leaderboard.hpp>
#include <rediscache/recipes/timeline.hpp>
#include <rediscache/recipes/unique_visitors.hpp>

namespace {

using namespace std::chrono_literals;
using rediscache::recipes::Day;

// Options with a prefix and defaults elsewhere (field by field, as -Wextra wants).
template <typename Options>
Options with_prefix(const char* prefix) {
  Options options;
  options.prefix = prefix;
  return options;
}

template <typename F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(RecipesDay, FromDate_ToString_RoundTripsAcrossLeapYearsAndEras) {
  EXPECT_EQ(Day().to_string(), "1970-01-01");
  EXPECT_EQ(Day::from_date(1970, 1, 1).days_since_epoch(), 0);
  EXPECT_EQ(Day::from_date(2000, 3, 1).days_since_epoch(), 11017);
  EXPECT_EQ(Day::from_date(2024, 2, 29).to_string(), "2024-02-29");
  EXPECT_EQ(Day::from_date(1969, 12, 31).days_since_epoch(), -1);
  EXPECT_EQ(Day(-1).to_string(), "1969-12-31");
  EXPECT_EQ(Day::from_date(1, 1, 1).to_string(), "0001-01-01");
  EXPECT_EQ(Day::from_date(9999, 12, 31).to_string(), "9999-12-31");
  // Every day of four centuries survives the round trip through its text.
  for (Day d = Day::from_date(1900, 1, 1); d <= Day::from_date(2300, 12, 31); d += 1) {
    const std::string text = d.to_string();
    const Day back = Day::from_date(std::stoi(text.substr(0, 4)), std::stoi(text.substr(5, 2)),
                                    std::stoi(text.substr(8, 2)));
    ASSERT_EQ(back, d) << text;
  }
}

TEST(RecipesDay, FromDate_NonexistentDate_ThrowsNamingField) {
  EXPECT_NE(invalid_argument_message([] { Day::from_date(2023, 2, 29); }).find("day"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([] { Day::from_date(2023, 13, 1); }).find("month"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([] { Day::from_date(0, 1, 1); }).find("year"),
            std::string::npos);
  EXPECT_EQ(Day::from_date(2000, 2, 29).to_string(), "2000-02-29");  // divisible by 400
  EXPECT_THROW(Day::from_date(1900, 2, 29), std::invalid_argument);  // divisible by 100
}

TEST(RecipesDay, Of_TimePoint_FloorsToUtcDay) {
  using std::chrono::system_clock;
  EXPECT_EQ(Day::of(system_clock::time_point(86399s)), Day(0));
  EXPECT_EQ(Day::of(system_clock::time_point(86400s)), Day(1));
  EXPECT_EQ(Day::of(system_clock::time_point(-1s)), Day(-1));
  EXPECT_EQ(Day::of(system_clock::time_point(-86400s)), Day(-1));
  EXPECT_EQ(Day::of(system_clock::time_point(-86401s)), Day(-2));
  const Day today = Day::today();
  EXPECT_GE(today, Day::from_date(2024, 1, 1));
}

TEST(RecipesDay, DaysBetween_IncludesBothEnds_RejectsBadRanges) {
  const Day first = Day::from_date(2026, 2, 26);
  const auto days = rediscache::recipes::days_between(first, first + 4);
  ASSERT_EQ(days.size(), 5u);
  EXPECT_EQ(days.front().to_string(), "2026-02-26");
  EXPECT_EQ(days.back().to_string(), "2026-03-02");
  EXPECT_EQ(rediscache::recipes::days_between(first, first).size(), 1u);
  EXPECT_THROW((void)rediscache::recipes::days_between(first, first - 1), std::invalid_argument);
  EXPECT_THROW(
      (void)rediscache::recipes::days_between(first, first + rediscache::recipes::kMaxDayRange),
      std::invalid_argument);
  EXPECT_EQ(rediscache::recipes::days_between(first, first + rediscache::recipes::kMaxDayRange - 1)
                .size(),
            static_cast<std::size_t>(rediscache::recipes::kMaxDayRange));
}

TEST(RecipesOptions, Constructors_InvalidOptions_ThrowNamingField) {
  using namespace rediscache::recipes;
  const rediscache::Client client{rediscache::ConnectionOptions{}};  // never connects here

  EXPECT_NE(
      invalid_argument_message([&] { DailyCounter(client, DailyCounterOptions{}); }).find("prefix"),
      std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              DailyCounter(client, [] {
                auto o = with_prefix<DailyCounterOptions>("p:");
                o.retention = 0s;
                return o;
              }());
            }).find("retention"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              UniqueVisitors(client, [] {
                auto o = with_prefix<UniqueVisitorsOptions>("p:");
                o.merged_ttl = -1s;
                return o;
              }());
            }).find("merged_ttl"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              auto options = with_prefix<DailyActiveUsersOptions>("p:");
              options.max_user_id = std::uint64_t{1} << 32U;
              DailyActiveUsers(client, options);
            }).find("max_user_id"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              Leaderboard(client, "b", [] {
                auto o = with_prefix<LeaderboardOptions>("p:");
                o.ttl = 0s;
                return o;
              }());
            }).find("ttl"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              Leaderboard(client, "", with_prefix<LeaderboardOptions>("p:"));
            }).find("name"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message([&] {
              Timeline(client, [] {
                auto o = with_prefix<TimelineOptions>("p:");
                o.max_length = 0;
                return o;
              }());
            }).find("max_length"),
            std::string::npos);
  EXPECT_NE(
      invalid_argument_message([&] { FollowGraph(client, FollowGraphOptions{}); }).find("prefix"),
      std::string::npos);
  EXPECT_NO_THROW(DailyCounter(client, with_prefix<DailyCounterOptions>("p:")));
}

TEST(RecipesOptions, DailyActiveUsers_UserIdAboveMax_RejectedBeforeSending) {
  using namespace rediscache::recipes;
  // Port 1 would refuse a connection: the check must fire before any I/O.
  rediscache::ConnectionOptions unreachable;
  unreachable.port = 1;
  auto options = with_prefix<DailyActiveUsersOptions>("p:");
  options.max_user_id = 100;
  DailyActiveUsers dau(rediscache::Client{unreachable}, options);
  EXPECT_NE(invalid_argument_message([&] { dau.mark_active(Day(), 101); }).find("user_id"),
            std::string::npos);
  EXPECT_THROW(dau.mark_active(Day(), std::vector<std::uint64_t>{1, 2, 101}),
               std::invalid_argument);
}

}  // namespace
