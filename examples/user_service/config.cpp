// Flags and environment variables, parsed into a Config. Every value is validated here, once, so
// the rest of the service can trust it; errors name the flag or variable, never echo secrets.
#include "config.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace user_service {
namespace {

long long parse_integer(std::string_view text, std::string_view what, long long min,
                        long long max) {
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    throw std::invalid_argument(std::string(what) + " must be an integer in [" +
                                std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return value;
}

// redis[s]://[[user]:password@]host[:port][/db]: the form most hosting providers hand out;
// rediss:// turns TLS on (verified against --redis-tls-ca or the system store).
void apply_redis_url(Config& config, std::string_view url, std::string_view what) {
  const std::string_view plain = "redis://";
  const std::string_view tls = "rediss://";
  std::string_view rest;
  if (url.substr(0, plain.size()) == plain) {
    rest = url.substr(plain.size());
  } else if (url.substr(0, tls.size()) == tls) {
    rest = url.substr(tls.size());
    config.redis_tls = true;
  } else {
    throw std::invalid_argument(std::string(what) + " must start with redis:// or rediss://");
  }
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      config.redis_password = std::string(credentials);
    } else {
      config.redis_user = std::string(credentials.substr(0, colon));
      config.redis_password = std::string(credentials.substr(colon + 1));
    }
  }
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) config.redis_db = static_cast<int>(parse_integer(db, what, 0, 15));
    rest = rest.substr(0, slash);
  }
  if (const std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    config.redis_port = static_cast<int>(parse_integer(rest.substr(colon + 1), what, 1, 65535));
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw std::invalid_argument(std::string(what) + " has no host");
  config.redis_host = std::string(rest);
}

// One setting, reachable as a flag and (optionally) an environment variable.
struct Setting {
  const char* flag;  // "--port"
  const char* env;   // "USER_SERVICE_PORT", or nullptr
  bool takes_value;
  std::function<void(Config&, std::string_view value, std::string_view what)> apply;
  const char* help;
};

std::chrono::milliseconds parse_ms(std::string_view v, std::string_view what, long long min) {
  return std::chrono::milliseconds(parse_integer(v, what, min, 24LL * 3600 * 1000));
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kAll = {
      {"--redis-url", "USER_SERVICE_REDIS_URL", true,
       [](Config& c, std::string_view v, std::string_view w) { apply_redis_url(c, v, w); },
       "redis://[[user]:password@]host[:port][/db]"},
      {"--redis-host", "USER_SERVICE_REDIS_HOST", true,
       [](Config& c, std::string_view v, std::string_view) { c.redis_host = std::string(v); },
       "Redis host (default 127.0.0.1)"},
      {"--redis-port", "USER_SERVICE_REDIS_PORT", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.redis_port = static_cast<int>(parse_integer(v, w, 1, 65535));
       },
       "Redis port (default 6379)"},
      {"--redis-timeout-ms", "USER_SERVICE_REDIS_TIMEOUT_MS", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.redis_timeout = parse_ms(v, w, 1);
       },
       "Redis connect and command timeout (default 200)"},
      {"--pg", "USER_SERVICE_PG", true,
       [](Config& c, std::string_view v, std::string_view) { c.pg_uri = std::string(v); },
       "PostgreSQL URI or conninfo (required)"},
      {"--bind", "USER_SERVICE_BIND", true,
       [](Config& c, std::string_view v, std::string_view) { c.bind = std::string(v); },
       "address to listen on (default 127.0.0.1)"},
      {"--port", "USER_SERVICE_PORT", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.port = static_cast<int>(parse_integer(v, w, 0, 65535));
       },
       "HTTP port; 0 picks a free one (default 8080)"},
      {"--threads", "USER_SERVICE_THREADS", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.threads = static_cast<int>(parse_integer(v, w, 1, 256));
       },
       "HTTP worker threads (default 8)"},
      {"--max-body-bytes", "USER_SERVICE_MAX_BODY_BYTES", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.max_body_bytes = static_cast<std::size_t>(parse_integer(v, w, 1, 64LL << 20));
       },
       "larger request bodies get 413 (default 16384)"},
      {"--redis-tls", "USER_SERVICE_REDIS_TLS", false,
       [](Config& c, std::string_view, std::string_view) { c.redis_tls = true; },
       "TLS to Redis, the peer verified (also implied by rediss://)"},
      {"--redis-tls-ca", "USER_SERVICE_REDIS_TLS_CA", true,
       [](Config& c, std::string_view v, std::string_view) { c.redis_tls_ca = std::string(v); },
       "PEM bundle of CAs to trust (default: the system store)"},
      {"--redis-tls-cert", "USER_SERVICE_REDIS_TLS_CERT", true,
       [](Config& c, std::string_view v, std::string_view) { c.redis_tls_cert = std::string(v); },
       "client certificate for mutual TLS (PEM; needs --redis-tls-key)"},
      {"--redis-tls-key", "USER_SERVICE_REDIS_TLS_KEY", true,
       [](Config& c, std::string_view v, std::string_view) { c.redis_tls_key = std::string(v); },
       "client private key (PEM)"},
      {"--redis-tls-sni", "USER_SERVICE_REDIS_TLS_SNI", true,
       [](Config& c, std::string_view v, std::string_view) { c.redis_tls_sni = std::string(v); },
       "server name to send and verify (default: the Redis host)"},
      {"--redis-tls-insecure", nullptr, false,
       [](Config& c, std::string_view, std::string_view) { c.redis_tls_insecure = true; },
       "UNSAFE: TLS without verifying the server (throwaway test servers only)"},
      {"--no-cache", nullptr, false,
       [](Config& c, std::string_view, std::string_view) { c.cache = false; },
       "reads and PUT go straight to PostgreSQL (baseline)"},
      {"--no-near-cache", nullptr, false,
       [](Config& c, std::string_view, std::string_view) { c.near_cache = false; },
       "no in-process tier in front of Redis"},
      {"--cache-ttl-ms", "USER_SERVICE_CACHE_TTL_MS", true,
       [](Config& c, std::string_view v, std::string_view w) { c.cache_ttl = parse_ms(v, w, 1); },
       "lifetime of a cached profile (default 300000)"},
      {"--stale-window-ms", "USER_SERVICE_STALE_WINDOW_MS", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.stale_window = parse_ms(v, w, 0);
       },
       "how long past its TTL a profile may answer while PostgreSQL is down (default 600000)"},
      {"--rate-burst", "USER_SERVICE_RATE_BURST", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.rate_burst = parse_integer(v, w, 1, 1LL << 40);
       },
       "requests a client may send at once (default 200)"},
      {"--rate-per-second", "USER_SERVICE_RATE_PER_SECOND", true,
       [](Config& c, std::string_view v, std::string_view w) {
         c.rate_per_second = parse_integer(v, w, 1, 1'000'000);
       },
       "sustained requests per second per client (default 100)"},
  };
  return kAll;
}

}  // namespace

ParseResult parse_config(const std::vector<std::string>& args,
                         const std::function<const char*(const char*)>& getenv) {
  Config config;
  for (const Setting& s : settings()) {
    if (s.env == nullptr) continue;
    const char* value = getenv(s.env);
    if (value != nullptr && *value != '\0') s.apply(config, value, s.env);
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") return ParseResult{};
    std::optional<std::string_view> inline_value;
    if (const std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Setting* setting = nullptr;
    for (const Setting& s : settings()) {
      if (arg == s.flag) setting = &s;
    }
    if (setting == nullptr) {
      throw std::invalid_argument("unknown option " + std::string(arg) + " (see --help)");
    }
    if (!setting->takes_value) {
      if (inline_value) throw std::invalid_argument(std::string(arg) + " takes no value");
      setting->apply(config, {}, arg);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw std::invalid_argument(std::string(arg) + " needs a value");
      inline_value = args[++i];
    }
    setting->apply(config, *inline_value, arg);
  }
  if (config.pg_uri.empty()) {
    throw std::invalid_argument("no PostgreSQL URI: pass --pg or set USER_SERVICE_PG");
  }
  return ParseResult{config};
}

std::string usage() {
  std::string text =
      "usage: user_service --pg URI [options]\n"
      "An HTTP service over a PostgreSQL users table with rediscache in front of it.\n\n"
      "Routes: GET /users/{id}, GET /users?ids=1,2,3, PUT /users/{id}, POST /users/{id}/events,\n"
      "        POST /login, GET /me, GET /metrics, GET /healthz\n\n"
      "Options (flags win over the environment variables in brackets):\n";
  for (const Setting& s : settings()) {
    std::string left = std::string("  ") + s.flag + (s.takes_value ? " VALUE" : "");
    if (left.size() < 26) left.resize(26, ' ');
    text += left + " " + s.help;
    if (s.env != nullptr) text += std::string(" [") + s.env + "]";
    text += "\n";
  }
  text +=
      "  --help                   this text\n\n"
      "SIGINT/SIGTERM: stop accepting requests, flush queued events to PostgreSQL, exit.\n";
  return text;
}

}  // namespace user_service
