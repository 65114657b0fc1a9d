// Exceptions thrown by rediscache. Every message names the server (host:port) and the command
// name, never keys or values, so logs do not leak user data.
#pragma once

#include <stdexcept>
#include <string>

namespace rediscache {

/// What went wrong, for callers that branch on the kind of failure.
enum class Errc {
  kIo = 1,         ///< The connection failed (connect refused, reset, closed by the server).
  kTimeout,        ///< Connect or command timeout; the connection was discarded.
  kPoolExhausted,  ///< No connection became free within the pool's wait timeout.
  kReply,          ///< The server answered with an error reply (WRONGTYPE, NOSCRIPT, ...).
  kProtocol,       ///< The reply did not have the shape the command promises.
  kUnavailable,    ///< A component refused to try Redis (for example an open circuit breaker).
  kNotReplicated,  ///< A write was applied on the master, but too few replicas confirmed it (WAIT).
  kLoadTimeout,    ///< A cache's loader did not return within CacheOptions::load_hard_timeout.
};

/// Base of every exception rediscache throws on its own behalf.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  [[nodiscard]] Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

/// The connection failed; the connection involved has been discarded, and the next lease
/// reconnects. Whether a write that failed this way was applied is unknown.
class IoError : public Error {
 public:
  explicit IoError(const std::string& what) : Error(Errc::kIo, what) {}

 protected:
  IoError(Errc code, const std::string& what) : Error(code, what) {}
};

/// A connect or command timeout. Catching `IoError` catches this too.
class TimeoutError : public IoError {
 public:
  explicit TimeoutError(const std::string& what) : IoError(Errc::kTimeout, what) {}
};

/// The pool had no free connection within `PoolOptions::wait_timeout`.
class PoolExhausted : public Error {
 public:
  explicit PoolExhausted(const std::string& what) : Error(Errc::kPoolExhausted, what) {}
};

/// The server answered with an error reply. The connection stays usable.
class ReplyError : public Error {
 public:
  /// `server_code` is the first word of the server's message ("ERR", "WRONGTYPE", "NOSCRIPT").
  ReplyError(const std::string& what, std::string server_code)
      : Error(Errc::kReply, what), server_code_(std::move(server_code)) {}
  [[nodiscard]] const std::string& server_code() const noexcept { return server_code_; }

 private:
  std::string server_code_;
};

/// A reply of an unexpected type, or a broken stream; the connection has been discarded.
class ProtocolError : public Error {
 public:
  explicit ProtocolError(const std::string& what) : Error(Errc::kProtocol, what) {}
};

/// A component declined to contact Redis (for example an open circuit breaker).
class Unavailable : public Error {
 public:
  explicit Unavailable(const std::string& what) : Error(Errc::kUnavailable, what) {}
};

/// A write was applied on the master, but fewer replicas than required acknowledged it within
/// the timeout (WAIT), for example because a replica is down or lagging. Unlike IoError the
/// outcome is known: the write is on the master and stays there, and replicates later if a
/// replica catches up; only if that master is lost first (a failover) is the write lost.
/// Repeating an idempotent write is safe. Thrown by WriteBehind with
/// WriteBehindOptions::wait_replicas set.
class NotReplicated : public Error {
 public:
  NotReplicated(const std::string& what, long long required, long long acknowledged)
      : Error(Errc::kNotReplicated, what), required_(required), acknowledged_(acknowledged) {}
  /// Replicas that had to acknowledge the write.
  [[nodiscard]] long long required() const noexcept { return required_; }
  /// Replicas that did, within the timeout (-1 when WAIT itself failed).
  [[nodiscard]] long long acknowledged() const noexcept { return acknowledged_; }

 private:
  long long required_;
  long long acknowledged_;
};

/// A cache read gave up waiting for its loader at CacheOptions::load_hard_timeout and had no
/// stale copy to serve. The load goes on in the background and caches its result when it
/// completes, so a later read may find it. Not a Redis failure: Redis may be fine.
class LoadTimeout : public Error {
 public:
  explicit LoadTimeout(const std::string& what) : Error(Errc::kLoadTimeout, what) {}
};

}  // namespace rediscache
