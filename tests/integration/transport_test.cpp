// The transport against peers no honest Redis is (a loopback FakeServer thread): a reply
// dripped one byte at a time, hostile reply headers, a status where a bulk string is due. And
// against the real server: IPv4/IPv6 resolution of "localhost", pipelines in one write.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "fake_server.hpp"
#include "net/connection.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::FakeServer;

ConnectionOptions fake_options(int port, milliseconds command_timeout = milliseconds(300)) {
  ConnectionOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.connect_timeout = milliseconds(1000);
  o.command_timeout = command_timeout;
  return o;
}

// Answers every request with `reply`, written in one go.
FakeServer answering(std::string reply) {
  return FakeServer([reply = std::move(reply)](int fd) {
    while (!FakeServer::read_request(fd).empty()) {
      if (!FakeServer::write_all(fd, reply)) return;
    }
  });
}

TEST(Transport, DripServer_GetThrowsTimeoutWithinCommandTimeout) {
  // One byte every 100 ms: each read succeeds, but the command must not outlive its 300 ms.
  FakeServer server([&](int fd) {
    if (FakeServer::read_request(fd).empty()) return;
    const std::string reply = "$20\r\n01234567890123456789\r\n";
    for (const char c : reply) {
      if (server.stopping() || !FakeServer::write_all(fd, std::string(1, c))) return;
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  Client client(fake_options(server.port()), PoolOptions{});
  const auto start = Clock::now();
  EXPECT_THROW(client.get("k"), TimeoutError);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(280));
  EXPECT_LT(took, milliseconds(600)) << "command_timeout must bound the whole command";
}

TEST(Transport, SilentServer_CommandThrowsTimeoutNamingEndpointAndCommand) {
  FakeServer server([&](int fd) {
    while (!server.stopping() && !FakeServer::read_request(fd).empty()) {
    }
  });
  ConnectionPool pool(fake_options(server.port(), milliseconds(200)));
  Lease lease = pool.lease();
  try {
    lease.command({"GET", "secret-key"});
    FAIL() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos) << what;
    EXPECT_NE(what.find("GET"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret-key"), std::string::npos) << what;
  }
  EXPECT_TRUE(lease.broken());
}

TEST(Transport, HugeArrayHeader_NoBadAllocOnlyTimeout) {
  // 12 bytes that, reserved up front, would cost hundreds of MB (or a std::length_error).
  for (const char* header : {"*4000000\r\n", "*2147483647\r\n"}) {
    FakeServer server = answering(header);
    Client client(fake_options(server.port(), milliseconds(200)), PoolOptions{});
    try {
      client.get("k");
      FAIL() << "expected an error for " << header;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::kTimeout) << e.what();
    } catch (const std::exception& e) {
      FAIL() << "non-rediscache exception escaped: " << e.what();
    }
  }
}

TEST(Transport, ImpossibleArrayLength_ThrowsProtocolError) {
  FakeServer server = answering("*-7\r\n");
  Client client(fake_options(server.port()), PoolOptions{});
  try {
    client.get("k");
    FAIL() << "expected ProtocolError";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("GET"), std::string::npos) << e.what();
  }
}

TEST(Transport, DeeplyNestedReply_ThrowsProtocolError) {
  std::string reply;
  for (int i = 0; i < 100000; ++i) reply += "*1\r\n";
  FakeServer server = answering(reply);
  Client client(fake_options(server.port()), PoolOptions{});
  EXPECT_THROW(client.get("k"), ProtocolError);
}

TEST(Transport, StatusReplyToGet_ThrowsProtocolErrorNotValue) {
  FakeServer server = answering("+OK\r\n");
  Client client(fake_options(server.port()), PoolOptions{});
  EXPECT_THROW(client.get("k"), ProtocolError);
}

TEST(Transport, GarbageReply_ThrowsProtocolErrorAndDiscardsConnection) {
  FakeServer server = answering("!!garbage\r\n");
  ConnectionPool pool(fake_options(server.port()));
  {
    Lease lease = pool.lease();
    EXPECT_THROW(lease.command({"GET", "k"}), ProtocolError);
    EXPECT_TRUE(lease.broken());
  }
  EXPECT_EQ(pool.stats().discarded, 1U);
}

TEST(Transport, ServerClosesMidReply_ThrowsIoError) {
  FakeServer server([](int fd) {
    if (!FakeServer::read_request(fd).empty()) FakeServer::write_all(fd, "$10\r\nabc");
  });
  Client client(fake_options(server.port()), PoolOptions{});
  try {
    client.get("k");
    FAIL() << "expected IoError";
  } catch (const TimeoutError& e) {
    FAIL() << "a closed connection is not a timeout: " << e.what();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("closed"), std::string::npos) << e.what();
  }
}

TEST(Transport, RefusedPort_ThrowsIoErrorNamingEndpoint) {
  ConnectionOptions o = fake_options(test::free_port());
  ConnectionPool pool(o);
  try {
    (void)pool.lease();
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(o.endpoint()), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.stats().connect_failures, 1U);
}

TEST(Transport, UnresolvableHost_ThrowsIoError) {
  ConnectionOptions o = fake_options(6379);
  o.host = "no-such-host.invalid";
  ConnectionPool pool(o);
  EXPECT_THROW((void)pool.lease(), IoError);
}

TEST(Transport, Localhost_ConnectsWhicheverFamilyTheServerListensOn) {
  REDISCACHE_REQUIRE_REDIS(ep);
  if (ep.host != "127.0.0.1") GTEST_SKIP() << "needs the shared server on 127.0.0.1";
  // "localhost" resolves to ::1 and 127.0.0.1; the server listens on 127.0.0.1 only, so an
  // address that refuses must not end the attempt.
  ConnectionOptions o = test::connection_options(ep);  // TLS too in the TLS rerun
  o.host = "localhost";
  Client client(o, PoolOptions{});
  EXPECT_EQ(client.ping(), "PONG");
}

TEST(Transport, LargePipeline_RoundTripsInOrder) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client(test::connection_options(ep), PoolOptions{});
  const std::string prefix = test::unique_prefix();
  const std::string value(1000, 'v');
  Pipeline pipeline = client.pipeline();
  constexpr int kCount = 2000;  // ~2 MB out, ~2 MB back: many reads and partial writes
  for (int i = 0; i < kCount; ++i)
    pipeline.set(prefix + std::to_string(i), value + std::to_string(i));
  for (int i = 0; i < kCount; ++i) pipeline.get(prefix + std::to_string(i));
  auto replies = pipeline.exec();
  ASSERT_EQ(replies.size(), 2U * kCount);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(replies[kCount + i].str, value + std::to_string(i)) << i;
  }
  Pipeline cleanup = client.pipeline();
  for (int i = 0; i < kCount; ++i) cleanup.command({"DEL", prefix + std::to_string(i)});
  cleanup.exec();
}

}  // namespace
}  // namespace rediscache
