#include "client_factory.hpp"

#include <stdexcept>

#include "rediscache/client/transaction.hpp"

namespace rediscache::test {

TlsOptions tls_options(bool client_certificate) {
  const auto files = tls_files();
  if (!files) throw std::runtime_error("tls_options: REDISCACHE_TEST_TLS_CA_FILE is not set");
  TlsOptions tls;
  tls.enabled = true;
  tls.ca_file = files->ca_file;
  if (client_certificate) {
    tls.cert_file = files->client_cert_file;
    tls.key_file = files->client_key_file;
  }
  return tls;
}

namespace {
bool is_mutual_server(const Endpoint& ep) {
  const auto servers = tls_servers();
  return servers && servers->mutual.host == ep.host && servers->mutual.port == ep.port;
}
}  // namespace

ConnectionOptions connection_options(const Endpoint& ep) {
  ConnectionOptions options;
  options.host = ep.host;
  options.port = ep.port;
  if (ep.tls) options.tls = tls_options(tls_mode() == TlsMode::kMutual || is_mutual_server(ep));
  return options;
}

namespace {
// The rerun's mode on top of what a test asked for.
PoolOptions in_test_mode(PoolOptions pool) {
  if (const std::optional<bool> multiplex = multiplex_mode()) pool.multiplex = *multiplex;
  return pool;
}
}  // namespace

ClusterOptions cluster_options_for(const std::vector<Endpoint>& seeds, PoolOptions pool) {
  pool = in_test_mode(pool);
  ClusterOptions options;
  for (const Endpoint& seed : seeds) options.seeds.push_back({seed.host, seed.port});
  if (!seeds.empty()) options.connection.tls = connection_options(seeds.front()).tls;
  options.pool = pool;
  return options;
}

ClusterOptions cluster_options(PoolOptions pool) {
  return cluster_options_for(cluster_seeds(), pool);
}

std::optional<Client> make_client(PoolOptions pool) {
  if (cluster_mode()) {
    ClusterOptions options = cluster_options(pool);
    if (options.seeds.empty()) return std::nullopt;
    return Client::cluster(std::move(options));
  }
  const auto ep = shared_redis();
  if (!ep) return std::nullopt;
  return Client(connection_options(*ep), in_test_mode(pool));
}

Client make_client(const Endpoint& ep, PoolOptions pool,
                   std::optional<std::chrono::milliseconds> timeout) {
  ConnectionOptions connection = connection_options(ep);
  if (timeout) {
    connection.connect_timeout = *timeout;
    connection.command_timeout = *timeout;
  }
  if (is_shared_redis(ep) && cluster_mode()) {
    ClusterOptions cluster = cluster_options(pool);
    cluster.connection = connection;
    return Client::cluster(std::move(cluster));
  }
  return Client(connection, in_test_mode(pool));
}

Client make_client(const Endpoint& ep, std::size_t pool_size) {
  PoolOptions pool;
  pool.size = pool_size;
  return make_client(ep, pool);
}

Client unreachable_client() {
  ConnectionOptions options;
  options.port = 1;  // nothing listens there
  return Client(options);
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
  // node it is (its tls-port when we speak TLS: the TLS nodes' plain port is off).
  const bool tls = cluster.connection_options().tls.enabled;
  auto tx = cluster.transaction({key});
  if (tls) {
    const Reply port = tx.command({"CONFIG", "GET", "tls-port"});
    if (port.elements.size() != 2) {
      throw std::runtime_error("cluster_node_for: unexpected CONFIG GET tls-port reply");
    }
    return Endpoint{cluster.connection_options().host, std::stoi(port.elements[1].str), true};
  }
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
