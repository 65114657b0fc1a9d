// The service's configuration: command-line flags over environment variables over defaults, and
// the --help text that lists them. Parsing is separate from main so every rule lives in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace user_service {

/// Everything the service can be told. Defaults suit a laptop: Redis and PostgreSQL on loopback.
struct Config {
  // Redis (the cache, the write-behind queue, the rate limiter and the sessions).
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  std::string redis_user;
  std::string redis_password;
  int redis_db = 0;
  // TLS to Redis (--redis-tls or a rediss:// URL): the peer is verified against redis_tls_ca, or
  // the system store when it is empty; a client certificate and key give mutual TLS.
  bool redis_tls = false;
  std::string redis_tls_ca;
  std::string redis_tls_cert;
  std::string redis_tls_key;
  std::string redis_tls_sni;        // server name to verify; empty: redis_host
  bool redis_tls_insecure = false;  // UNSAFE: no verification (tests against throwaway certs)
  std::chrono::milliseconds redis_timeout{200};  // connect and command timeout

  // PostgreSQL (libpq URI or key=value conninfo). Required.
  std::string pg_uri;

  // HTTP.
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed on stdout once listening)
  int threads = 8;  // worker threads; each holds one keep-alive connection at a time
  std::size_t max_body_bytes = 16 * 1024;

  // Caching.
  bool cache = true;       // false: reads go straight to the loader (the "cache off" baseline)
  bool near_cache = true;  // the in-process tier in front of Redis
  std::chrono::milliseconds cache_ttl{std::chrono::minutes(5)};
  std::chrono::milliseconds stale_window{std::chrono::minutes(10)};

  // Per-client rate limit (GCRA): `rate_burst` requests at once, `rate_per_second` sustained.
  long long rate_burst = 200;
  long long rate_per_second = 100;
};

/// What parse_config found: a configuration to run with, or a request for the help text.
struct ParseResult {
  std::optional<Config> config;  // empty when --help was asked for
};

/// Reads the environment variables (through `getenv`, so tests can pass their own) and then the
/// flags, later ones winning. Throws std::invalid_argument with a message naming the flag or
/// variable for unknown flags, missing values, malformed numbers or URLs, and a missing PostgreSQL
/// URI.
ParseResult parse_config(const std::vector<std::string>& args,
                         const std::function<const char*(const char*)>& getenv);

/// The --help text.
std::string usage();

}  // namespace user_service
