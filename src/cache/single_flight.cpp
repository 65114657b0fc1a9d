#include "cache/single_flight.hpp"

#include <utility>

namespace rediscache::detail {

FlightResult Flight::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  return result_;
}

std::optional<FlightResult> Flight::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!done_cv_.wait_until(lock, deadline, [this] { return done_; })) return std::nullopt;
  return result_;
}

void Flight::complete(FlightResult result) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(result);
    done_ = true;
  }
  done_cv_.notify_all();
}

SingleFlight::Joined SingleFlight::join(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = flights_.try_emplace(key);
  if (inserted) it->second = std::make_shared<Flight>();
  return Joined{it->second, inserted};
}

void SingleFlight::finish(const std::string& key, const std::shared_ptr<Flight>& flight,
                          FlightResult result) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    auto it = flights_.find(key);
    if (it != flights_.end() && it->second == flight) flights_.erase(it);
  }
  flight->complete(std::move(result));
}

void SingleFlight::forget(const std::string& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  flights_.erase(key);  // its leader's finish() then finds another flight (or none) and skips
}

void SingleFlight::forget_all() {
  const std::lock_guard<std::mutex> lock(mu_);
  flights_.clear();
}

}  // namespace rediscache::detail
