// Shared bits of the helpers' integration tests: a Client for a test endpoint (the shared cluster
// in the cluster rerun), waiting for a forked child, and polling a condition with a generous
// deadline.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "client_factory.hpp"
#include "eventually.hpp"
#include "rediscache/client/client.hpp"
#include "test_env.hpp"

namespace rediscache::test {

inline Client helpers_client(const Endpoint& ep, std::size_t pool_size = 8) {
  ConnectionOptions connection = connection_options(ep);
  connection.connect_timeout = std::chrono::milliseconds(500);
  connection.command_timeout = std::chrono::seconds(5);
  PoolOptions pool;
  pool.size = pool_size;
  pool.wait_timeout = std::chrono::seconds(10);
  // The cluster rerun (REDISCACHE_TEST_TOPOLOGY=cluster) puts the shared server's tests on the
  // cluster; private servers (restarts, redlock's independent nodes) stay single.
  const auto shared = shared_redis();
  if (cluster_mode() && shared && shared->host == ep.host && shared->port == ep.port) {
    ClusterOptions cluster = cluster_options(pool);
    cluster.connection.connect_timeout = connection.connect_timeout;
    cluster.connection.command_timeout = connection.command_timeout;
    return Client::cluster(cluster);
  }
  return Client(connection, pool);
}

/// Waits for a forked child; returns its exit status, or -signal when it was killed.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

}  // namespace rediscache::test
