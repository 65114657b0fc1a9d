// ConnectionPool: a bounded, thread-safe pool of connections (TCP, TLS or Unix socket) to one
// Redis server, with timeouts, liveness checks, transparent reconnect and statistics. Lease is
// its RAII handle.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/reply.hpp"
#include "rediscache/net/tls_options.hpp"

namespace rediscache {

namespace detail {
class Connection;
class PoolState;
struct LeaseAccess;
struct PoolAccess;
}  // namespace detail

/// Where and how to connect. Validated by every constructor that takes it; invalid values
/// throw `std::invalid_argument` naming the field.
struct REDISCACHE_EXPORT ConnectionOptions {
  /// Server host name or IP address; ignored when `unix_socket` is set.
  std::string host = "127.0.0.1";
  /// TCP port, 1..65535.
  int port = 6379;
  /// Path of a Unix domain socket; when non-empty it is used instead of host:port.
  std::string unix_socket;
  /// ACL user name (Redis 6+). Empty means the default user.
  std::string user;
  /// Password for AUTH. Empty means no AUTH.
  std::string password;
  /// Logical database selected on connect, 0..(databases-1).
  int db = 0;
  /// Longest time a connect may take: name resolution, the TCP connect (each address in turn,
  /// within this one deadline), the TLS handshake, AUTH, SELECT and CLIENT SETNAME.
  std::chrono::milliseconds connect_timeout{1000};
  /// Longest time a command may take, from the first byte written to the last byte of its reply
  /// (a bound on the whole command, not on each read). Blocking commands (BRPOP, BLMOVE, ...) wait
  /// for their own timeout plus this plus 500 ms, because Redis answers a blocking timeout from
  /// its event loop up to 1000/hz ms late.
  std::chrono::milliseconds command_timeout{1000};
  /// Enables TCP keep-alive, so a silently dead peer is noticed.
  bool keep_alive = true;
  /// Name given with CLIENT SETNAME on connect (visible in CLIENT LIST); empty sends none.
  std::string client_name;
  /// TLS (off by default). Not allowed with `unix_socket`.
  TlsOptions tls;

  /// "host:port" or "unix:/path", as used in error messages.
  [[nodiscard]] std::string endpoint() const;
  /// Throws `std::invalid_argument` naming the first invalid field.
  void validate() const;
};

/// How the pool behaves. Validated by the pool's constructor.
struct REDISCACHE_EXPORT PoolOptions {
  /// Most connections the pool ever holds at once (leased plus idle); at least 1.
  std::size_t size = 8;
  /// How long `lease()` waits for a free connection before throwing `PoolExhausted`.
  std::chrono::milliseconds wait_timeout{1000};
  /// Connections older than this are closed when returned instead of reused. Unset: no limit.
  std::optional<std::chrono::milliseconds> max_lifetime;
  /// Connections idle longer than this are closed instead of reused. Unset: no limit.
  std::optional<std::chrono::milliseconds> max_idle_time;
  /// Before reusing a connection idle longer than this, probe its socket without blocking (one
  /// non-blocking recv with MSG_PEEK), so a connection the server closed (restart, CLIENT KILL,
  /// idle timeout) is replaced before a command is lost on it. Connections in constant use skip
  /// the probe (a syscall, about 1-2 us), since one used a moment ago is all but certainly alive.
  /// Zero probes on every lease; unset never probes.
  std::optional<std::chrono::milliseconds> check_liveness_after_idle = std::chrono::milliseconds(1);
  /// A connection idle longer than this gets a PING before reuse, which also catches peers that
  /// vanished without closing the socket. Unset: never.
  std::optional<std::chrono::milliseconds> ping_after_idle = std::chrono::seconds(30);
  /// Multiplexing (auto-pipelining): a command takes a free pooled connection while there is
  /// one; once all `size` are busy, concurrent commands share one more connection, whatever is
  /// queued going out in one write and each caller getting its own reply, instead of waiting for
  /// a pooled connection to come back. Commands that change or hold a
  /// connection's state (SELECT, WATCH/MULTI/EXEC, SUBSCRIBE, blocking pops, WAIT, CLIENT, ...)
  /// and transactions still lease one of the `size` pooled connections. See docs/transport.md.
  bool multiplex = true;
  /// With `multiplex`: most bytes of commands queued or in flight on the shared connection; a
  /// command past it throws PoolExhausted (one command alone is always taken, whatever its
  /// size). 1 KiB..4 GiB.
  std::size_t max_queued_bytes = std::size_t{64} << 20;

  /// Throws `std::invalid_argument` naming the first invalid field.
  void validate() const;
};

/// A consistent snapshot of a pool's counters.
struct PoolStats {
  std::size_t size = 0;                ///< Configured maximum.
  std::size_t in_use = 0;              ///< Connections leased right now.
  std::size_t idle = 0;                ///< Open connections waiting in the pool.
  std::uint64_t created = 0;           ///< Connections opened successfully, ever.
  std::uint64_t connect_failures = 0;  ///< Connect attempts that failed.
  std::uint64_t discarded = 0;         ///< Connections dropped (broken, expired or found dead).
  std::uint64_t leases = 0;            ///< Successful leases.
  std::uint64_t waits = 0;             ///< Leases that had to wait for a connection.
  std::uint64_t wait_timeouts = 0;     ///< Leases that gave up (PoolExhausted).
  std::chrono::nanoseconds wait_time_total{0};  ///< Time spent waiting, summed over leases.
  std::chrono::nanoseconds wait_time_max{0};    ///< Longest single wait.
  std::uint64_t multiplexed_requests = 0;  ///< Commands (or pipelines) on the shared connection.
  std::uint64_t multiplexed_writes = 0;    ///< Writes that sent them: requests / writes = batching.
};

class ConnectionPool;
class Pipeline;
class Transaction;
class Subscriber;

/// A leased connection: move-only, returned to its pool on destruction, or dropped if it broke.
/// Its pool must outlive it. Not thread-safe: one thread uses a lease at a time.
class REDISCACHE_EXPORT Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  /// Sends one command and reads its reply (one round trip). An error reply is returned as a
  /// `Reply` of type kError, not thrown. Throws IoError/TimeoutError/ProtocolError, after which
  /// the connection is discarded on release.
  Reply command(ArgList argv);
  /// Queues a command in the output buffer without sending it (pipelining).
  void append(ArgList argv);
  /// Sends what is queued and reads the next reply. `command_name` only labels errors.
  Reply read_reply(std::string_view command_name = "pipeline");
  /// Sets the read timeout for the next replies (for blocking commands); unset restores the
  /// configured command timeout.
  void set_read_timeout(std::optional<std::chrono::milliseconds> timeout);
  /// Drops the connection on release instead of returning it (for connections left in a
  /// state other users must not see).
  void discard() noexcept;
  /// True when the connection failed and will be dropped on release.
  [[nodiscard]] bool broken() const noexcept;
  /// "host:port" of the server, for messages.
  [[nodiscard]] const std::string& endpoint() const noexcept;

 private:
  friend class ConnectionPool;
  friend class Pipeline;
  friend class Transaction;
  friend struct detail::LeaseAccess;
  friend struct detail::PoolAccess;
  Lease(detail::PoolState* pool, std::unique_ptr<detail::Connection> connection) noexcept;
  void release() noexcept;
  [[nodiscard]] detail::Connection& connection() noexcept { return *connection_; }

  detail::PoolState* pool_ = nullptr;
  std::unique_ptr<detail::Connection> connection_;
};

/// A bounded pool of connections to one server. Thread-safe. Never holds its mutex during
/// network I/O; never grows past `PoolOptions::size`. Connections are opened lazily.
class REDISCACHE_EXPORT ConnectionPool {
 public:
  /// Validates both option sets (std::invalid_argument naming the field) and, with TLS, builds
  /// the pool's one TLS context from `connection.tls` (std::invalid_argument naming the option and
  /// the file when a certificate, key or CA file cannot be read or parsed); does not connect.
  explicit ConnectionPool(ConnectionOptions connection, PoolOptions pool = {});
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// Hands out an idle connection, or opens one if the pool has room, or waits up to
  /// `wait_timeout` for one to come back. Throws PoolExhausted after the wait; IoError or
  /// TimeoutError (naming host:port) when a connect fails within `connect_timeout`.
  [[nodiscard]] Lease lease();
  /// Runs one command and returns its reply (an error reply is returned, not thrown) on a leased
  /// connection; with PoolOptions::multiplex, on a free pooled connection while there is one and
  /// on the shared connection once all are busy (unless the command needs a connection of its
  /// own, which always leases). Throws as lease() and Lease::command do; multiplexed, an
  /// IoError after the command was written means its outcome is unknown (it is never resent).
  Reply command(ArgList argv);

  /// Closes every idle connection; leased ones are closed when they come back.
  void drain() noexcept;

  [[nodiscard]] PoolStats stats() const;
  [[nodiscard]] const ConnectionOptions& connection_options() const noexcept;
  [[nodiscard]] const PoolOptions& pool_options() const noexcept;
  /// "host:port" of the server.
  [[nodiscard]] const std::string& endpoint() const noexcept;

 private:
  friend struct detail::PoolAccess;
  std::unique_ptr<detail::PoolState> state_;
};

}  // namespace rediscache
