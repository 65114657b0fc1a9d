// SingleFlight: concurrent misses of one key in one process share one load.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "rediscache/cache/detail/cache_core.hpp"

namespace rediscache::detail {

/// The outcome of one load, shared by everyone who waited for it.
struct FlightResult {
  Object value;              ///< nullptr: "not found" (or failed, see error)
  std::exception_ptr error;  ///< the loader's exception, rethrown to every waiter
};

/// One load in progress. Thread-safe.
class Flight {
 public:
  /// Blocks until the leader completes the flight.
  FlightResult wait();
  /// Blocks until the leader completes the flight or `deadline` passes (nullopt).
  std::optional<FlightResult> wait_until(std::chrono::steady_clock::time_point deadline);
  void complete(FlightResult result);

 private:
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;    // guarded by mu_
  FlightResult result_;  // guarded by mu_
};

/// Maps a key to the load in progress for it. The first caller of `join` for a key leads (and
/// must call `finish`, also when its load throws); later callers get the same flight to wait on.
/// Thread-safe.
class SingleFlight {
 public:
  struct Joined {
    std::shared_ptr<Flight> flight;
    bool leader = false;
  };

  Joined join(const std::string& key);
  /// Removes the flight from the map (new callers start a new load), then wakes its waiters.
  void finish(const std::string& key, const std::shared_ptr<Flight>& flight, FlightResult result);
  /// Detaches the flight in progress for `key`, if any: callers that join from now on start a
  /// new load, while those already waiting still get the old flight's result. Called by
  /// invalidate(), so a read that starts after an invalidation never gets a value loaded before it.
  void forget(const std::string& key);
  /// forget() for every key (after a tag invalidation, which may concern any load in flight).
  void forget_all();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // guarded by mu_
};

}  // namespace rediscache::detail
