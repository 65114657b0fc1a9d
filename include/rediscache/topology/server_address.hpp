// ServerAddress: a TCP address of a server, shared by ClusterOptions (seed nodes) and
// SentinelOptions (sentinels) so that neither header needs the other.
#pragma once

#include <string>

namespace rediscache {

/// A TCP address of a server (a cluster seed node, a sentinel).
struct ServerAddress {
  /// Host name or IP address; must not be empty.
  std::string host = "127.0.0.1";
  /// TCP port, 1..65535.
  int port = 6379;
};

}  // namespace rediscache
