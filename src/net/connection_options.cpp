#include <stdexcept>
#include <string>

#include "rediscache/net/connection_pool.hpp"

namespace rediscache {

namespace {
[[noreturn]] void invalid(const char* field, const char* rule) {
  throw std::invalid_argument(std::string(field) + " " + rule);
}
}  // namespace

std::string ConnectionOptions::endpoint() const {
  if (!unix_socket.empty()) return "unix:" + unix_socket;
  return host + ":" + std::to_string(port);
}

void ConnectionOptions::validate() const {
  if (unix_socket.empty()) {
    if (host.empty()) invalid("ConnectionOptions::host", "must not be empty");
    if (port < 1 || port > 65535) invalid("ConnectionOptions::port", "must be in 1..65535");
  }
  if (db < 0) invalid("ConnectionOptions::db", "must not be negative");
  if (connect_timeout.count() <= 0)
    invalid("ConnectionOptions::connect_timeout", "must be positive");
  if (command_timeout.count() <= 0)
    invalid("ConnectionOptions::command_timeout", "must be positive");
  if (!user.empty() && password.empty()) {
    invalid("ConnectionOptions::user", "needs a password (AUTH user password)");
  }
  if (tls.enabled && !unix_socket.empty()) {
    invalid("ConnectionOptions::tls", "cannot be enabled with unix_socket");
  }
  tls.validate();
}

void TlsOptions::validate() const {
  if (!enabled) return;
  if (!cert_file.empty() && key_file.empty()) {
    invalid("TlsOptions::cert_file", "needs key_file (the client certificate's private key)");
  }
  if (!key_file.empty() && cert_file.empty()) {
    invalid("TlsOptions::key_file", "needs cert_file (the client certificate)");
  }
  if (min_version != TlsVersion::kTls12 && min_version != TlsVersion::kTls13) {
    invalid("TlsOptions::min_version", "must be TlsVersion::kTls12 or kTls13");
  }
  for (const char c : server_name) {
    if (c == '\0' || c == ' ' || c == '/') {
      invalid("TlsOptions::server_name", "must be a host name or an IP address");
    }
  }
}

void PoolOptions::validate() const {
  if (size == 0) invalid("PoolOptions::size", "must be at least 1");
  if (wait_timeout.count() < 0) invalid("PoolOptions::wait_timeout", "must not be negative");
  if (max_lifetime && max_lifetime->count() <= 0) {
    invalid("PoolOptions::max_lifetime", "must be positive when set");
  }
  if (max_idle_time && max_idle_time->count() <= 0) {
    invalid("PoolOptions::max_idle_time", "must be positive when set");
  }
  if (check_liveness_after_idle && check_liveness_after_idle->count() < 0) {
    invalid("PoolOptions::check_liveness_after_idle", "must not be negative when set");
  }
  if (ping_after_idle && ping_after_idle->count() < 0) {
    invalid("PoolOptions::ping_after_idle", "must not be negative when set");
  }
}

}  // namespace rediscache
