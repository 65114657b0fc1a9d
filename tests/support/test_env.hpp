// Test environment for rediscache's tests: the shared servers that scripts/test starts, private
// redis-server processes for tests that stop or reconfigure a server, and raw hiredis commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rediscache::test {

/// Generous bound for what must happen eventually (connects, reconnects, propagation): a test
/// that waits for a state waits at most this long, then fails.
constexpr std::chrono::milliseconds kEventually{5000};

/// A TCP address of a server; `tls` when it speaks only TLS (the REDISCACHE_TEST_TLS_* servers):
/// raw_command() then talks TLS to it and connection_options() (client_factory.hpp) turns TLS on.
struct Endpoint {
  std::string host;
  int port = 0;
  bool tls = false;
};

/// Which servers the shared-server lookups below return (REDISCACHE_TEST_TLS):
/// kOff (unset, empty or "0"): the plain ones; kTls ("1"): the TLS redis-server, cluster and
/// sentinels of scripts/lib.sh, with the test CA and no client certificate; kMutual ("mtls"): the
/// mTLS redis-server (client certificates required) with the test client certificate, and the
/// TLS cluster and sentinels as for kTls.
enum class TlsMode { kOff, kTls, kMutual };
TlsMode tls_mode();

/// The throw-away certificates of scripts/lib.sh (rc_make_certs), from
/// REDISCACHE_TEST_TLS_*_FILE and REDISCACHE_TEST_TLS_CA_DIR.
struct TlsFiles {
  std::string ca_file;           ///< the test CA
  std::string ca_dir;            ///< the test CA as a hashed directory
  std::string cert_file;         ///< server certificate for localhost and 127.0.0.1
  std::string key_file;          ///< key of every server certificate here
  std::string client_cert_file;  ///< client certificate signed by the test CA
  std::string client_key_file;
  std::string expired_cert_file;      ///< server certificate that expired in 2020
  std::string wrong_host_cert_file;   ///< server certificate for DNS:wrong.example only
  std::string self_signed_cert_file;  ///< self-signed server certificate for localhost
  std::string wrong_ca_file;          ///< a CA that signed none of the above
};

/// The test certificates; nullopt when REDISCACHE_TEST_TLS_CA_FILE is unset.
std::optional<TlsFiles> tls_files();

/// The shared TLS-only redis-servers of scripts/lib.sh (rc_start_tls_redis), every one with
/// tls = true; nullopt when REDISCACHE_TEST_TLS_PORT is unset.
struct TlsServers {
  Endpoint tls;         ///< valid certificate; client certificates not required
  Endpoint mutual;      ///< valid certificate; client certificates required
  Endpoint expired;     ///< the expired certificate
  Endpoint wrong_host;  ///< a certificate for wrong.example only
};
std::optional<TlsServers> tls_servers();

/// Nodes of the shared TLS cluster (REDISCACHE_TEST_TLS_CLUSTER_SEEDS), tls = true.
std::vector<Endpoint> tls_cluster_seeds();

/// The shared TLS sentinels (REDISCACHE_TEST_TLS_SENTINELS), tls = true; they monitor
/// sentinel_master_name() on TLS-only data nodes.
std::vector<Endpoint> tls_sentinel_endpoints();

/// redis-server arguments for a private RedisServer that also listens on `tls_port` with
/// `cert_file` (and the test key and CA), requiring client certificates when `require_client_cert`.
/// Its plain port stays open for RedisServer's own readiness checks and setup commands.
std::vector<std::string> tls_server_args(const TlsFiles& files, int tls_port,
                                         const std::string& cert_file,
                                         bool require_client_cert = false);

/// A TCP port free on 127.0.0.1 right now (another process may take it before it is used).
int free_loopback_port();

/// The shared redis-server from REDISCACHE_TEST_REDIS_HOST (default 127.0.0.1) and
/// REDISCACHE_TEST_REDIS_PORT; empty when the port is unset or not a port number. In tls_mode()
/// the TLS (kTls) or mTLS (kMutual) server of tls_servers() instead.
/// Tests sharing it must keep to keys under unique_prefix() and never FLUSHDB/FLUSHALL.
std::optional<Endpoint> shared_redis();

/// True when REDISCACHE_TEST_TOPOLOGY=cluster: make_client() (client_factory.hpp) then returns a
/// client of the shared Redis Cluster, and unique_prefix() wraps the prefix in a {hash tag} so a
/// test's keys share one slot (and multi-key commands, transactions and scripts work unchanged).
bool cluster_mode();

/// REDISCACHE_TEST_MULTIPLEX: "0" (scripts/test's pooled rerun) turns PoolOptions::multiplex off
/// in every client client_factory.hpp builds, "1" turns it on; unset: what each test asked for.
std::optional<bool> multiplex_mode();

/// Nodes of the shared Redis Cluster from REDISCACHE_TEST_CLUSTER_SEEDS ("host:port,..."); empty
/// when unset. In tls_mode(), tls_cluster_seeds().
std::vector<Endpoint> cluster_seeds();

/// Sentinels of the shared sentinel setup from REDISCACHE_TEST_SENTINELS ("host:port,..."); empty
/// when unset. In tls_mode(), tls_sentinel_endpoints().
std::vector<Endpoint> sentinel_endpoints();

/// The master name the shared sentinels monitor: REDISCACHE_TEST_SENTINEL_MASTER, else "mymaster".
std::string sentinel_master_name();

/// libpq conninfo of the shared PostgreSQL database from REDISCACHE_TEST_PG, or empty.
std::optional<std::string> postgres_conninfo();

/// True when REDISCACHE_TEST_REQUIRE_SERVERS=1 (scripts/test sets it): then a missing server is a
/// test failure, not a skip.
bool servers_required();

/// Path of the redis-server binary: REDISCACHE_TEST_REDIS_SERVER, else `redis-server` on PATH.
std::string redis_server_binary();

/// A key prefix unique to the current gtest test and process: "t:<Suite>.<Test>:<pid>:<n>:",
/// where n counts calls in this process; in cluster_mode(), "{t:<Suite>.<Test>:<pid>:<n>}:".
/// Thread-safe.
std::string unique_prefix();

/// unique_prefix() without the {hash tag} of cluster_mode(): keys under it spread over every
/// slot, for tests of the cluster itself.
std::string untagged_prefix();

/// A private redis-server on a free loopback port in its own temporary directory, for tests that
/// stop, restart, pause or configure the server (requirepass, ACL users, CONFIG SET).
///
/// Runs `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --dir D
/// --enable-debug-command local <extra_args...>` in the foreground as a child process (so
/// extra_args override the defaults). The constructor returns once the server answers PING (at
/// most 5 s per attempt, 3 attempts on fresh ports) and throws std::runtime_error otherwise. The
/// destructor stops it (SIGTERM, then SIGKILL) and removes the directory; in a process forked from
/// the owner it does nothing. The server is killed if the thread that started it exits (Linux
/// PR_SET_PDEATHSIG), so a crashed or timed-out test leaves no server behind: create and restart
/// it from the test's main thread.
///
/// Thread-safe.
class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// "127.0.0.1".
  const std::string& host() const;
  /// The port, the same across stop()/start().
  int port() const;
  /// {host(), port()}.
  Endpoint endpoint() const;

  /// SIGTERM, and wait until the process has exited (its port is then closed); SIGKILL after
  /// 10 s. No-op when not running.
  void stop();
  /// SIGKILL, and wait until the process has exited. No-op when not running.
  void kill();
  /// SIGSTOP: the process stays alive with its data and its connections, and answers nothing
  /// (an unreachable server that was not restarted). No-op when not running.
  void pause();
  /// SIGCONT after pause(). No-op when not running.
  void resume();
  /// Start again on the same port and directory with the same arguments, and wait for PING.
  /// No-op when running. Throws std::runtime_error when the server does not come up.
  void start();
  /// True while the server process is alive.
  bool running() const;

  /// One raw command for test setup (ACL SETUSER, CONFIG SET, DEBUG SLEEP, ...), on a new
  /// connection authenticated with `password` when it is not empty. See raw_command().
  std::string command(const std::vector<std::string>& argv, const std::string& password = "") const;

 private:
  void launch_locked();                        // fork+exec; guarded by mu_
  bool wait_ready_locked(std::string* error);  // PING loop; guarded by mu_
  void signal_and_wait_locked(int signo, int timeout_ms);
  void start_or_throw_locked(int attempts, bool fresh_port);

  std::vector<std::string> args_;
  std::string host_ = "127.0.0.1";
  std::string binary_;
  std::string dir_;
  int port_ = 0;
  pid_t owner_pid_ = 0;
  mutable std::mutex mu_;
  mutable pid_t pid_ = -1;  // guarded by mu_
};

/// One raw command on a new connection to `ep` (AUTH [user] password first when `password` is
/// not empty). Over TLS when `ep.tls` (through OpenSSL directly, not the library under test:
/// the test CA is checked, the test client certificate is always offered, so mTLS servers work).
/// Returns the reply rendered as a string: status as is ("OK"), integer as decimal, bulk string as
/// is, nil as "(nil)", error as its text ("ERR ...", "WRONGPASS ..."; an AUTH error is returned the
/// same way), array as its rendered elements joined by '\n'. Throws std::runtime_error naming
/// host:port when the connection fails or breaks. Times out after 60 s.
std::string raw_command(const Endpoint& ep, const std::vector<std::string>& argv,
                        const std::string& user = "", const std::string& password = "");

}  // namespace rediscache::test

/// In a test body: binds `const Endpoint ep` to the shared redis-server, or skips the test with
/// a message (fails it when servers_required()).
#define REDISCACHE_REQUIRE_REDIS(ep)                                                            \
  const auto ep##_rediscache_opt_ = ::rediscache::test::shared_redis();                         \
  if (!ep##_rediscache_opt_) {                                                                  \
    if (::rediscache::test::servers_required()) {                                               \
      FAIL() << "REDISCACHE_TEST_REDIS_PORT is not set, but REDISCACHE_TEST_REQUIRE_SERVERS=1"; \
    }                                                                                           \
    GTEST_SKIP() << "no shared redis-server: set REDISCACHE_TEST_REDIS_HOST/PORT or run "       \
                    "scripts/test";                                                             \
  }                                                                                             \
  const ::rediscache::test::Endpoint& ep = *ep##_rediscache_opt_

/// In a test body: binds `const std::vector<Endpoint> seeds` to the shared cluster's nodes, or
/// skips the test with a message (fails it when servers_required()).
#define REDISCACHE_REQUIRE_CLUSTER(seeds)                                                        \
  const auto seeds = ::rediscache::test::cluster_seeds();                                        \
  if (seeds.empty()) {                                                                           \
    if (::rediscache::test::servers_required()) FAIL() << "REDISCACHE_TEST_CLUSTER_SEEDS unset"; \
    GTEST_SKIP() << "no shared cluster: set REDISCACHE_TEST_CLUSTER_SEEDS or run scripts/test";  \
  }

/// In a test body: binds `const TlsFiles files` and `const TlsServers servers` to the shared TLS
/// set-up of scripts/lib.sh (rc_start_tls_redis), or skips the test with a message (fails it
/// when servers_required()).
#define REDISCACHE_REQUIRE_TLS(files, servers)                                              \
  const auto files##_rediscache_opt_ = ::rediscache::test::tls_files();                     \
  const auto servers##_rediscache_opt_ = ::rediscache::test::tls_servers();                 \
  if (!files##_rediscache_opt_ || !servers##_rediscache_opt_) {                             \
    if (::rediscache::test::servers_required()) {                                           \
      FAIL() << "REDISCACHE_TEST_TLS_* are not set, but REDISCACHE_TEST_REQUIRE_SERVERS=1"; \
    }                                                                                       \
    GTEST_SKIP() << "no TLS servers: set REDISCACHE_TEST_TLS_* (scripts/lib.sh "            \
                    "rc_start_tls_redis) or run scripts/test";                              \
  }                                                                                         \
  [[maybe_unused]] const ::rediscache::test::TlsFiles& files = *files##_rediscache_opt_;    \
  [[maybe_unused]] const ::rediscache::test::TlsServers& servers = *servers##_rediscache_opt_

/// In a test body: skips the test when the suite runs against the cluster (tests that need a
/// single server of their own, or single-node behaviour).
#define REDISCACHE_SINGLE_NODE_ONLY()                                 \
  if (::rediscache::test::cluster_mode()) {                           \
    GTEST_SKIP() << "single-node test: skipped in the cluster rerun"; \
  }

/// In a test body: binds `const std::string conninfo` to the shared PostgreSQL database, or skips
/// the test with a message (fails it when servers_required()).
#define REDISCACHE_REQUIRE_POSTGRES(conninfo)                                           \
  const auto conninfo##_rediscache_opt_ = ::rediscache::test::postgres_conninfo();      \
  if (!conninfo##_rediscache_opt_) {                                                    \
    if (::rediscache::test::servers_required()) {                                       \
      FAIL() << "REDISCACHE_TEST_PG is not set, but REDISCACHE_TEST_REQUIRE_SERVERS=1"; \
    }                                                                                   \
    GTEST_SKIP() << "no shared PostgreSQL: set REDISCACHE_TEST_PG or run scripts/test"; \
  }                                                                                     \
  const std::string& conninfo = *conninfo##_rediscache_opt_
