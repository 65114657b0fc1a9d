// Unit tests of single flight, with no server: one leader per key, every waiter gets the
// leader's value or exception, and a finished flight makes room for a new load.
#include "cache/single_flight.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rediscache::detail {
namespace {

Object text(const std::string& s) { return std::make_shared<const std::string>(s); }
const std::string& as_text(const Object& o) { return *static_cast<const std::string*>(o.get()); }

TEST(SingleFlight, FirstJoinLeads_LaterJoinsOfTheKeyWait) {
  SingleFlight flights;
  const SingleFlight::Joined first = flights.join("k");
  const SingleFlight::Joined second = flights.join("k");
  const SingleFlight::Joined other = flights.join("other");
  EXPECT_TRUE(first.leader);
  EXPECT_FALSE(second.leader);
  EXPECT_EQ(first.flight, second.flight);
  EXPECT_TRUE(other.leader);
  flights.finish("k", first.flight, FlightResult{nullptr, nullptr});
  flights.finish("other", other.flight, FlightResult{nullptr, nullptr});
}

TEST(SingleFlight, Finish_EveryWaiterGetsTheLeadersValue) {
  SingleFlight flights;
  const SingleFlight::Joined leader = flights.join("k");
  constexpr int kWaiters = 8;
  std::atomic<int> got{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    SingleFlight::Joined joined = flights.join("k");
    ASSERT_FALSE(joined.leader);
    waiters.emplace_back([flight = joined.flight, &got] {
      const FlightResult result = flight->wait();
      if (result.value && as_text(result.value) == "loaded") ++got;
    });
  }
  flights.finish("k", leader.flight, FlightResult{text("loaded"), nullptr});
  for (auto& t : waiters) t.join();
  EXPECT_EQ(got.load(), kWaiters);
}

TEST(SingleFlight, LeaderFails_WaitersGetTheSameException) {
  SingleFlight flights;
  const SingleFlight::Joined leader = flights.join("k");
  const SingleFlight::Joined waiter = flights.join("k");
  flights.finish("k", leader.flight,
                 FlightResult{nullptr, std::make_exception_ptr(std::runtime_error("db down"))});
  const FlightResult result = waiter.flight->wait();
  ASSERT_TRUE(result.error);
  try {
    std::rethrow_exception(result.error);
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "db down");
  }
}

TEST(SingleFlight, AfterFinish_NextJoinLeadsANewLoad) {
  SingleFlight flights;
  const SingleFlight::Joined first = flights.join("k");
  flights.finish("k", first.flight, FlightResult{text("a"), nullptr});
  const SingleFlight::Joined next = flights.join("k");
  EXPECT_TRUE(next.leader);
  EXPECT_NE(next.flight, first.flight);
  flights.finish("k", next.flight, FlightResult{nullptr, nullptr});
}

TEST(SingleFlight, WaitAfterCompletion_ReturnsAtOnce) {
  SingleFlight flights;
  const SingleFlight::Joined leader = flights.join("k");
  const SingleFlight::Joined waiter = flights.join("k");
  flights.finish("k", leader.flight, FlightResult{text("v"), nullptr});
  const FlightResult result = waiter.flight->wait();
  ASSERT_TRUE(result.value);
  EXPECT_EQ(as_text(result.value), "v");
}

}  // namespace
}  // namespace rediscache::detail
