// ConnectionPool: bounds, waiting, failure recovery, timeouts, AUTH, threads and processes.
#include "rediscache/net/connection_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::ConnectionOptions;
using rediscache::ConnectionPool;
using rediscache::PoolOptions;
using rediscache::test::RedisServer;
using Clock = std::chrono::steady_clock;
using Pool = rediscache::test::RedisTest;

ConnectionOptions options_for(const RedisServer& server) {
  ConnectionOptions o;
  o.host = server.host();
  o.port = server.port();
  return o;
}

int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(Pool, Exhausted_WaitsThenThrowsWithinWaitTimeout) {
  PoolOptions p;
  p.size = 2;
  p.wait_timeout = 200ms;
  ConnectionPool pool(options_, p);
  auto a = pool.lease();
  auto b = pool.lease();
  const auto start = Clock::now();
  try {
    auto c = pool.lease();
    FAIL() << "expected PoolExhausted";
  } catch (const rediscache::PoolExhausted& e) {
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 2s);
    EXPECT_NE(std::string(e.what()).find(pool.endpoint()), std::string::npos);
  }
  const auto stats = pool.stats();
  EXPECT_EQ(stats.created, 2u);
  EXPECT_EQ(stats.in_use, 2u);
  EXPECT_EQ(stats.wait_timeouts, 1u);
  EXPECT_EQ(stats.waits, 1u);
}

TEST_F(Pool, Exhausted_WaiterGetsReturnedConnection) {
  PoolOptions p;
  p.size = 1;
  p.wait_timeout = 5s;
  ConnectionPool pool(options_, p);
  auto held = std::make_unique<rediscache::Lease>(pool.lease());
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    held.reset();
  });
  auto lease = pool.lease();
  releaser.join();
  EXPECT_EQ(lease.command({"PING"}).str, "PONG");
  EXPECT_EQ(pool.stats().created, 1u);
  EXPECT_EQ(pool.stats().waits, 1u);
  EXPECT_GT(pool.stats().wait_time_max, 30ms);
}

TEST_F(Pool, SixteenThreadsOnPoolOfFour_NeverGrowsAndCountsExactly) {
  PoolOptions p;
  p.size = 4;
  p.wait_timeout = 10s;
  Client c(options_, p);
  const std::string counter = key("counter");
  std::vector<std::thread> threads;
  std::atomic<std::size_t> max_in_use{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        c.incr(counter);
        const auto in_use = c.pool().stats().in_use;
        std::size_t seen = max_in_use.load();
        while (in_use > seen && !max_in_use.compare_exchange_weak(seen, in_use)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.get(counter).value(), "4800");
  const auto stats = c.pool().stats();
  EXPECT_LE(stats.created, 4u);
  EXPECT_LE(max_in_use.load(), 4u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.discarded, 0u);
}

TEST_F(Pool, FourProcesses_EachWithItsOwnPool_CountExactly) {
  const std::string counter = key("forked");
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        // A pool is per process: a child never reuses sockets it inherited.
        Client child(options_, PoolOptions{});
        for (int n = 0; n < 250; ++n) child.incr(counter);
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(client().get(counter).value(), "1000");
}

TEST_F(Pool, ClientKill_ConnectionIsReplacedTransparently) {
  ConnectionOptions o = options_;
  o.client_name = "rediscache-kill-test";
  PoolOptions p;
  p.size = 1;
  Client c(o, p);
  const long long id = c.command({"CLIENT", "ID"}).integer;
  EXPECT_EQ(rediscache::test::raw_command(endpoint_, {"CLIENT", "KILL", "ID", std::to_string(id)}),
            "1");
  std::this_thread::sleep_for(5ms);  // idle past check_liveness_after_idle (1 ms)
  // The pool notices the closed socket before reuse; the caller sees no error.
  EXPECT_EQ(c.ping(), "PONG");
  EXPECT_NE(c.command({"CLIENT", "ID"}).integer, id);
  EXPECT_EQ(c.pool().stats().created, 2u);
  EXPECT_EQ(c.pool().stats().discarded, 1u);
}

TEST(PoolPrivateServer, ServerRestart_PoolRecoversWithoutUserAction) {
  RedisServer server;
  PoolOptions p;
  p.size = 2;
  Client c(options_for(server), p);
  c.set("k", "before");
  server.stop();
  try {
    c.get("k");
    FAIL() << "expected IoError while the server is down";
  } catch (const rediscache::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(server.port())),
              std::string::npos)
        << e.what();
  }
  server.start();
  // No reconnect call: the next command simply works (the data is gone: no persistence).
  EXPECT_FALSE(c.get("k"));
  c.set("k", "after");
  EXPECT_EQ(c.get("k").value(), "after");
  EXPECT_GE(c.pool().stats().connect_failures, 1u);
}

TEST(PoolPrivateServer, ServerRestart_IdleConnectionsAreNotUsedDead) {
  RedisServer server;
  Client c(options_for(server));
  EXPECT_EQ(c.ping(), "PONG");  // leaves one idle connection in the pool
  server.stop();
  server.start();
  // The idle connection died with the old server; the liveness probe replaces it.
  EXPECT_EQ(c.ping(), "PONG");
  EXPECT_EQ(c.pool().stats().discarded, 1u);
}

TEST_F(Pool, LivenessProbe_EveryLeaseWhenThresholdIsZero) {
  PoolOptions p;
  p.size = 1;
  p.check_liveness_after_idle = 0ms;
  Client c(options_, p);
  const long long id = c.command({"CLIENT", "ID"}).integer;
  rediscache::test::raw_command(endpoint_, {"CLIENT", "KILL", "ID", std::to_string(id)});
  EXPECT_EQ(c.ping(), "PONG");  // replaced even though it was used a moment ago
  EXPECT_EQ(c.pool().stats().discarded, 1u);
}

TEST_F(Pool, LivenessProbe_Off_DeadConnectionFailsOnceThenRecovers) {
  PoolOptions p;
  p.size = 1;
  p.check_liveness_after_idle.reset();
  p.ping_after_idle.reset();
  Client c(options_, p);
  const long long id = c.command({"CLIENT", "ID"}).integer;
  rediscache::test::raw_command(endpoint_, {"CLIENT", "KILL", "ID", std::to_string(id)});
  EXPECT_THROW(c.ping(), rediscache::IoError);  // what the probe exists to prevent
  EXPECT_EQ(c.ping(), "PONG");
}

TEST(PoolPrivateServer, WriteToKilledServer_IsAnIoErrorNotSigpipe) {
  RedisServer server;
  rediscache::ConnectionPool pool(options_for(server));
  auto lease = pool.lease();
  server.kill();
  // A large write to a reset socket raises SIGPIPE; the library must turn it into an error.
  const std::string big(8u << 20, 'x');
  EXPECT_THROW(lease.command({"SET", "k", big}), rediscache::IoError);
  EXPECT_TRUE(lease.broken());
}

TEST(PoolPrivateServer, CommandTimeout_IsHonouredAndConnectionReplaced) {
  RedisServer server;
  ConnectionOptions o = options_for(server);
  o.command_timeout = 200ms;
  Client c(o);
  EXPECT_EQ(c.ping(), "PONG");
  auto sleeper = std::async(std::launch::async, [&] {
    return server.command({"DEBUG", "SLEEP", "1.5"});
  });
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  try {
    c.get("k");
    FAIL() << "expected TimeoutError";
  } catch (const rediscache::TimeoutError& e) {
    const auto waited = Clock::now() - start;
    EXPECT_LT(waited, 1200ms);
    EXPECT_NE(std::string(e.what()).find("GET"), std::string::npos);
    EXPECT_EQ(e.code(), rediscache::Errc::kTimeout);
  }
  sleeper.get();
  EXPECT_EQ(c.ping(), "PONG");
  EXPECT_GE(c.pool().stats().discarded, 1u);
}

TEST(PoolPrivateServer, ConnectTimeout_BoundsTheHandshake) {
  RedisServer server;
  ConnectionOptions o = options_for(server);
  o.connect_timeout = 200ms;
  o.client_name = "needs-a-handshake";
  Client c(o);
  auto sleeper = std::async(std::launch::async, [&] {
    return server.command({"DEBUG", "SLEEP", "1.5"});
  });
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  EXPECT_THROW(c.ping(), rediscache::TimeoutError);
  EXPECT_LT(Clock::now() - start, 1200ms);
  sleeper.get();
  EXPECT_EQ(c.ping(), "PONG");
}

TEST(PoolUnreachable, ConnectRefused_NamesHostAndPort) {
  ConnectionOptions o;
  o.port = closed_port();
  o.connect_timeout = 500ms;
  Client c(o);
  const auto start = Clock::now();
  try {
    c.ping();
    FAIL() << "expected IoError";
  } catch (const rediscache::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(o.port)), std::string::npos)
        << e.what();
  }
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(c.pool().stats().connect_failures, 1u);
  EXPECT_EQ(c.pool().stats().in_use, 0u);  // the failed slot is free again
}

TEST(PoolPrivateServer, Auth_PasswordAndAclUser) {
  RedisServer server({"--requirepass", "s3cret"});
  server.command({"ACL", "SETUSER", "alice", "on", ">alicepw", "~*", "+@all"}, "s3cret");
  ConnectionOptions o = options_for(server);

  EXPECT_THROW(Client(o).ping(), rediscache::ReplyError);  // NOAUTH

  o.password = "s3cret";
  EXPECT_EQ(Client(o).ping(), "PONG");

  o.user = "alice";
  o.password = "alicepw";
  Client alice(o);
  EXPECT_EQ(alice.command({"ACL", "WHOAMI"}).str, "alice");

  o.password = "wrong-password";
  try {
    Client(o).ping();
    FAIL() << "expected ReplyError";
  } catch (const rediscache::ReplyError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("AUTH"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos);
    EXPECT_EQ(what.find("wrong-password"), std::string::npos) << what;
  }
}

TEST(PoolPrivateServer, SelectDatabase_AppliesToEveryConnection) {
  RedisServer server;
  ConnectionOptions o = options_for(server);
  o.db = 3;
  Client c(o);
  c.set("k", "in-db-3");
  EXPECT_EQ(server.command({"GET", "k"}), "(nil)");  // db 0
  EXPECT_EQ(c.command({"CLIENT", "INFO"}).str.find("db=3") != std::string::npos, true);
}

TEST_F(Pool, MaxLifetime_ReplacesOldConnections) {
  PoolOptions p;
  p.max_lifetime = 50ms;
  Client c(options_, p);
  c.ping();
  std::this_thread::sleep_for(80ms);
  c.ping();
  EXPECT_EQ(c.pool().stats().created, 2u);
}

TEST_F(Pool, MaxIdleTime_ReplacesIdleConnections) {
  PoolOptions p;
  p.max_idle_time = 50ms;
  Client c(options_, p);
  c.ping();
  std::this_thread::sleep_for(80ms);
  c.ping();
  EXPECT_EQ(c.pool().stats().created, 2u);
  EXPECT_EQ(c.pool().stats().discarded, 1u);
}

TEST_F(Pool, Lease_PipelinesOnOneConnection) {
  ConnectionPool pool(options_);
  auto lease = pool.lease();
  lease.append({"SET", key("a"), "1"});
  lease.append({"INCR", key("a")});
  lease.append({"GET", key("a")});
  EXPECT_EQ(lease.read_reply().str, "OK");
  EXPECT_EQ(lease.read_reply().integer, 2);
  EXPECT_EQ(lease.read_reply().str, "2");
  EXPECT_FALSE(lease.broken());
}

TEST_F(Pool, Lease_ReturnedWithUnreadReplies_IsDiscarded) {
  ConnectionPool pool(options_);
  {
    auto lease = pool.lease();
    lease.append({"PING"});
    (void)lease.read_reply();
    lease.append({"PING"});  // never read: the connection is out of sync
  }
  EXPECT_EQ(pool.stats().discarded, 1u);
  EXPECT_EQ(pool.lease().command({"PING"}).str, "PONG");
}

TEST_F(Pool, Drain_ClosesIdleConnections) {
  Client c(options_);
  c.ping();
  EXPECT_EQ(c.pool().stats().idle, 1u);
  c.pool().drain();
  EXPECT_EQ(c.pool().stats().idle, 0u);
  EXPECT_EQ(c.ping(), "PONG");
}

}  // namespace
