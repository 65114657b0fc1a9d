#include "http_metrics.hpp"

#include <cstdio>

namespace user_service {
namespace {

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

HttpMetrics::HttpMetrics(const std::vector<std::pair<std::string, std::string>>& routes) {
  for (const auto& [method, name] : routes) {
    routes_.push_back(std::make_unique<Route>());
    routes_.back()->method = method;
    routes_.back()->name = name;
  }
  routes_.push_back(std::make_unique<Route>());
  routes_.back()->name = "other";
}

std::size_t HttpMetrics::route(std::string_view method, std::string_view name) const noexcept {
  for (std::size_t i = 0; i + 1 < routes_.size(); ++i) {
    if (routes_[i]->method == method && routes_[i]->name == name) return i;
  }
  return routes_.size() - 1;
}

void HttpMetrics::record(std::size_t route, int status, std::chrono::nanoseconds latency) noexcept {
  Route& r = *routes_[route < routes_.size() ? route : routes_.size() - 1];
  const auto index = static_cast<std::size_t>(status >= 0 && status < 600 ? status : 0);
  r.by_status[index].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  r.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
  r.sum_ns.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
}

void HttpMetrics::write(rediscache::MetricsWriter& out) const {
  for (const auto& r : routes_) {
    for (std::size_t status = 0; status < r->by_status.size(); ++status) {
      const std::uint64_t n = r->by_status[status].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out.counter("user_service_http_requests_total", "HTTP responses by route and status",
                  static_cast<double>(n),
                  {{"method", r->method}, {"route", r->name}, {"status", std::to_string(status)}});
    }
  }
}

std::string HttpMetrics::histogram_text() const {
  const std::string name = "user_service_http_request_duration_seconds";
  std::string text;
  text.append("# HELP ").append(name).append(" Time from routing to response, by route\n");
  text.append("# TYPE ").append(name).append(" histogram\n");
  for (const auto& r : routes_) {
    const std::uint64_t count = r->count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    // Methods and route patterns are ours, never client input: no escaping needed.
    std::string label;
    label.append("method=\"").append(r->method).append("\",route=\"").append(r->name).append("\"");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < r->buckets.size(); ++i) {
      cumulative += r->buckets[i].load(std::memory_order_relaxed);
      const std::string le = i < kBounds.size() ? format_double(kBounds[i]) : "+Inf";
      text.append(name).append("_bucket{").append(label).append(",le=\"").append(le);
      text.append("\"} ").append(std::to_string(cumulative)).append("\n");
    }
    // Buckets are read one after the other while requests go on: the count written is the sum
    // of the buckets of this scrape, so the histogram stays consistent (count == +Inf bucket).
    const double sum = static_cast<double>(r->sum_ns.load(std::memory_order_relaxed)) / 1e9;
    text.append(name).append("_sum{").append(label).append("} ").append(format_double(sum));
    text.append("\n");
    text.append(name).append("_count{").append(label).append("} ");
    text.append(std::to_string(cumulative)).append("\n");
  }
  return text;
}

}  // namespace user_service
