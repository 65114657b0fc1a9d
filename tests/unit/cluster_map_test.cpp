// Slot-map replies (CLUSTER SHARDS, CLUSTER SLOTS) are untrusted: crafted replies, no server.
// Out-of-range slots and invalid ports are dropped and counted, never handed to a pool; a map
// with no usable range is refused (ClusterTopology keeps its last good map, or fails to start).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/client/client.hpp"
#include "rediscache/net/reply.hpp"
#include "rediscache/util/errors.hpp"
#include "reply_builders.hpp"
#include "topology/cluster_topology.hpp"

namespace {

using rediscache::Reply;
using rediscache::ReplyType;
using rediscache::detail::parse_cluster_shards;
using rediscache::detail::parse_cluster_slots;

using rediscache::test::array;
using rediscache::test::error;
using rediscache::test::integer;
using rediscache::test::str;

Reply slots_node(const std::string& ip, long long port) {
  return array({str(ip), integer(port), str("id")});
}

Reply shards_node(const std::string& role, long long port, const std::string& health = "online") {
  return array({str("ip"), str("127.0.0.1"), str("port"), integer(port), str("role"), str(role),
                str("health"), str(health)});
}

Reply shard(std::vector<Reply> slots, std::vector<Reply> nodes) {
  return array({str("slots"), array(std::move(slots)), str("nodes"), array(std::move(nodes))});
}

TEST(ClusterMapParse, Slots_OnlyRangeOutOfBounds_NoUsableRange) {
  const Reply reply = array({array({integer(0), integer(16384), slots_node("127.0.0.1", 7000)})});
  const auto parsed = parse_cluster_slots(reply, "127.0.0.1");
  EXPECT_TRUE(parsed.understood);
  EXPECT_TRUE(parsed.ranges.empty());
  EXPECT_EQ(parsed.dropped_ranges, 1u);
}

TEST(ClusterMapParse, Slots_PortZeroOrHuge_DroppedNeverPassedOn) {
  const Reply reply = array({
      array({integer(0), integer(8191), slots_node("127.0.0.1", 0)}),  // master port 0
      array({integer(8192), integer(16383), slots_node("127.0.0.1", 7001),
             slots_node("127.0.0.1", 70000), slots_node("127.0.0.1", 7002)}),
  });
  const auto parsed = parse_cluster_slots(reply, "127.0.0.1");
  ASSERT_EQ(parsed.ranges.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].first, 8192);
  EXPECT_EQ(parsed.ranges[0].master_port, 7001);
  ASSERT_EQ(parsed.ranges[0].replicas.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].replicas[0].second, 7002);
  EXPECT_EQ(parsed.dropped_ranges, 1u);
  EXPECT_EQ(parsed.dropped_nodes, 1u);
}

TEST(ClusterMapParse, Slots_NotIntegersOrNegative_Dropped) {
  const Reply reply = array({
      array({str("0"), integer(100), slots_node("127.0.0.1", 7000)}),
      array({integer(-5), integer(100), slots_node("127.0.0.1", 7000)}),
      array({integer(200), integer(100), slots_node("127.0.0.1", 7000)}),
  });
  const auto parsed = parse_cluster_slots(reply, "127.0.0.1");
  EXPECT_TRUE(parsed.ranges.empty());
  EXPECT_EQ(parsed.dropped_ranges, 3u);
}

TEST(ClusterMapParse, Shards_ErrorReply_NotUnderstoodSoSlotsIsAsked) {
  EXPECT_FALSE(parse_cluster_shards(error("ERR unknown subcommand"), "h").understood);
}

TEST(ClusterMapParse, Shards_ReplicaWithPortZero_Skipped) {
  const Reply reply = array(
      {shard({integer(0), integer(16383)}, {shards_node("master", 7000), shards_node("replica", 0),
                                            shards_node("replica", 7003)})});
  const auto parsed = parse_cluster_shards(reply, "127.0.0.1");
  ASSERT_TRUE(parsed.understood);
  ASSERT_EQ(parsed.ranges.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].master_port, 7000);
  ASSERT_EQ(parsed.ranges[0].replicas.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].replicas[0].second, 7003);
  EXPECT_EQ(parsed.dropped_nodes, 1u);
}

TEST(ClusterMapParse, Shards_MasterPortZeroOrSlotsOutOfRange_RangeDropped) {
  const Reply reply = array({
      shard({integer(0), integer(100)}, {shards_node("master", 0)}),
      shard({integer(101), integer(16384)}, {shards_node("master", 7001)}),
      shard({integer(200), integer(300)}, {shards_node("master", 7002)}),
  });
  const auto parsed = parse_cluster_shards(reply, "127.0.0.1");
  ASSERT_EQ(parsed.ranges.size(), 1u);
  EXPECT_EQ(parsed.ranges[0].first, 200);
  EXPECT_EQ(parsed.dropped_ranges, 2u);
}

// A loopback server that answers each RESP command with `answer(argv)`: enough of a cluster
// node to hand a client crafted slot maps. One thread, connections served one at a time.
class FakeNode {
 public:
  explicit FakeNode(std::function<std::string(const std::vector<std::string>&)> answer)
      : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeNode() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;
  [[nodiscard]] int port() const { return port_; }

 private:
  void serve() {
    std::vector<int> clients;
    std::vector<std::string> buffers;
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const int c : clients) fds.push_back({c, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        clients.push_back(::accept(listener_, nullptr, nullptr));
        buffers.emplace_back();
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char chunk[4096];
        const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
        if (n <= 0) continue;
        std::string& buffer = buffers[i - 1];
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::vector<std::string> argv;
        while (take_command(buffer, argv)) {
          const std::string out = answer_(argv);
          (void)::write(fds[i].fd, out.data(), out.size());
        }
      }
    }
    for (const int c : clients) ::close(c);
  }

  // One "*N\r\n$L\r\narg\r\n..." command off the front of `buffer`, if complete.
  static bool take_command(std::string& buffer, std::vector<std::string>& argv) {
    argv.clear();
    std::size_t pos = 0;
    const auto line = [&](std::string& out) {
      const std::size_t end = buffer.find("\r\n", pos);
      if (end == std::string::npos) return false;
      out = buffer.substr(pos, end - pos);
      pos = end + 2;
      return true;
    };
    std::string header;
    if (!line(header) || header.empty() || header[0] != '*') return false;
    const int count = std::stoi(header.substr(1));
    for (int i = 0; i < count; ++i) {
      std::string size;
      if (!line(size)) return false;
      const std::size_t n = std::stoul(size.substr(1));
      if (buffer.size() < pos + n + 2) return false;
      argv.push_back(buffer.substr(pos, n));
      pos += n + 2;
    }
    buffer.erase(0, pos);
    return true;
  }

  std::function<std::string(const std::vector<std::string>&)> answer_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A node that refuses CLUSTER SHARDS and answers CLUSTER SLOTS with `slots`.
std::string answer_with_slots(const std::vector<std::string>& argv, const std::string& slots) {
  if (argv.size() >= 2 && argv[0] == "CLUSTER" && argv[1] == "SHARDS") {
    return "-ERR unknown subcommand 'SHARDS'\r\n";
  }
  if (argv.size() >= 2 && argv[0] == "CLUSTER" && argv[1] == "SLOTS") return slots;
  if (!argv.empty() && argv[0] == "PING") return "+PONG\r\n";
  return "+OK\r\n";
}

std::string slots_reply(long long first, long long last, int port) {
  return "*1\r\n*3\r\n:" + std::to_string(first) + "\r\n:" + std::to_string(last) +
         "\r\n*3\r\n$9\r\n127.0.0.1\r\n:" + std::to_string(port) + "\r\n$2\r\nid\r\n";
}

rediscache::ClusterOptions fake_cluster(int port) {
  rediscache::ClusterOptions options;
  options.seeds = {{"127.0.0.1", port}};
  options.connection.connect_timeout = std::chrono::milliseconds(500);
  options.connection.command_timeout = std::chrono::milliseconds(500);
  return options;
}

TEST(ClusterTopologyFake, OnlySlotRangeOutOfBounds_ClusterThrowsIoErrorNotANullNode) {
  const std::string slots = slots_reply(0, 16384, 7000);
  FakeNode node(
      [&](const std::vector<std::string>& argv) { return answer_with_slots(argv, slots); });
  EXPECT_THROW(rediscache::Client::cluster(fake_cluster(node.port())), rediscache::IoError);
}

TEST(ClusterTopologyFake, MasterPortZero_ClusterThrowsIoErrorNotInvalidArgument) {
  const std::string slots = slots_reply(0, 16383, 0);
  FakeNode node(
      [&](const std::vector<std::string>& argv) { return answer_with_slots(argv, slots); });
  EXPECT_THROW(rediscache::Client::cluster(fake_cluster(node.port())), rediscache::IoError);
}

TEST(ClusterTopologyFake, GoodMapThenHostileRefresh_LastGoodMapKept) {
  std::atomic<bool> hostile{false};
  int port = 0;
  FakeNode node([&](const std::vector<std::string>& argv) {
    return answer_with_slots(argv,
                             hostile ? slots_reply(0, 16384, port) : slots_reply(0, 16383, port));
  });
  port = node.port();
  rediscache::detail::ClusterTopology topology(fake_cluster(port));
  hostile = true;
  EXPECT_FALSE(topology.refresh(true));
  EXPECT_EQ(topology.master_for(rediscache::cluster_slot("k")).connection_options().port, port);
}

}  // namespace
