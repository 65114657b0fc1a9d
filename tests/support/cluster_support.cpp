#include "cluster_support.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rediscache::test {

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

void expect_ok(const std::string& reply, const std::string& what) {
  if (reply != "OK") throw std::runtime_error(what + ": " + reply);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) throw std::runtime_error("no free port");
  return port;
}

bool wait_until(std::chrono::seconds limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (done()) return true;
    } catch (const std::exception&) {
      // not ready yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

std::vector<ClusterNode> cluster_masters(const std::vector<Endpoint>& nodes) {
  std::vector<ClusterNode> masters;
  for (const Endpoint& node : nodes) {
    try {
      const auto role = lines(raw_command(node, {"ROLE"}));
      if (role.empty() || role[0] != "master") continue;
      masters.push_back({node, raw_command(node, {"CLUSTER", "MYID"})});
    } catch (const std::exception&) {
      // a dead node is no master
    }
  }
  return masters;
}

void move_slot(int slot, const ClusterNode& from, const ClusterNode& to,
               const std::vector<ClusterNode>& masters) {
  const std::string s = std::to_string(slot);
  expect_ok(raw_command(to.endpoint, {"CLUSTER", "SETSLOT", s, "IMPORTING", from.id}),
            "SETSLOT IMPORTING");
  expect_ok(raw_command(from.endpoint, {"CLUSTER", "SETSLOT", s, "MIGRATING", to.id}),
            "SETSLOT MIGRATING");
  for (;;) {
    const auto keys = lines(raw_command(from.endpoint, {"CLUSTER", "GETKEYSINSLOT", s, "50"}));
    if (keys.empty()) break;
    std::vector<std::string> argv = {
        "MIGRATE", to.endpoint.host, std::to_string(to.endpoint.port), "", "0", "5000", "KEYS"};
    argv.insert(argv.end(), keys.begin(), keys.end());
    const std::string reply = raw_command(from.endpoint, argv);
    if (reply != "OK" && reply != "NOKEY") throw std::runtime_error("MIGRATE: " + reply);
  }
  expect_ok(raw_command(to.endpoint, {"CLUSTER", "SETSLOT", s, "NODE", to.id}), "SETSLOT NODE");
  expect_ok(raw_command(from.endpoint, {"CLUSTER", "SETSLOT", s, "NODE", to.id}), "SETSLOT NODE");
  for (const ClusterNode& master : masters) {
    if (master.id == from.id || master.id == to.id) continue;
    raw_command(master.endpoint, {"CLUSTER", "SETSLOT", s, "NODE", to.id});
  }
}

PrivateCluster::PrivateCluster() {
  for (int i = 0; i < 6; ++i) {
    // The bus port defaults to port + 10000, which may not exist: give it one of its own.
    servers_.push_back(std::make_unique<RedisServer>(std::vector<std::string>{
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
        "2000", "--cluster-port", std::to_string(free_port()), "--repl-diskless-sync-delay", "0"}));
  }
  std::string command = "redis-cli --cluster create";
  for (const auto& server : servers_) command += " 127.0.0.1:" + std::to_string(server->port());
  command += " --cluster-replicas 1 --cluster-yes >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe, cert-env33-c)
    throw std::runtime_error("redis-cli --cluster create failed");
  }
  for (const auto& server : servers_) {
    const Endpoint ep = server->endpoint();
    if (!wait_until(std::chrono::seconds(30), [&] {
          return raw_command(ep, {"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
        })) {
      throw std::runtime_error("private cluster never reached cluster_state:ok");
    }
  }
  for (const auto& server : servers_) {
    const Endpoint ep = server->endpoint();
    if (lines(raw_command(ep, {"ROLE"}))[0] != "slave") continue;
    if (!wait_until(std::chrono::seconds(30), [&] {
          return raw_command(ep, {"INFO", "replication"}).find("master_link_status:up") !=
                 std::string::npos;
        })) {
      throw std::runtime_error("private cluster replica never synced");
    }
  }
}

PrivateCluster::~PrivateCluster() = default;

std::vector<Endpoint> PrivateCluster::nodes() const {
  std::vector<Endpoint> out;
  for (const auto& server : servers_) out.push_back(server->endpoint());
  return out;
}

void PrivateCluster::kill(const Endpoint& endpoint) {
  for (const auto& server : servers_) {
    if (server->port() == endpoint.port) server->kill();
  }
}

}  // namespace rediscache::test
