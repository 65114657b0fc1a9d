// Validation of ClusterOptions and SentinelOptions.
#include <stdexcept>
#include <string>

#include "rediscache/topology/cluster.hpp"
#include "rediscache/topology/sentinel.hpp"

namespace rediscache {

namespace {

[[noreturn]] void invalid(const std::string& field, const char* rule) {
  throw std::invalid_argument(field + " " + rule);
}

void validate_addresses(const std::vector<ServerAddress>& addresses, const char* field) {
  if (addresses.empty()) invalid(field, "must name at least one server");
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (addresses[i].host.empty()) invalid(name + ".host", "must not be empty");
    if (addresses[i].port < 1 || addresses[i].port > 65535) {
      invalid(name + ".port", "must be in 1..65535");
    }
  }
}

// The template's host and port are replaced per node; validate the rest with a valid address.
void validate_template(ConnectionOptions connection, const char* field) {
  if (!connection.unix_socket.empty()) {
    invalid(std::string(field) + ".unix_socket", "must be empty (nodes are reached over TCP)");
  }
  connection.host = "127.0.0.1";
  connection.port = 6379;
  connection.validate();
}

}  // namespace

void ClusterOptions::validate() const {
  validate_addresses(seeds, "ClusterOptions::seeds");
  validate_template(connection, "ClusterOptions::connection");
  if (connection.db != 0) invalid("ClusterOptions::connection.db", "must be 0 in a cluster");
  pool.validate();
  if (refresh_interval.count() <= 0)
    invalid("ClusterOptions::refresh_interval", "must be positive");
  if (max_redirects < 1 || max_redirects > 16) {
    invalid("ClusterOptions::max_redirects", "must be in 1..16");
  }
  if (retry_timeout.count() < 0) invalid("ClusterOptions::retry_timeout", "must not be negative");
}

void SentinelOptions::validate() const {
  validate_addresses(sentinels, "SentinelOptions::sentinels");
  if (master_name.empty()) invalid("SentinelOptions::master_name", "must not be empty");
  if (!sentinel_user.empty() && sentinel_password.empty()) {
    invalid("SentinelOptions::sentinel_user", "needs a sentinel_password");
  }
  validate_template(connection, "SentinelOptions::connection");
  if (sentinel_tls) sentinel_tls->validate();
  pool.validate();
  if (refresh_interval.count() <= 0) {
    invalid("SentinelOptions::refresh_interval", "must be positive");
  }
  if (retry_timeout.count() < 0) invalid("SentinelOptions::retry_timeout", "must not be negative");
}

}  // namespace rediscache
