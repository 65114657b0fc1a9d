// user_service: an HTTP service over a PostgreSQL users table with rediscache in front of it.
// main wires the parts together and owns the process's lifecycle: configuration, start-up,
// serving, and a clean shutdown on SIGINT/SIGTERM that flushes queued events to PostgreSQL.
//
//   user_service --pg "host=127.0.0.1 port=5432 dbname=app" --redis-url redis://127.0.0.1:6379
//   user_service --help
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "database.hpp"
#include "service.hpp"
#include <rediscache/rediscache.hpp>

// After rediscache: <httplib.h> pulls in <sys/param.h>, whose setbit() macro would rewrite
// Client::setbit in rediscache's headers.
#include <httplib.h>

namespace {

constexpr std::chrono::seconds kShutdownFlush{10};

rediscache::Client make_redis(const user_service::Config& config) {
  rediscache::ConnectionOptions connection;
  connection.host = config.redis_host;
  connection.port = config.redis_port;
  connection.user = config.redis_user;
  connection.password = config.redis_password;
  connection.db = config.redis_db;
  // Short timeouts: Redis is an optimisation here, and a request should not wait a full second
  // for it before falling back to PostgreSQL.
  connection.connect_timeout = config.redis_timeout;
  connection.command_timeout = config.redis_timeout;
  connection.client_name = "user_service";
  connection.tls.enabled = config.redis_tls || config.redis_tls_insecure;
  connection.tls.ca_file = config.redis_tls_ca;
  connection.tls.cert_file = config.redis_tls_cert;
  connection.tls.key_file = config.redis_tls_key;
  connection.tls.server_name = config.redis_tls_sni;
  connection.tls.insecure_skip_verify = config.redis_tls_insecure;
  rediscache::PoolOptions pool;
  // Every worker may hold a lease at once, plus the write-behind flusher and a scrape.
  pool.size = static_cast<std::size_t>(config.threads) + 4;
  pool.wait_timeout = config.redis_timeout;
  return rediscache::Client(connection, pool);
}

int run(const user_service::Config& config) {
  // Signals are taken by one thread with sigtimedwait (not a handler): stopping the server is not
  // async-signal-safe. Blocked here, before any thread starts, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const auto threads = static_cast<std::size_t>(config.threads);
  user_service::Database db(config.pg_uri, threads + 2);  // + flusher + health check
  db.ensure_schema();  // fails fast (exit 1) when PostgreSQL is unreachable at start
  user_service::UserService service(config, db, make_redis(config));

  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib closes a keep-alive connection after 5 requests by default; a load balancer or wrk
  // keeps connections for much longer.
  server.set_keep_alive_max_count(100000);
  // Without TCP_NODELAY a response written in two segments (headers, body) waits for the
  // client's delayed ACK: about 40 ms per request on Linux.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(config.max_body_bytes);  // larger bodies: 413
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  service.install(server);

  int port = config.port;
  if (port == 0) {
    port = server.bind_to_any_port(config.bind);
  } else if (!server.bind_to_port(config.bind, port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "user_service: cannot listen on %s:%d\n", config.bind.c_str(),
                 config.port);
    return 1;
  }
  std::printf("user_service listening on http://%s:%d (cache %s, %d threads)\n",
              config.bind.c_str(), port, config.cache ? "on" : "off", config.threads);
  std::fflush(stdout);

  // The signal thread waits in slices so it can also end when the server stops by itself.
  std::atomic<bool> server_done{false};
  std::thread signals([&server, &server_done, stop_signals] {
    const timespec slice{0, 200'000'000};
    while (!server_done.load()) {
      if (sigtimedwait(&stop_signals, nullptr, &slice) > 0) {
        server.stop();  // listen_after_bind() returns once in-flight requests are answered
        return;
      }
    }
  });
  const bool served = server.listen_after_bind();
  server_done.store(true);
  signals.join();

  std::printf("user_service: stopping, flushing queued events\n");
  std::fflush(stdout);
  const bool flushed = service.flush_events(kShutdownFlush);
  if (!flushed) {
    std::fprintf(stderr,
                 "user_service: events still queued in Redis after %lld s; the next "
                 "instance's flusher writes them\n",
                 static_cast<long long>(kShutdownFlush.count()));
  }
  return served && flushed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  user_service::ParseResult parsed;
  try {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
    parsed = user_service::parse_config(args, [](const char* name) { return std::getenv(name); });
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "user_service: %s\n", e.what());
    return 2;
  }
  if (!parsed.config) {
    std::fputs(user_service::usage().c_str(), stdout);
    return 0;
  }
  try {
    return run(*parsed.config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "user_service: %s\n", e.what());
    return 1;
  }
}
