// Sentinel replies are untrusted (a sentinel can be misconfigured, compromised or not a sentinel
// at all): the pure parsers of `SENTINEL get-master-addr-by-name` and `ROLE` against hostile
// shapes, with no server. Every shape is a clear "no address" / "not a master", never a crash,
// an exception or an address a pool would reject.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"
#include "reply_builders.hpp"
#include "topology/sentinel_topology.hpp"

namespace rediscache::detail {
namespace {

using test::array;
using test::of_type;
using test::str;

Reply address(std::string host, std::string port) {
  return array({str(std::move(host)), str(std::move(port))});
}

TEST(SentinelReply, MasterAddress_WellFormed_Parsed) {
  const std::optional<ServerAddress> a = parse_master_address(address("10.0.0.7", "6380"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.7");
  EXPECT_EQ(a->port, 6380);
  const std::optional<ServerAddress> v6 = parse_master_address(address("fe80::1%eth0", "1"));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "fe80::1%eth0");
  EXPECT_EQ(parse_master_address(address("redis.example.org", "65535"))->port, 65535);
}

TEST(SentinelReply, MasterAddress_BadPorts_NoAddress) {
  for (const char* port : {"0", "65536", "99999999999999999999", "-1", "+6379", " 6379", "6379 ",
                           "6379\r\n", "", "63a9", "0x1F", "6379.0", "1e3"}) {
    EXPECT_FALSE(parse_master_address(address("127.0.0.1", port))) << '"' << port << '"';
  }
  EXPECT_FALSE(parse_master_address(address("127.0.0.1", std::string("6379\0", 5))));
}

TEST(SentinelReply, MasterAddress_BadHosts_NoAddress) {
  for (const std::string& host :
       {std::string(), std::string("127.0.0.1\0evil", 14), std::string("a b"),
        std::string("host\r\n"), std::string("unix:/tmp/x"), std::string(256, 'a'),
        std::string("\x7f")}) {
    EXPECT_FALSE(parse_master_address(address(host, "6379"))) << host.size();
  }
  EXPECT_TRUE(parse_master_address(address(std::string(255, 'a'), "6379")));  // the longest name
}

TEST(SentinelReply, MasterAddress_WrongShapes_NoAddress) {
  EXPECT_FALSE(parse_master_address(Reply{}));  // nil: the sentinel does not know the master
  EXPECT_FALSE(parse_master_address(of_type(ReplyType::kError, "ERR unknown command")));
  EXPECT_FALSE(parse_master_address(of_type(ReplyType::kStatus, "OK")));
  EXPECT_FALSE(parse_master_address(of_type(ReplyType::kInteger, {}, 6379)));
  EXPECT_FALSE(parse_master_address(str("127.0.0.1:6379")));
  EXPECT_FALSE(parse_master_address(array({})));
  EXPECT_FALSE(parse_master_address(array({str("127.0.0.1")})));
  EXPECT_FALSE(parse_master_address(array({str("127.0.0.1"), str("6379"), str("6380")})));
  // Integer port, status host, nil or error elements, nested arrays.
  EXPECT_FALSE(
      parse_master_address(array({str("127.0.0.1"), of_type(ReplyType::kInteger, "6379", 6379)})));
  EXPECT_FALSE(parse_master_address(array({of_type(ReplyType::kStatus, "127.0.0.1"), str("1")})));
  EXPECT_FALSE(parse_master_address(array({Reply{}, str("6379")})));
  EXPECT_FALSE(parse_master_address(array({str("127.0.0.1"), of_type(ReplyType::kError, "1")})));
  EXPECT_FALSE(parse_master_address(array({address("127.0.0.1", "6379"), str("6379")})));
  EXPECT_FALSE(parse_master_address(array({str("127.0.0.1"), address("6379", "6379")})));
}

TEST(SentinelReply, MasterAddress_HugeOrDeepReplies_NoAddress) {
  std::vector<Reply> many(100'000, str("127.0.0.1"));
  EXPECT_FALSE(parse_master_address(array(std::move(many))));
  Reply deep = address("127.0.0.1", "6379");
  for (int i = 0; i < 1000; ++i) deep = array({std::move(deep), str("1")});
  EXPECT_FALSE(parse_master_address(deep));
  EXPECT_FALSE(parse_master_address(address(std::string(1 << 20, 'h'), "6379")));
  EXPECT_FALSE(parse_master_address(address("127.0.0.1", std::string(1 << 20, '9'))));
}

TEST(SentinelReply, MasterAddress_EveryAcceptedAddress_AcceptedByAPool) {
  // Whatever the parser lets through, the pool's own validation accepts: nothing a sentinel
  // says can make std::invalid_argument escape a resolution.
  for (const auto& [host, port] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1", "1"}, {"::1", "65535"}, {std::string(255, 'x'), "6379"}}) {
    const std::optional<ServerAddress> a = parse_master_address(address(host, port));
    ASSERT_TRUE(a) << host;
    ConnectionOptions options;
    options.host = a->host;
    options.port = a->port;
    EXPECT_NO_THROW(options.validate()) << host;
  }
}

TEST(SentinelReply, Role_OnlyAMasterReplySaysMaster) {
  EXPECT_TRUE(
      is_master_role(array({str("master"), of_type(ReplyType::kInteger, {}, 0), array({})})));
  EXPECT_TRUE(is_master_role(array({str("master")})));
  EXPECT_FALSE(is_master_role(array({str("slave"), str("127.0.0.1")})));
  EXPECT_FALSE(is_master_role(array({str("sentinel"), array({str("m")})})));
  EXPECT_FALSE(is_master_role(array({})));
  EXPECT_FALSE(is_master_role(Reply{}));
  EXPECT_FALSE(is_master_role(str("master")));
  EXPECT_FALSE(is_master_role(of_type(ReplyType::kStatus, "master")));
  EXPECT_FALSE(is_master_role(of_type(ReplyType::kError, "master")));
  // A status or error element that reads "master", or a nested one, is not the role field.
  EXPECT_FALSE(is_master_role(array({of_type(ReplyType::kStatus, "master")})));
  EXPECT_FALSE(is_master_role(array({of_type(ReplyType::kError, "master")})));
  EXPECT_FALSE(is_master_role(array({array({str("master")})})));
  EXPECT_FALSE(is_master_role(array({str("MASTER")})));
  EXPECT_FALSE(is_master_role(array({str(std::string("master\0", 7))})));
  std::vector<Reply> many(100'000, str("slave"));
  EXPECT_FALSE(is_master_role(array(std::move(many))));
}

}  // namespace
}  // namespace rediscache::detail
