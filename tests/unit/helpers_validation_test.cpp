// Bad input to the helpers (lock, Redlock, rate limiters, sessions) throws std::invalid_argument
// naming the argument or option, before anything is sent: no server is needed (the pool
// connects lazily, and the port below has no server).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/helpers/lock.hpp"
#include "rediscache/helpers/rate_limiter.hpp"
#include "rediscache/helpers/redlock.hpp"
#include "rediscache/helpers/session_store.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;

Client unused_client() {
  rediscache::ConnectionOptions options;
  options.port = 1;  // never contacted
  return Client(options);
}

// The message of the std::invalid_argument that `f` throws, or a marker when it throws none.
std::string invalid_argument_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no std::invalid_argument>";
}

#define EXPECT_INVALID_ARGUMENT_NAMING(statement, name)                           \
  do {                                                                            \
    const std::string message_ = invalid_argument_message([&] { statement; });    \
    EXPECT_NE(message_.find(name), std::string::npos) << "message: " << message_; \
  } while (false)

TEST(LockValidation, BadNameOrOptions_InvalidArgumentNamingIt) {
  Client client = unused_client();
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, ""), "name");
  rediscache::LockOptions options;
  options.ttl = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options), "ttl");
  options = {};
  options.ttl = -5ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options), "ttl");
  options = {};
  options.key_prefix = "lock:{x}:";
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options), "key_prefix");
  options = {};
  options.retry_min = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options), "retry_min");
  options = {};
  options.retry_max = 1ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options), "retry_max");
  options = {};
  options.watchdog_interval = options.ttl;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::DistributedLock(client, "n", options),
                                 "watchdog_interval");

  rediscache::DistributedLock lock(client, "n");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(lock.lock(-1ms)), "wait_timeout");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(lock.extend("token", 0ms)), "ttl");
}

TEST(LockValidation, KeyLayout_LockAndFenceShareOneHashTag) {
  rediscache::DistributedLock lock(unused_client(), "orders:42");
  EXPECT_EQ(lock.key(), "lock:{orders:42}");
  EXPECT_EQ(lock.fence_key(), "lock:{orders:42}:fence");
}

TEST(RedlockValidation, BadServersNameOrOptions_InvalidArgumentNamingIt) {
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::Redlock({}), "servers");
  const std::vector<Client> servers = {unused_client()};
  rediscache::RedlockOptions options;
  options.ttl = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::Redlock(servers, options), "ttl");
  options = {};
  options.clock_drift_factor = 1.5;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::Redlock(servers, options), "clock_drift_factor");
  options = {};
  options.key_prefix = "{";
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::Redlock(servers, options), "key_prefix");
  rediscache::Redlock redlock(servers);
  EXPECT_EQ(redlock.quorum(), 1u);
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(redlock.try_lock("")), "name");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(redlock.lock("n", -1ms)), "wait_timeout");
}

TEST(RateLimiterValidation, BadOptions_InvalidArgumentNamingThem) {
  Client client = unused_client();
  rediscache::SlidingWindowLogOptions log;
  log.limit = 0;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SlidingWindowLogLimiter(client, log), "limit");
  log = {};
  log.window = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SlidingWindowLogLimiter(client, log), "window");
  log.window = -1ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SlidingWindowLogLimiter(client, log), "window");

  rediscache::SlidingWindowCounterOptions counter;
  counter.limit = -3;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SlidingWindowCounterLimiter(client, counter), "limit");
  counter = {};
  counter.window = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SlidingWindowCounterLimiter(client, counter),
                                 "window");

  rediscache::GcraOptions gcra;
  gcra.burst = 0;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::GcraLimiter(client, gcra), "burst");
  gcra = {};
  gcra.rate = 0;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::GcraLimiter(client, gcra), "rate");
  gcra = {};
  gcra.period = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::GcraLimiter(client, gcra), "period");
}

TEST(RateLimiterValidation, BadKeyOrCost_InvalidArgumentNamingIt) {
  Client client = unused_client();
  rediscache::SlidingWindowLogLimiter log(client);
  rediscache::SlidingWindowCounterLimiter counter(client);
  rediscache::GcraOptions gcra_options;
  gcra_options.burst = 5;
  rediscache::GcraLimiter gcra(client, gcra_options);
  for (rediscache::RateLimiter* limiter :
       std::vector<rediscache::RateLimiter*>{&log, &counter, &gcra}) {
    EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(limiter->check("")), "key");
    EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(limiter->check("k", 0)), "cost");
    EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(limiter->check("k", -1)), "cost");
    EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(limiter->check("k", 101)), "cost");
    EXPECT_INVALID_ARGUMENT_NAMING(limiter->reset(""), "key");
  }
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(gcra.check("k", 6)), "cost");  // > burst
}

TEST(SessionValidation, BadOptionsOrInput_InvalidArgumentNamingIt) {
  Client client = unused_client();
  rediscache::SessionOptions options;
  options.ttl = 0ms;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SessionStore(client, options), "ttl");
  options = {};
  options.id_bytes = 8;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SessionStore(client, options), "id_bytes");
  options = {};
  options.max_fields = 0;
  EXPECT_INVALID_ARGUMENT_NAMING(rediscache::SessionStore(client, options), "max_fields");

  rediscache::SessionStore store(client);
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.create({})), "fields");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.create({{"", 1}})), "fields");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.create({{"a", 1}}, 0ms)), "ttl");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.create({{"a", 1}}, -1s)), "ttl");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.get("")), "id");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.get(std::string(500, 'x'))), "id");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.update("", {{"a", 1}})), "id");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.touch("id", 0ms)), "ttl");
  EXPECT_INVALID_ARGUMENT_NAMING(store.destroy(""), "id");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.regenerate("")), "id");
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(store.regenerate("id", -1ms)), "ttl");
}

TEST(SessionValidation, Encode_StringsAsIsOthersAsJson) {
  using rediscache::SessionStore;
  EXPECT_EQ(SessionStore::encode("alice"), "alice");
  EXPECT_EQ(SessionStore::encode("[1]"), "[1]");
  EXPECT_EQ(SessionStore::encode(42), "42");
  EXPECT_EQ(SessionStore::encode(1700000000.5), "1700000000.5");
  EXPECT_EQ(SessionStore::encode(true), "true");
  EXPECT_EQ(SessionStore::encode(nullptr), "null");
  EXPECT_EQ(SessionStore::encode(nlohmann::json::array({"admin", "user"})), "[\"admin\",\"user\"]");
  const rediscache::Session session("id", {{"n", "12x"}, {"t", "1.5"}});
  EXPECT_INVALID_ARGUMENT_NAMING(static_cast<void>(session.integer("n")), "'n'");
  EXPECT_EQ(session.number("t"), 1.5);
}

}  // namespace
