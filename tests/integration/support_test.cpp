// Proves the test support library against real servers: the shared redis-server and PostgreSQL
// that scripts/test starts, and private redis-server processes.
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "test_env.hpp"

namespace {

using rediscache::test::raw_command;
using rediscache::test::RedisServer;
using rediscache::test::unique_prefix;

TEST(SupportSharedRedis, RawCommand_SetGetDel_RendersReplies) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string key = unique_prefix() + "k";
  EXPECT_EQ(raw_command(ep, {"PING"}), "PONG");
  EXPECT_EQ(raw_command(ep, {"SET", key, std::string("a\0b", 3)}), "OK");
  EXPECT_EQ(raw_command(ep, {"GET", key}), std::string("a\0b", 3));
  EXPECT_EQ(raw_command(ep, {"DEL", key}), "1");
  EXPECT_EQ(raw_command(ep, {"GET", key}), "(nil)");
  EXPECT_EQ(raw_command(ep, {"RPUSH", key, "x", "y"}), "2");
  EXPECT_EQ(raw_command(ep, {"LRANGE", key, "0", "-1"}), "x\ny");
  EXPECT_EQ(raw_command(ep, {"DEL", key}), "1");
  EXPECT_EQ(raw_command(ep, {"NOSUCHCOMMAND"}).rfind("ERR ", 0), 0u);
}

TEST(SupportSharedRedis, UniquePrefix_NamesTestAndProcess_DiffersPerCall) {
  REDISCACHE_SINGLE_NODE_ONLY();  // the cluster rerun wraps the prefix in a {hash tag}
  const std::string a = unique_prefix();
  const std::string b = unique_prefix();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("t:SupportSharedRedis.UniquePrefix_NamesTestAndProcess_DiffersPerCall:" +
                        std::to_string(::getpid()) + ":",
                    0),
            0u)
      << a;
  EXPECT_EQ(a.back(), ':');
}

TEST(SupportPostgres, SharedDatabase_AnswersQuery) {
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT 40 + 2")[0].as<int>(), 42);
}

TEST(SupportRedisServer, StopStartKill_ControlsPrivateServer) {
  RedisServer server;
  ASSERT_TRUE(server.running());
  EXPECT_EQ(server.host(), "127.0.0.1");
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.command({"SET", "k", "v"}), "OK");

  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_THROW(server.command({"PING"}), std::runtime_error);

  const int port = server.port();
  server.start();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  // --save '' and no AOF: a restart starts empty.
  EXPECT_EQ(server.command({"GET", "k"}), "(nil)");

  server.kill();
  EXPECT_FALSE(server.running());
  server.start();
  EXPECT_EQ(raw_command(server.endpoint(), {"PING"}), "PONG");
}

TEST(SupportRedisServer, ExtraArgs_RequirePassAndAcl) {
  RedisServer server({"--requirepass", "s3cret"});
  EXPECT_EQ(server.command({"PING"}).rfind("NOAUTH", 0), 0u);
  EXPECT_EQ(server.command({"PING"}, "wrong").rfind("WRONGPASS", 0), 0u);
  EXPECT_EQ(server.command({"PING"}, "s3cret"), "PONG");
  EXPECT_EQ(server.command({"ACL", "SETUSER", "app", "on", ">apppass", "~*", "+@all"}, "s3cret"),
            "OK");
  EXPECT_EQ(raw_command(server.endpoint(), {"ACL", "WHOAMI"}, "app", "apppass"), "app");
}

TEST(SupportRedisServer, DebugSleep_IsAllowedFromLoopback) {
  RedisServer server;
  EXPECT_EQ(server.command({"DEBUG", "SLEEP", "0"}), "OK");
  EXPECT_EQ(server.command({"CONFIG", "SET", "maxmemory", "10mb"}), "OK");
}

TEST(SupportRedisServer, ForkedChild_DoesNotStopParentsServer) {
  RedisServer server;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child may use the server and even destroy a copy of the object: nothing stops it.
    const bool ok = raw_command(server.endpoint(), {"PING"}) == "PONG";
    server.~RedisServer();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.command({"PING"}), "PONG");
}

}  // namespace
