// rediscache-stat: a Redis server's health as a cache, at a glance. See usage() and
// docs/observability.md.
//
// Exit status: 0 success, 2 usage error, 3 server unreachable (connect failure or timeout),
// 4 authentication failed, 1 any other failure.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "rediscache/client/client.hpp"
#include "rediscache/observe/server_stats.hpp"
#include "rediscache/util/errors.hpp"
#include "stat_audit.hpp"
#include "stat_report.hpp"

namespace {

using rediscache::tools::AuditOptions;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitAuth = 4;

struct Options {
  rediscache::ConnectionOptions connection;
  std::optional<double> interval_seconds;
  std::optional<long long> count;  // unset: 1 without --interval, forever with it
  bool json = false;
  bool audit = false;
  AuditOptions audit_options;
};

const char* const kUsage =
    "usage: rediscache-stat [--host H] [--port P] [--user U] [--password P] [--db N]\n"
    "                       [--tls [--cacert F] [--cacertdir D] [--cert F --key F] [--sni N]\n"
    "                        [--insecure]]\n"
    "                       [--interval S] [--count N] [--json] [--audit [--sample N]]\n"
    "\n"
    "Shows a Redis server's health as a cache: hit rate, evictions, memory against maxmemory,\n"
    "clients, keys, per-second rates between samples, and warnings about settings that make a\n"
    "poor cache (no maxmemory, noeviction policy, ...).\n"
    "\n"
    "  --host H        server host (default 127.0.0.1)\n"
    "  --port P        server port (default 6379)\n"
    "  --user U        ACL user (default: the default user)\n"
    "  --password P    password (default: $REDISCLI_AUTH if set)\n"
    "  --db N          database for --audit (default 0)\n"
    "  --tls           connect over TLS; the server's certificate is verified against the\n"
    "                  system's CAs (or --cacert/--cacertdir) and must name the host (or --sni)\n"
    "  --cacert F      trusted CA certificates (PEM file) instead of the system's\n"
    "  --cacertdir D   directory of trusted CA certificates (OpenSSL hashed layout)\n"
    "  --cert F        client certificate (PEM) for servers that require one; needs --key\n"
    "  --key F         private key of --cert (PEM)\n"
    "  --sni N         server name to send and to verify instead of --host\n"
    "  --insecure      UNSAFE: do not verify the server's certificate or name\n"
    "  --interval S    seconds between samples (may be fractional); rates need two samples\n"
    "  --count N       number of samples (default 1, or until interrupted with --interval)\n"
    "  --json          one JSON object per sample, one per line\n"
    "  --audit         sample keys with SCAN: keys without TTL, biggest keys, top prefixes\n"
    "  --sample N      keys to sample for --audit (default 1000)\n"
    "\n"
    "exit status: 0 ok, 1 other failure, 2 usage error, 3 server unreachable, 4 auth failed\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "rediscache-stat: " << message << "\n(see rediscache-stat --help)\n";
  std::exit(kExitUsage);  // NOLINT(concurrency-mt-unsafe): single-threaded here
}

long long parse_integer(const std::string& flag, const std::string& text, long long min,
                        long long max) {
  try {
    std::size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value >= min && value <= max) return value;
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): reported below
  }
  usage_error(flag + " needs a whole number from " + std::to_string(min) + " to " +
              std::to_string(max) + ", not '" + text + "'");
}

double parse_seconds(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value > 0 && value <= 86400) return value;
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): reported below
  }
  usage_error(flag + " needs a number of seconds above 0, not '" + text + "'");
}

Options parse_args(int argc, char** argv) {
  Options o;
  o.connection.client_name = "rediscache-stat";
  o.connection.connect_timeout = std::chrono::seconds(2);
  o.connection.command_timeout = std::chrono::seconds(5);
  // Like redis-cli, so that the password need not appear in the process list.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs yet
  if (const char* auth = std::getenv("REDISCLI_AUTH")) o.connection.password = auth;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);  // NOLINT(concurrency-mt-unsafe): single-threaded here
    } else if (flag == "--host") {
      o.connection.host = value();
    } else if (flag == "--port") {
      o.connection.port = static_cast<int>(parse_integer(flag, value(), 1, 65535));
    } else if (flag == "--user") {
      o.connection.user = value();
    } else if (flag == "--password") {
      o.connection.password = value();
    } else if (flag == "--db") {
      o.connection.db = static_cast<int>(parse_integer(flag, value(), 0, 1 << 20));
    } else if (flag == "--tls") {
      o.connection.tls.enabled = true;
    } else if (flag == "--cacert") {
      o.connection.tls.ca_file = value();
    } else if (flag == "--cacertdir") {
      o.connection.tls.ca_dir = value();
    } else if (flag == "--cert") {
      o.connection.tls.cert_file = value();
    } else if (flag == "--key") {
      o.connection.tls.key_file = value();
    } else if (flag == "--sni") {
      o.connection.tls.server_name = value();
    } else if (flag == "--insecure") {
      o.connection.tls.insecure_skip_verify = true;
    } else if (flag == "--interval") {
      o.interval_seconds = parse_seconds(flag, value());
    } else if (flag == "--count") {
      o.count = parse_integer(flag, value(), 1, 1LL << 40);
    } else if (flag == "--json") {
      o.json = true;
    } else if (flag == "--audit") {
      o.audit = true;
    } else if (flag == "--sample") {
      o.audit_options.sample = static_cast<std::size_t>(parse_integer(flag, value(), 1, 10000000));
    } else {
      usage_error("unknown option '" + flag + "'");
    }
  }
  if (o.count && *o.count > 1 && !o.interval_seconds) {
    usage_error("--count above 1 needs --interval");
  }
  if (!o.interval_seconds) o.count = 1;
  const rediscache::TlsOptions& tls = o.connection.tls;
  if (!tls.enabled &&
      (!tls.ca_file.empty() || !tls.ca_dir.empty() || !tls.cert_file.empty() ||
       !tls.key_file.empty() || !tls.server_name.empty() || tls.insecure_skip_verify)) {
    usage_error("--cacert, --cacertdir, --cert, --key, --sni and --insecure need --tls");
  }
  return o;
}

bool is_auth_failure(const rediscache::ReplyError& e) {
  const std::string& code = e.server_code();
  return code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM" ||
         std::string(e.what()).find("AUTH") != std::string::npos;
}

int run(const Options& o) {
  rediscache::PoolOptions pool;
  pool.size = 1;
  rediscache::Client client(o.connection, pool);
  const std::string endpoint = o.connection.endpoint();
  const bool clear_screen = !o.json && o.interval_seconds && isatty(STDOUT_FILENO) != 0;

  std::optional<rediscache::ServerStats> previous;
  std::chrono::steady_clock::time_point previous_at;
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(o.interval_seconds.value_or(0)));
  for (long long n = 0; !o.count || n < *o.count; ++n) {
    const auto started = std::chrono::steady_clock::now();
    rediscache::ServerStats stats = rediscache::server_stats(client);
    const auto at = std::chrono::steady_clock::now();
    std::optional<rediscache::tools::Rates> rates;
    if (previous) {
      rates = rediscache::tools::rates_between(
          *previous, stats, std::chrono::duration<double>(at - previous_at).count());
    }
    const std::vector<std::string> warnings = rediscache::warnings(stats);
    std::optional<rediscache::tools::AuditReport> audit;
    if (o.audit && n == 0) audit = rediscache::tools::run_audit(client, o.audit_options);

    if (o.json) {
      nlohmann::json j = rediscache::tools::sample_json(endpoint, stats, rates, warnings);
      if (audit) j["audit"] = rediscache::tools::to_json(*audit);
      // Keys may hold any bytes: invalid UTF-8 is replaced rather than failing the output.
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
      if (clear_screen) std::cout << "\033[H\033[2J";
      std::cout << rediscache::tools::render_screen(endpoint, stats, rates, warnings);
      if (audit) std::cout << rediscache::tools::render_audit(*audit);
      if (o.interval_seconds && !clear_screen) std::cout << "\n";
      std::cout.flush();
    }
    previous = std::move(stats);
    previous_at = at;
    if (o.interval_seconds && (!o.count || n + 1 < *o.count)) {
      std::this_thread::sleep_until(started + interval);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_args(argc, argv);
  const std::string endpoint = options.connection.endpoint();
  try {
    return run(options);
  } catch (const rediscache::ReplyError& e) {
    if (is_auth_failure(e)) {
      std::cerr << "rediscache-stat: authentication failed at " << endpoint << ": " << e.what()
                << "\n";
      return kExitAuth;
    }
    std::cerr << "rediscache-stat: " << e.what() << "\n";
    return kExitFailure;
  } catch (const rediscache::IoError& e) {
    std::cerr << "rediscache-stat: cannot reach " << endpoint << ": " << e.what() << "\n";
    return kExitUnreachable;
  } catch (const std::invalid_argument& e) {
    std::cerr << "rediscache-stat: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "rediscache-stat: " << e.what() << "\n";
    return kExitFailure;
  }
}
