// Cluster key slots (the Redis Cluster spec's CRC16 vectors and hash-tag rules), redirection
// parsing, and validation of ClusterOptions / SentinelOptions.
#include "rediscache/topology/cluster.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "rediscache/topology/sentinel.hpp"
#include "topology/topology.hpp"

namespace {

using rediscache::cluster_slot;

TEST(ClusterSlot, SpecVectors) {
  // CRC16/XMODEM("123456789") = 0x31C3 = 12739 (the spec's check value).
  EXPECT_EQ(cluster_slot("123456789"), 12739);
  EXPECT_EQ(cluster_slot("foo"), 12182);
  EXPECT_EQ(cluster_slot("bar"), 5061);
  EXPECT_EQ(cluster_slot(""), 0);
  EXPECT_LT(cluster_slot(std::string(1000, '\xff')), 16384);
}

TEST(ClusterSlot, HashTags_FirstNonEmptyBracePairDecides) {
  EXPECT_EQ(cluster_slot("{user1000}.following"), cluster_slot("{user1000}.followers"));
  EXPECT_EQ(cluster_slot("{user1000}.following"), cluster_slot("user1000"));
  EXPECT_EQ(cluster_slot("x{123456789}y"), 12739);
  // Only the first '{' counts, up to the first '}' after it.
  EXPECT_EQ(cluster_slot("foo{bar}{zap}"), cluster_slot("bar"));
  EXPECT_EQ(cluster_slot("foo{{bar}}zap"), cluster_slot("{bar"));
  // An empty tag or an unclosed brace hashes the whole key.
  EXPECT_EQ(cluster_slot("foo{}{bar}"), cluster_slot(std::string("foo{}{bar}")));
  EXPECT_NE(cluster_slot("foo{}{bar}"), cluster_slot("bar"));
  EXPECT_NE(cluster_slot("{bar"), cluster_slot("bar"));
  EXPECT_EQ(cluster_slot(std::string("{a\0b}x", 6)), cluster_slot(std::string("a\0b", 3)));
}

TEST(ClusterRedirect, ParsesMovedAskAndRetryReplies) {
  using rediscache::Reply;
  using rediscache::ReplyType;
  using rediscache::detail::parse_redirect;
  using rediscache::detail::Redirect;
  const auto error = [](std::string text) {
    Reply r;
    r.type = ReplyType::kError;
    r.str = std::move(text);
    return r;
  };
  auto moved = parse_redirect(error("MOVED 3999 127.0.0.1:6381"));
  EXPECT_EQ(moved.kind, Redirect::kMoved);
  EXPECT_EQ(moved.slot, 3999);
  EXPECT_EQ(moved.host, "127.0.0.1");
  EXPECT_EQ(moved.port, 6381);
  auto ask = parse_redirect(error("ASK 1 ::1:7000"));
  EXPECT_EQ(ask.kind, Redirect::kAsk);
  EXPECT_EQ(ask.host, "::1");
  EXPECT_EQ(ask.port, 7000);
  EXPECT_EQ(parse_redirect(error("MOVED 12 :7001")).host, "");
  EXPECT_EQ(parse_redirect(error("TRYAGAIN Multiple keys request during rehashing")).kind,
            Redirect::kTryAgain);
  EXPECT_EQ(parse_redirect(error("CLUSTERDOWN The cluster is down")).kind, Redirect::kClusterDown);
  EXPECT_EQ(parse_redirect(error("READONLY You can't write")).kind, Redirect::kReadOnly);
  EXPECT_EQ(parse_redirect(error("ERR wrong")).kind, Redirect::kNone);
  EXPECT_EQ(parse_redirect(error("MOVED x 1.2.3.4:5")).kind, Redirect::kNone);
  Reply ok;
  ok.type = ReplyType::kString;
  ok.str = "MOVED 1 a:1";
  EXPECT_EQ(parse_redirect(ok).kind, Redirect::kNone);
}

TEST(ClusterRedirect, ReadOnlyCommandsAreRecognised) {
  using rediscache::detail::is_read_only_command;
  EXPECT_TRUE(is_read_only_command("GET"));
  EXPECT_TRUE(is_read_only_command("mget"));
  EXPECT_TRUE(is_read_only_command("HGETALL"));
  EXPECT_FALSE(is_read_only_command("SET"));
  EXPECT_FALSE(is_read_only_command("INCR"));
  EXPECT_FALSE(is_read_only_command("EVALSHA"));
  EXPECT_FALSE(is_read_only_command(""));
}

TEST(ClusterRouting, RoutingKey_FindsTheFirstKeyInArgv) {
  using rediscache::detail::routing_key;
  EXPECT_EQ(routing_key({"GET", "k"}), "k");
  EXPECT_EQ(routing_key({"set", "k", "v"}), "k");
  EXPECT_EQ(routing_key({"BITOP", "AND", "dest", "a", "b"}), "dest");
  EXPECT_EQ(routing_key({"EVALSHA", "abc", "2", "k1", "k2", "arg"}), "k1");
  EXPECT_EQ(routing_key({"EVAL", "return 1", "0", "arg"}), "");
  EXPECT_EQ(routing_key({"XREAD", "COUNT", "2", "streams", "s1", "0"}), "s1");
  EXPECT_EQ(routing_key({"OBJECT", "ENCODING", "k"}), "k");
  EXPECT_EQ(routing_key({"PING"}), "");
  EXPECT_EQ(routing_key({"ECHO", "hi"}), "");
  EXPECT_EQ(routing_key({"script", "flush"}), "");
  EXPECT_EQ(routing_key({"PUBLISH", "channel", "m"}), "");
  EXPECT_EQ(routing_key({"WAIT", "1", "100"}), "");
}

template <class Options>
void expect_invalid(const Options& options, const std::string& field) {
  try {
    options.validate();
    FAIL() << "expected std::invalid_argument naming " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(ClusterOptions, Validate_NamesTheField) {
  rediscache::ClusterOptions o;
  expect_invalid(o, "ClusterOptions::seeds");
  o.seeds = {{"127.0.0.1", 7000}};
  EXPECT_NO_THROW(o.validate());
  o.seeds.push_back({"", 7001});
  expect_invalid(o, "ClusterOptions::seeds[1].host");
  o.seeds[1] = {"h", 0};
  expect_invalid(o, "ClusterOptions::seeds[1].port");
  o.seeds.pop_back();
  o.connection.db = 1;
  expect_invalid(o, "ClusterOptions::connection.db");
  o.connection.db = 0;
  o.connection.unix_socket = "/tmp/x";
  expect_invalid(o, "ClusterOptions::connection.unix_socket");
  o.connection.unix_socket.clear();
  o.max_redirects = 0;
  expect_invalid(o, "ClusterOptions::max_redirects");
  o.max_redirects = 5;
  o.refresh_interval = std::chrono::milliseconds(0);
  expect_invalid(o, "ClusterOptions::refresh_interval");
  o.refresh_interval = std::chrono::seconds(1);
  o.retry_timeout = std::chrono::milliseconds(-1);
  expect_invalid(o, "ClusterOptions::retry_timeout");
  o.retry_timeout = std::chrono::milliseconds(0);
  o.pool.size = 0;
  expect_invalid(o, "PoolOptions::size");
}

TEST(SentinelOptions, Validate_NamesTheField) {
  rediscache::SentinelOptions o;
  expect_invalid(o, "SentinelOptions::sentinels");
  o.sentinels = {{"127.0.0.1", 26379}};
  EXPECT_NO_THROW(o.validate());
  o.master_name.clear();
  expect_invalid(o, "SentinelOptions::master_name");
  o.master_name = "mymaster";
  o.sentinel_user = "u";
  expect_invalid(o, "SentinelOptions::sentinel_user");
  o.sentinel_user.clear();
  o.refresh_interval = std::chrono::milliseconds(0);
  expect_invalid(o, "SentinelOptions::refresh_interval");
  o.refresh_interval = std::chrono::seconds(1);
  o.connection.connect_timeout = std::chrono::milliseconds(0);
  expect_invalid(o, "ConnectionOptions::connect_timeout");
}

}  // namespace
