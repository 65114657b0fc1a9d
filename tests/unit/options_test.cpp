// Option validation: every invalid field is named in the std::invalid_argument message.
#include <string>

#include <gtest/gtest.h>

#include "rediscache/client/client.hpp"
#include "rediscache/net/connection_pool.hpp"

namespace {

using rediscache::ConnectionOptions;
using rediscache::PoolOptions;

std::string rejection(const ConnectionOptions& options, const PoolOptions& pool = {}) {
  try {
    rediscache::ConnectionPool p(options, pool);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(ConnectionOptions, Defaults_AreValid) {
  EXPECT_EQ(rejection(ConnectionOptions{}), "accepted");
  EXPECT_EQ(ConnectionOptions{}.endpoint(), "127.0.0.1:6379");
}

TEST(ConnectionOptions, BadFields_ThrowNamingTheField) {
  ConnectionOptions o;
  o.host = "";
  EXPECT_NE(rejection(o).find("ConnectionOptions::host"), std::string::npos);
  o = {};
  o.port = 0;
  EXPECT_NE(rejection(o).find("ConnectionOptions::port"), std::string::npos);
  o.port = 70000;
  EXPECT_NE(rejection(o).find("ConnectionOptions::port"), std::string::npos);
  o = {};
  o.connect_timeout = std::chrono::milliseconds(-5);
  EXPECT_NE(rejection(o).find("ConnectionOptions::connect_timeout"), std::string::npos);
  o = {};
  o.command_timeout = std::chrono::milliseconds(0);
  EXPECT_NE(rejection(o).find("ConnectionOptions::command_timeout"), std::string::npos);
  o = {};
  o.db = -1;
  EXPECT_NE(rejection(o).find("ConnectionOptions::db"), std::string::npos);
  o = {};
  o.user = "alice";
  EXPECT_NE(rejection(o).find("ConnectionOptions::user"), std::string::npos);
}

TEST(ConnectionOptions, UnixSocket_NeedsNoHostOrPort) {
  ConnectionOptions o;
  o.unix_socket = "/tmp/redis.sock";
  o.host = "";
  o.port = 0;
  EXPECT_EQ(rejection(o), "accepted");
  EXPECT_EQ(o.endpoint(), "unix:/tmp/redis.sock");
}

TEST(PoolOptions, BadFields_ThrowNamingTheField) {
  PoolOptions p;
  p.size = 0;
  EXPECT_NE(rejection({}, p).find("PoolOptions::size"), std::string::npos);
  p = {};
  p.wait_timeout = std::chrono::milliseconds(-1);
  EXPECT_NE(rejection({}, p).find("PoolOptions::wait_timeout"), std::string::npos);
  p = {};
  p.max_lifetime = std::chrono::milliseconds(0);
  EXPECT_NE(rejection({}, p).find("PoolOptions::max_lifetime"), std::string::npos);
  p = {};
  p.max_idle_time = std::chrono::milliseconds(-3);
  EXPECT_NE(rejection({}, p).find("PoolOptions::max_idle_time"), std::string::npos);
  p = {};
  p.check_liveness_after_idle = std::chrono::milliseconds(-1);
  EXPECT_NE(rejection({}, p).find("PoolOptions::check_liveness_after_idle"), std::string::npos);
  p = {};
  p.ping_after_idle = std::chrono::milliseconds(-3);
  EXPECT_NE(rejection({}, p).find("PoolOptions::ping_after_idle"), std::string::npos);
}

TEST(ConnectionPool, Construction_DoesNotConnect) {
  ConnectionOptions o;
  o.port = 1;  // nothing listens there; constructing must still succeed
  rediscache::ConnectionPool pool(o);
  EXPECT_EQ(pool.stats().created, 0u);
  EXPECT_EQ(pool.endpoint(), "127.0.0.1:1");
}

TEST(SetOptions, InconsistentOptions_Throw) {
  ConnectionOptions o;
  o.port = 1;
  rediscache::Client client(o);
  rediscache::SetOptions s;
  s.ttl = std::chrono::milliseconds(0);
  EXPECT_THROW(client.set("k", "v", s), std::invalid_argument);
  s.ttl = std::chrono::milliseconds(10);
  s.keep_ttl = true;
  EXPECT_THROW(client.set("k", "v", s), std::invalid_argument);
  EXPECT_THROW(client.brpop({"k"}, std::chrono::milliseconds(0)), std::invalid_argument);
}

}  // namespace
