// Client: every command family against the real server, binary safety, and error messages.
#include "rediscache/client/client.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::ReplyError;
using rediscache::SetCondition;
using rediscache::SetOptions;
using ClientCommands = rediscache::test::RedisTest;

TEST_F(ClientCommands, Strings_SetGetWithOptions) {
  auto& c = client();
  const std::string k = key("s");
  EXPECT_FALSE(c.get(k));
  EXPECT_TRUE(c.set(k, "v1"));
  EXPECT_EQ(c.get(k).value(), "v1");
  EXPECT_EQ(c.pttl(k), rediscache::kTtlNoExpiry);
  SetOptions nx;
  nx.condition = SetCondition::kIfNotExists;
  EXPECT_FALSE(c.set(k, "v2", nx));
  SetOptions xx;
  xx.condition = SetCondition::kIfExists;
  xx.ttl = 5s;
  EXPECT_TRUE(c.set(k, "v3", xx));
  EXPECT_GT(c.pttl(k), 4000);
  EXPECT_LE(c.ttl(k), 5);
  SetOptions keep;
  keep.keep_ttl = true;
  EXPECT_TRUE(c.set(k, "v4", keep));
  EXPECT_GT(c.pttl(k), 0);
  EXPECT_FALSE(c.set(key("absent"), "x", xx));
  EXPECT_EQ(c.pttl(key("absent")), rediscache::kTtlKeyMissing);
  c.setex(k, 100s, "v5");
  EXPECT_GT(c.ttl(k), 90);
}

TEST_F(ClientCommands, Strings_MgetMsetCountersAndKeys) {
  auto& c = client();
  const std::string a = key("a"), b = key("b"), n = key("n");
  c.mset({{a, "1"}, {b, "2"}});
  const auto values = c.mget({a, key("missing"), b});
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].value(), "1");
  EXPECT_FALSE(values[1]);
  EXPECT_EQ(values[2].value(), "2");
  c.mset(std::vector<std::pair<std::string, std::string>>{{n, "10"}});
  EXPECT_EQ(c.incr(n), 11);
  EXPECT_EQ(c.incrby(n, 5), 16);
  EXPECT_EQ(c.decrby(n, 6), 10);
  EXPECT_EQ(c.exists({a, b, key("missing")}), 2);
  EXPECT_TRUE(c.expire(a, 50s));
  EXPECT_TRUE(c.pexpire(b, 50000ms));
  EXPECT_FALSE(c.expire(key("missing"), 5s));
  EXPECT_EQ(c.del({a}), 1);
  EXPECT_EQ(c.unlink({b, n}), 2);
  EXPECT_EQ(c.type(a), "none");
}

TEST_F(ClientCommands, BinarySafety_NulBytesAndOddKeys) {
  auto& c = client();
  const std::string value("\0a\r\n\0b\xff", 7);
  const std::vector<std::string> keys = {key("with space"), key("new\nline"),
                                         key("\xc3\xa9t\xc3\xa9 \xe2\x9c\x93"), key(value)};
  for (const auto& k : keys) {
    c.set(k, value, SetOptions{60s});
    EXPECT_EQ(c.get(k).value(), value) << "key " << k;
  }
  EXPECT_EQ(c.exists(keys), 4);
}

TEST_F(ClientCommands, LargeValue_4MiB_RoundTrips) {
  auto& c = client();
  std::string big(4u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  c.set(key("big"), big, SetOptions{60s});
  const auto back = c.get(key("big"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), big.size());
  EXPECT_TRUE(*back == big);
}

TEST_F(ClientCommands, Hashes) {
  auto& c = client();
  const std::string h = key("h");
  EXPECT_EQ(c.hset(h, "f1", "v1"), 1);
  EXPECT_EQ(c.hset(h, {{"f2", "v2"}, {"f3", "v3"}}), 2);
  EXPECT_EQ(c.hset(h, std::vector<std::pair<std::string, std::string>>{{"f1", "w1"}}), 0);
  EXPECT_EQ(c.hget(h, "f1").value(), "w1");
  EXPECT_FALSE(c.hget(h, "nope"));
  const auto some = c.hmget(h, {"f2", "nope"});
  EXPECT_EQ(some[0].value(), "v2");
  EXPECT_FALSE(some[1]);
  EXPECT_EQ(c.hincrby(h, "count", 3), 3);
  EXPECT_TRUE(c.hexists(h, "count"));
  EXPECT_EQ(c.hlen(h), 4);
  const auto all = c.hgetall(h);
  EXPECT_EQ(all.at("f3"), "v3");
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(c.hdel(h, {"f1", "nope"}), 1);
  EXPECT_TRUE(c.hgetall(key("none")).empty());
}

TEST_F(ClientCommands, Lists) {
  auto& c = client();
  const std::string l = key("l"), other = key("l2");
  EXPECT_EQ(c.rpush(l, {"a", "b", "c"}), 3);
  EXPECT_EQ(c.lpush(l, {"z"}), 4);
  EXPECT_EQ(c.lrange(l, 0, -1), (std::vector<std::string>{"z", "a", "b", "c"}));
  EXPECT_EQ(c.lpop(l).value(), "z");
  EXPECT_EQ(c.rpop(l).value(), "c");
  EXPECT_EQ(c.lmove(l, other, rediscache::ListEnd::kLeft, rediscache::ListEnd::kRight).value(),
            "a");
  EXPECT_EQ(c.llen(l), 1);
  EXPECT_EQ(c.rpush(l, {"x", "b", "y"}), 4);
  EXPECT_EQ(c.lrem(l, 0, "b"), 2);
  c.ltrim(l, 0, 0);
  EXPECT_EQ(c.lrange(l, 0, -1), (std::vector<std::string>{"x"}));
  const auto popped = c.brpop({key("empty"), l}, 1000ms);
  ASSERT_TRUE(popped);
  EXPECT_EQ(popped->first, l);
  EXPECT_EQ(popped->second, "x");
  EXPECT_FALSE(c.lpop(l));
  EXPECT_FALSE(c.lmove(l, other, rediscache::ListEnd::kLeft, rediscache::ListEnd::kLeft));
}

TEST_F(ClientCommands, BlockingPops_WaitBeyondCommandTimeout) {
  // A blocking call may wait longer than the command timeout: its own timeout is added.
  rediscache::ConnectionOptions o = options_;
  o.command_timeout = 100ms;
  rediscache::Client c(o);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(c.brpop({key("never")}, 300ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  std::thread producer([&] {
    std::this_thread::sleep_for(150ms);
    client().rpush(key("q"), {"job"});
  });
  const auto moved = c.blmove(key("q"), key("work"), rediscache::ListEnd::kRight,
                              rediscache::ListEnd::kLeft, 2000ms);
  producer.join();
  EXPECT_EQ(moved.value_or(""), "job");
}

TEST_F(ClientCommands, Sets) {
  auto& c = client();
  const std::string s1 = key("s1"), s2 = key("s2");
  EXPECT_EQ(c.sadd(s1, {"a", "b", "c", "a"}), 3);
  EXPECT_EQ(c.sadd(s2, {"b", "c", "d"}), 3);
  EXPECT_TRUE(c.sismember(s1, "a"));
  EXPECT_FALSE(c.sismember(s1, "d"));
  EXPECT_EQ(c.scard(s1), 3);
  auto inter = c.sinter({s1, s2});
  std::sort(inter.begin(), inter.end());
  EXPECT_EQ(inter, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(c.sunion({s1, s2}).size(), 4u);
  EXPECT_EQ(c.srem(s1, {"a", "zz"}), 1);
  EXPECT_EQ(c.smembers(s1).size(), 2u);
}

TEST_F(ClientCommands, SortedSets) {
  auto& c = client();
  const std::string z = key("z");
  EXPECT_EQ(c.zadd(z, "alice", 10), 1);
  EXPECT_EQ(c.zadd(z, {{"bob", 20}, {"carol", 15.5}}), 2);
  EXPECT_DOUBLE_EQ(c.zincrby(z, 2.5, "alice"), 12.5);
  EXPECT_DOUBLE_EQ(c.zscore(z, "carol").value(), 15.5);
  EXPECT_FALSE(c.zscore(z, "nobody"));
  EXPECT_EQ(c.zrange(z, 0, -1), (std::vector<std::string>{"alice", "carol", "bob"}));
  EXPECT_EQ(c.zrevrange(z, 0, 0), (std::vector<std::string>{"bob"}));
  const auto top = c.zrevrange_with_scores(z, 0, 1);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], (rediscache::ScoredMember{"bob", 20}));
  EXPECT_EQ(c.zrange_with_scores(z, 0, 0)[0].member, "alice");
  EXPECT_EQ(c.zrank(z, "alice").value(), 0);
  EXPECT_EQ(c.zrevrank(z, "alice").value(), 2);
  EXPECT_FALSE(c.zrank(z, "nobody"));
  EXPECT_EQ(c.zcount(z, "(12.5", "+inf"), 2);
  EXPECT_EQ(c.zcount(z, 0.0, 15.5), 2);
  EXPECT_EQ(c.zcard(z), 3);
  EXPECT_EQ(c.zremrangebyscore(z, "-inf", "(15"), 1);
  EXPECT_EQ(c.zrem(z, {"bob"}), 1);
  c.zadd(z, "inf", 1.0 / 0.0);
  EXPECT_EQ(c.zscore(z, "inf").value(), 1.0 / 0.0);
}

TEST_F(ClientCommands, HyperLogLogAndBitmaps) {
  auto& c = client();
  EXPECT_TRUE(c.pfadd(key("hll1"), {"a", "b", "c"}));
  EXPECT_FALSE(c.pfadd(key("hll1"), {"a"}));
  c.pfadd(key("hll2"), {"c", "d"});
  EXPECT_EQ(c.pfcount({key("hll1"), key("hll2")}), 4);
  c.pfmerge(key("hll3"), {key("hll1"), key("hll2")});
  EXPECT_EQ(c.pfcount({key("hll3")}), 4);

  EXPECT_FALSE(c.setbit(key("b1"), 7, true));
  EXPECT_TRUE(c.setbit(key("b1"), 7, true));
  c.setbit(key("b1"), 100, true);
  c.setbit(key("b2"), 100, true);
  EXPECT_TRUE(c.getbit(key("b1"), 100));
  EXPECT_FALSE(c.getbit(key("b1"), 99));
  EXPECT_EQ(c.bitcount(key("b1")), 2);
  EXPECT_EQ(c.bitcount(key("b1"), 0, 0), 1);
  EXPECT_EQ(c.bitop(rediscache::BitOp::kAnd, key("b3"), {key("b1"), key("b2")}), 13);
  EXPECT_EQ(c.bitcount(key("b3")), 1);
  EXPECT_THROW(c.bitop(rediscache::BitOp::kNot, key("b4"), {key("b1"), key("b2")}),
               std::invalid_argument);
}

TEST_F(ClientCommands, Scan_VisitsEveryMatchingKey) {
  auto& c = client();
  for (int i = 0; i < 250; ++i) c.set(key("scan:" + std::to_string(i)), "v", SetOptions{60s});
  rediscache::ScanOptions options;
  options.match = key("scan:*");
  options.count = 50;
  std::set<std::string> seen;
  c.scan_each(options, [&](std::string_view k) { seen.emplace(k); });
  EXPECT_EQ(seen.size(), 250u);
  options.type = "hash";
  std::size_t hashes = 0;
  c.scan_each(options, [&](std::string_view) { ++hashes; });
  EXPECT_EQ(hashes, 0u);
}

TEST_F(ClientCommands, ServerCommands) {
  auto& c = client();
  EXPECT_EQ(c.ping(), "PONG");
  const auto info = c.info("server");
  EXPECT_TRUE(info.get("server", "redis_version"));
  EXPECT_TRUE(c.info().get("stats", "keyspace_hits"));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  EXPECT_NEAR(
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(c.time()).count()),
      static_cast<double>(now.count()), 5.0);
  EXPECT_GE(c.dbsize(), 0);
  c.set(key("m"), std::string(1000, 'x'), SetOptions{60s});
  EXPECT_GT(c.memory_usage(key("m")).value_or(0), 1000);
  EXPECT_FALSE(c.memory_usage(key("none")));
  EXPECT_EQ(c.type(key("m")), "string");
  EXPECT_EQ(c.command({"ECHO", "hi"}).str, "hi");
}

TEST_F(ClientCommands, ReplyError_NamesServerAndCommandNotValues) {
  auto& c = client();
  c.set(key("str"), "secret-value", SetOptions{60s});
  try {
    c.hget(key("str"), "secret-field");
    FAIL() << "expected ReplyError";
  } catch (const ReplyError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(endpoint_.host + ":" + std::to_string(endpoint_.port)), std::string::npos);
    EXPECT_NE(what.find("HGET"), std::string::npos);
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
    EXPECT_EQ(e.server_code(), "WRONGTYPE");
    EXPECT_EQ(e.code(), rediscache::Errc::kReply);
  }
  try {
    c.command({"NOSUCHCOMMAND", "secret-arg"});
    FAIL() << "expected ReplyError";
  } catch (const ReplyError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
  // The connection that saw the error stays usable.
  EXPECT_EQ(c.ping(), "PONG");
  EXPECT_EQ(c.pool().stats().discarded, 0u);
}

}  // namespace
