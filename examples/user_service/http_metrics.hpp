// Metrics of the HTTP layer: requests by route and status, and a latency histogram per route.
// Recording is a few relaxed atomic adds, so it stays on for every request.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rediscache/rediscache.hpp>

namespace user_service {

/// Thread-safe. Routes are fixed at construction (labels are route patterns such as
/// "/users/{id}", never raw paths, so a scan of random URLs cannot grow the metric set).
class HttpMetrics {
 public:
  /// `routes` are the (method, pattern) pairs record() may be given; anything else counts as
  /// method "" and route "other".
  explicit HttpMetrics(const std::vector<std::pair<std::string, std::string>>& routes);

  /// Index of a route for record(); routes not given to the constructor map to "other".
  [[nodiscard]] std::size_t route(std::string_view method, std::string_view name) const noexcept;
  /// Counts one response. `latency` is from the start of routing to the response being ready.
  void record(std::size_t route, int status, std::chrono::nanoseconds latency) noexcept;

  /// The request counters through rediscache's MetricsWriter
  /// (user_service_http_requests_total{method,route,status}).
  void write(rediscache::MetricsWriter& out) const;
  /// The latency histogram (user_service_http_request_duration_seconds) as Prometheus text.
  /// Rendered here because MetricsWriter has no histogram type (only counter, gauge, summary);
  /// a histogram, unlike a summary, can be aggregated across instances by Prometheus.
  [[nodiscard]] std::string histogram_text() const;

 private:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
  struct Route {
    std::string method;
    std::string name;
    std::array<std::atomic<std::uint64_t>, 600> by_status{};               // index: HTTP status
    std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets{};  // last: +Inf
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  std::vector<std::unique_ptr<Route>> routes_;  // the last one is "other"
};

}  // namespace user_service
