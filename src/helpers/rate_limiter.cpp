#include "rediscache/helpers/rate_limiter.hpp"

#include <stdexcept>
#include <string>

#include "helpers/common.hpp"
#include "helpers/scripts.hpp"
#include "rediscache/client/script.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {
namespace {

void validate_window(long long limit, std::chrono::milliseconds window, const std::string& type) {
  detail::require_at_least(limit, 1LL, type + "::limit");
  // The scripts take the window in microseconds: a year of them is 3.2e13, exact in a Lua double.
  detail::require_positive(window, type + "::window");
}

void check_request(std::string_view key, long long cost, long long most) {
  if (key.empty()) throw std::invalid_argument("key must not be empty");
  if (cost < 1) throw std::invalid_argument("cost must be at least 1");
  if (cost > most) {
    throw std::invalid_argument("cost must not exceed the limit (or burst): it could never pass");
  }
}

std::string micros(std::chrono::milliseconds duration) {
  return std::to_string(std::chrono::microseconds(duration).count());
}

Decision to_decision(const Reply& reply, const detail::Call& call) {
  detail::expect_integers(reply, 4, call);
  Decision decision;
  decision.allowed = reply.elements[0].integer == 1;
  decision.remaining = reply.elements[1].integer;
  decision.retry_after = std::chrono::milliseconds(reply.elements[2].integer);
  decision.reset_after = std::chrono::milliseconds(reply.elements[3].integer);
  return decision;
}

// Measures one check, for the latency histogram.
class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] std::chrono::nanoseconds elapsed() const {
    return std::chrono::steady_clock::now() - start_;
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

// --- RateLimiter --------------------------------------------------------------------------

RateLimiter::~RateLimiter() = default;

RateLimiterStats RateLimiter::stats() const {
  RateLimiterStats stats;
  stats.allowed = allowed_.value();
  stats.denied = denied_.value();
  stats.latency = latency_.summary();
  return stats;
}

void RateLimiter::record(const Decision& decision, std::chrono::nanoseconds latency) noexcept {
  (decision.allowed ? allowed_ : denied_).add();
  latency_.record(latency);
}

void SlidingWindowLogOptions::validate() const {
  validate_window(limit, window, "SlidingWindowLogOptions");
}

void SlidingWindowCounterOptions::validate() const {
  validate_window(limit, window, "SlidingWindowCounterOptions");
}

void GcraOptions::validate() const {
  detail::require_at_least(burst, 1LL, "GcraOptions::burst");
  detail::require_at_least(rate, 1LL, "GcraOptions::rate");
  detail::require_positive(period, "GcraOptions::period");
  detail::require(std::chrono::microseconds(period).count() >= rate, "GcraOptions::rate",
                  "must be at most one per microsecond of period");
}

// --- Sliding-window log ---------------------------------------------------------------------

SlidingWindowLogLimiter::SlidingWindowLogLimiter(Client client, SlidingWindowLogOptions options)
    : client_(std::move(client)), options_(std::move(options)), instance_id_(random_token(12)) {
  options_.validate();
}

Decision SlidingWindowLogLimiter::check(std::string_view key, long long cost) {
  check_request(key, cost, options_.limit);
  const Timer timer;
  // Unique across processes (random instance id) and within one (sequence number).
  const std::string request_id =
      instance_id_ + ":" + std::to_string(sequence_.fetch_add(1, std::memory_order_relaxed));
  const std::string redis_key = this->redis_key(key);
  const std::string limit = std::to_string(options_.limit);
  const std::string window = micros(options_.window);
  const std::string cost_arg = std::to_string(cost);
  const Decision decision =
      to_decision(client_.eval(detail::sliding_log_script(), {redis_key},
                               {limit, window, cost_arg, request_id}),
                  detail::Call{client_.endpoint(), "sliding-window log script"});
  record(decision, timer.elapsed());
  return decision;
}

void SlidingWindowLogLimiter::reset(std::string_view key) {
  if (key.empty()) throw std::invalid_argument("key must not be empty");
  static_cast<void>(client_.del({redis_key(key)}));
}

std::string SlidingWindowLogLimiter::redis_key(std::string_view key) const {
  return options_.key_prefix + std::string(key);
}

// --- Sliding-window counter -----------------------------------------------------------------

SlidingWindowCounterLimiter::SlidingWindowCounterLimiter(Client client,
                                                         SlidingWindowCounterOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  options_.validate();
}

Decision SlidingWindowCounterLimiter::check(std::string_view key, long long cost) {
  check_request(key, cost, options_.limit);
  const Timer timer;
  const std::string redis_key = this->redis_key(key);
  const std::string limit = std::to_string(options_.limit);
  const std::string window = micros(options_.window);
  const std::string cost_arg = std::to_string(cost);
  const Decision decision = to_decision(
      client_.eval(detail::sliding_counter_script(), {redis_key}, {limit, window, cost_arg}),
      detail::Call{client_.endpoint(), "sliding-window counter script"});
  record(decision, timer.elapsed());
  return decision;
}

void SlidingWindowCounterLimiter::reset(std::string_view key) {
  if (key.empty()) throw std::invalid_argument("key must not be empty");
  static_cast<void>(client_.del({redis_key(key)}));
}

std::string SlidingWindowCounterLimiter::redis_key(std::string_view key) const {
  return options_.key_prefix + std::string(key);
}

// --- GCRA -------------------------------------------------------------------------------------

GcraLimiter::GcraLimiter(Client client, GcraOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  options_.validate();
}

Decision GcraLimiter::check(std::string_view key, long long cost) {
  check_request(key, cost, options_.burst);
  const Timer timer;
  const std::string redis_key = this->redis_key(key);
  // The emission interval in microseconds, as a decimal with fractions (Lua numbers are
  // doubles), so rates that do not divide the period stay exact enough.
  const double interval = static_cast<double>(std::chrono::microseconds(options_.period).count()) /
                          static_cast<double>(options_.rate);
  const std::string interval_arg = std::to_string(interval);
  const std::string burst = std::to_string(options_.burst);
  const std::string cost_arg = std::to_string(cost);
  const Decision decision =
      to_decision(client_.eval(detail::gcra_script(), {redis_key}, {interval_arg, burst, cost_arg}),
                  detail::Call{client_.endpoint(), "GCRA script"});
  record(decision, timer.elapsed());
  return decision;
}

void GcraLimiter::reset(std::string_view key) {
  if (key.empty()) throw std::invalid_argument("key must not be empty");
  static_cast<void>(client_.del({redis_key(key)}));
}

std::string GcraLimiter::redis_key(std::string_view key) const {
  return options_.key_prefix + std::string(key);
}

}  // namespace rediscache
