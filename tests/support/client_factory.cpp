#include "client_factory.hpp"

#include <stdexcept>

#include "rediscache/client/transaction.hpp"

namespace rediscache::test {

ClusterOptions cluster_options(PoolOptions pool) {
  ClusterOptions options;
  for (const Endpoint& seed : cluster_seeds()) options.seeds.push_back({seed.host, seed.port});
  options.pool = pool;
  return options;
}

std::optional<Client> make_client(PoolOptions pool) {
  if (cluster_mode()) {
    ClusterOptions options = cluster_options(pool);
    if (options.seeds.empty()) return std::nullopt;
    return Client::cluster(std::move(options));
  }
  const auto ep = shared_redis();
  if (!ep) return std::nullopt;
  ConnectionOptions options;
  options.host = ep->host;
  options.port = ep->port;
  return Client(options, pool);
}

Client make_client(const Endpoint& ep, PoolOptions pool,
                   std::optional<std::chrono::milliseconds> timeout) {
  ConnectionOptions connection;
  connection.host = ep.host;
  connection.port = ep.port;
  if (timeout) {
    connection.connect_timeout = *timeout;
    connection.command_timeout = *timeout;
  }
  if (is_shared_redis(ep) && cluster_mode()) {
    ClusterOptions cluster = cluster_options(pool);
    cluster.connection = connection;
    return Client::cluster(std::move(cluster));
  }
  return Client(connection, pool);
}

Client make_client(const Endpoint& ep, std::size_t pool_size) {
  PoolOptions pool;
  pool.size = pool_size;
  return make_client(ep, pool);
}

std::string unique_namespace() {
  std::string name;
  for (const char c : unique_prefix()) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    name.push_back(ok ? c : '.');
  }
  return name;
}

bool is_shared_redis(const Endpoint& ep) {
  const auto shared = shared_redis();
  return shared && shared->host == ep.host && shared->port == ep.port;
}

Endpoint cluster_node_for(Client& cluster, const std::string& key) {
  // A transaction leases the connection of the key's master; a keyless INFO there says which
  // node it is.
  auto tx = cluster.transaction({key});
  const Reply info = tx.command({"INFO"});
  const auto at = info.str.find("\ntcp_port:");
  if (at == std::string::npos) throw std::runtime_error("cluster_node_for: no tcp_port in INFO");
  return Endpoint{cluster.connection_options().host, std::stoi(info.str.substr(at + 10))};
}

Endpoint node_for_key(const Endpoint& ep, const std::string& key) {
  if (!cluster_mode() || !is_shared_redis(ep)) return ep;
  Client cluster = Client::cluster(cluster_options());
  return cluster_node_for(cluster, key);
}

std::string raw_key_command(const Endpoint& ep, const std::vector<std::string>& argv) {
  return raw_command(node_for_key(ep, argv.at(1)), argv);
}

}  // namespace rediscache::test
