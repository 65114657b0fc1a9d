#include <stdexcept>
#include <string>

#include "rediscache/net/connection_pool.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {
[[noreturn]] void invalid(const char* field, const char* rule) {
  detail::throw_invalid(field, rule);
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
  // Bounded: deadlines are `now + timeout`, and blocking commands wait for their own timeout
  // plus command_timeout (see util/validation.hpp for why a year).
  detail::require_positive(connect_timeout, "ConnectionOptions::connect_timeout");
  detail::require_positive(command_timeout, "ConnectionOptions::command_timeout");
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
  detail::require_non_negative(wait_timeout, "PoolOptions::wait_timeout");
  if (max_lifetime) detail::require_positive(*max_lifetime, "PoolOptions::max_lifetime");
  if (max_idle_time) detail::require_positive(*max_idle_time, "PoolOptions::max_idle_time");
  if (check_liveness_after_idle) {
    detail::require_non_negative(*check_liveness_after_idle,
                                 "PoolOptions::check_liveness_after_idle");
  }
  if (ping_after_idle)
    detail::require_non_negative(*ping_after_idle, "PoolOptions::ping_after_idle");
  detail::require(max_queued_bytes >= 1024 && max_queued_bytes <= (std::size_t{4} << 30),
                  "PoolOptions::max_queued_bytes", "must be in 1 KiB..4 GiB");
}

}  // namespace rediscache
