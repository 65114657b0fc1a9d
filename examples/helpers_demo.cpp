// helpers_demo: the distributed lock, the three rate limiters and the session store against a
// local Redis. Usage: helpers_demo [host [port]] (default: REDISCACHE_TEST_REDIS_HOST/PORT, else
// 127.0.0.1:6379). Exits non-zero when something does not behave as documented.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rediscache/helpers/lock.hpp>
#include <rediscache/helpers/rate_limiter.hpp>
#include <rediscache/helpers/session_store.hpp>

namespace {

using namespace std::chrono_literals;

int failures = 0;

void expect(bool condition, const std::string& what) {
  std::cout << (condition ? "  ok    " : "  FAIL  ") << what << '\n';
  if (!condition) ++failures;
}

void demo_lock(rediscache::Client& client, const std::string& prefix) {
  std::cout << "DistributedLock\n";
  // [README:lock]
  rediscache::LockOptions options;
  options.ttl = 2s;
  options.watchdog = true;  // keep the lock while we work, however long that takes
  rediscache::DistributedLock lock(client, prefix + "nightly-report", options);
  rediscache::DistributedLock rival(client, prefix + "nightly-report");
  {
    auto guard = lock.try_lock();
    expect(guard.has_value(), "try_lock acquires a free lock");
    if (!guard) return;
    std::cout << "        fencing token " << guard->fence() << " (pass it to the database)\n";
    expect(!rival.try_lock().has_value(), "a second holder is refused");
    expect(!rival.lock(300ms).has_value(), "lock(300ms) gives up after backing off");
  }  // the guard stops its watchdog and releases the lock here
  // [/README]
  auto guard = rival.lock(1s);
  expect(guard.has_value(), "the lock is free as soon as the guard is gone");
  expect(guard && guard->unlock(), "unlock says we still held it");
  static_cast<void>(client.del({lock.fence_key()}));
}

void demo_rate_limiters(rediscache::Client& client, const std::string& prefix) {
  std::cout << "Rate limiters (limit 5 per second, 8 requests)\n";
  rediscache::SlidingWindowLogOptions log;
  log.limit = 5;
  log.window = 1s;
  log.key_prefix = prefix + "log:";
  rediscache::SlidingWindowCounterOptions counter;
  counter.limit = 5;
  counter.window = 1s;
  counter.key_prefix = prefix + "swc:";
  // [README:rate-limit]
  rediscache::GcraOptions gcra;
  gcra.burst = 5;
  gcra.rate = 5;
  gcra.period = 1s;
  gcra.key_prefix = prefix + "gcra:";
  // [/README]
  std::vector<std::pair<std::string, std::unique_ptr<rediscache::RateLimiter>>> limiters;
  limiters.emplace_back("sliding-window log",
                        std::make_unique<rediscache::SlidingWindowLogLimiter>(client, log));
  limiters.emplace_back("sliding-window counter",
                        std::make_unique<rediscache::SlidingWindowCounterLimiter>(client, counter));
  limiters.emplace_back("GCRA token bucket",
                        std::make_unique<rediscache::GcraLimiter>(client, gcra));
  for (auto& [name, limiter] : limiters) {
    int allowed = 0;
    rediscache::Decision last;
    for (int i = 0; i < 8; ++i) {
      last = limiter->check("user:42");
      allowed += last.allowed ? 1 : 0;
    }
    std::cout << "        " << name << ": " << allowed << " allowed, retry after "
              << last.retry_after.count() << " ms\n";
    expect(allowed == 5, name + " allows exactly the limit");
    expect(!last.allowed && last.retry_after > 0ms, name + " says when to retry");
    limiter->reset("user:42");
  }
}

void demo_sessions(rediscache::Client& client, const std::string& prefix) {
  std::cout << "SessionStore\n";
  // [README:sessions]
  rediscache::SessionOptions options;
  options.key_prefix = prefix + "session:";
  options.ttl = 30min;
  rediscache::SessionStore sessions(client, options);
  const std::string id = sessions.create({{"user_id", 42},
                                          {"username", "alice"},
                                          {"roles", {"admin", "editor"}},
                                          {"ip", "203.0.113.7"}});
  std::cout << "        new session id " << id << '\n';
  const auto session = sessions.get(id, rediscache::SessionExpiry::kSlide);
  expect(session && session->integer("user_id") == 42, "integer field round-trips");
  expect(session && session->json("roles") == nlohmann::json({"admin", "editor"}),
         "JSON field round-trips");
  const auto new_id = sessions.regenerate(id);  // at login: defeats session fixation
  // [/README]
  expect(new_id.has_value() && !sessions.get(id).has_value(), "regenerate retires the old id");
  expect(new_id && sessions.destroy(*new_id), "destroy deletes the session");
}

}  // namespace

int main(int argc, char** argv) {
  rediscache::ConnectionOptions connection;
  // Read before any thread starts, so getenv is safe here.
  const char* host = std::getenv("REDISCACHE_TEST_REDIS_HOST");  // NOLINT(concurrency-mt-unsafe)
  const char* port = std::getenv("REDISCACHE_TEST_REDIS_PORT");  // NOLINT(concurrency-mt-unsafe)
  if (host != nullptr) connection.host = host;
  if (port != nullptr) connection.port = std::atoi(port);
  if (argc > 1) connection.host = argv[1];
  if (argc > 2) connection.port = std::atoi(argv[2]);
  try {
    rediscache::Client client(connection);
    const std::string prefix = "helpers-demo:" + std::to_string(std::random_device{}()) + ":";
    std::cout << "Redis at " << client.endpoint() << '\n';
    demo_lock(client, prefix);
    demo_rate_limiters(client, prefix);
    demo_sessions(client, prefix);
  } catch (const std::exception& e) {
    std::cerr << "helpers_demo: " << e.what() << '\n';
    return 2;
  }
  std::cout << (failures == 0 ? "all helpers behaved as documented\n" : "FAILURES\n");
  return failures == 0 ? 0 : 1;
}
