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
