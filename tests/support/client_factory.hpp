// Clients of the shared test servers, for tests that run both against one redis-server and
// against the Redis Cluster (scripts/test's cluster rerun sets REDISCACHE_TEST_TOPOLOGY=cluster).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "test_env.hpp"

namespace rediscache::test {

/// TLS options for the test servers: the test CA (tls_files()); with `client_certificate` also
/// the test client certificate and key. Requires tls_files() (std::runtime_error otherwise).
TlsOptions tls_options(bool client_certificate);

/// Options of a connection to `ep`: its host and port, and when `ep.tls` TLS with the test CA
/// (plus the client certificate in TlsMode::kMutual, and always for the mTLS server).
ConnectionOptions connection_options(const Endpoint& ep);

/// Options of a cluster client seeded with `seeds` (TLS as connection_options() of the first).
ClusterOptions cluster_options_for(const std::vector<Endpoint>& seeds, PoolOptions pool = {});

/// Options of a client of the shared cluster (cluster_seeds(): the TLS cluster in tls_mode());
/// seeds empty when the variable is unset.
ClusterOptions cluster_options(PoolOptions pool = {});

/// A client of the shared servers: of the cluster when cluster_mode(), else of shared_redis().
/// nullopt when the needed variables are unset. Throws what Client's constructors throw.
std::optional<Client> make_client(PoolOptions pool = {});

/// The client of `ep` every integration test builds: of `ep` alone, except in the cluster rerun
/// when `ep` is the shared server, whose tests then run on the cluster (private servers stay
/// single; raw inspection goes through node_for_key()). `timeout`, when set, is the connect and
/// command timeout (else ConnectionOptions' defaults). Throws what Client's constructors throw.
Client make_client(const Endpoint& ep, PoolOptions pool = {},
                   std::optional<std::chrono::milliseconds> timeout = std::nullopt);
/// The same with a pool of `pool_size` connections.
Client make_client(const Endpoint& ep, std::size_t pool_size);

/// A client of a port nothing listens on (constructors must not connect): for unit tests of what
/// a component computes before it talks to Redis.
Client unreachable_client();

/// unique_prefix() as a cache namespace: characters outside [A-Za-z0-9_.-] become '.'.
std::string unique_namespace();

/// True when `ep` is the shared redis-server (shared_redis()).
bool is_shared_redis(const Endpoint& ep);

/// The address of the cluster master that serves `key` now (asked through a cluster client);
/// tls when the client uses TLS.
Endpoint cluster_node_for(Client& cluster, const std::string& key);

/// Where a raw command about `key` goes (raw_command(node_for_key(ep, key), {"PTTL", key})):
/// `ep` itself, except in the cluster rerun when `ep` is the shared server, whose tests then run
/// on the cluster: the cluster master that serves `key` now (asked through a new cluster client).
Endpoint node_for_key(const Endpoint& ep, const std::string& key);

/// raw_command(node_for_key(ep, argv[1]), argv): a raw command about the key argv[1] (GET, PTTL,
/// EXISTS, SET, DEL, ...), sent to the server that holds it. Throws what raw_command throws, and
/// std::out_of_range when argv has no key.
std::string raw_key_command(const Endpoint& ep, const std::vector<std::string>& argv);

}  // namespace rediscache::test
