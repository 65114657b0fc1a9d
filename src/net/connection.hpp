// Connection: the only code that touches hiredis. One blocking redisContext, argv in, Reply out.
// The hiredis reader is given our own reply-object functions, so replies are parsed straight
// into rediscache::Reply with no intermediate redisReply tree.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"

struct redisContext;

namespace rediscache::detail {

/// One connection. Not thread-safe. Any I/O or protocol failure throws (IoError, TimeoutError,
/// ProtocolError) and marks the connection broken for good.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Connects, then AUTH / SELECT / CLIENT SETNAME in one round trip, all within
  /// `connect_timeout`. Throws IoError, TimeoutError or ReplyError naming host:port.
  explicit Connection(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Queues one command (RESP-encoded into a reused buffer).
  void append(ArgList argv);
  /// Queues `commands` commands already RESP-encoded.
  void append_encoded(std::string_view resp, std::size_t commands);
  /// Sends what is queued (if anything) and reads one reply; error replies are returned.
  Reply read_reply(std::string_view command_name);
  /// append + read_reply.
  Reply command(ArgList argv);
  /// Sends what is queued without reading.
  void flush();
  /// A reply already buffered (no I/O), for pub/sub; returns false when none is complete.
  bool try_read_buffered(Reply& out);
  /// Waits up to `timeout` for bytes and reads them into the reader; false on timeout.
  bool wait_readable(std::chrono::milliseconds timeout);

  /// Read (and write) timeout for what follows; unset restores the configured command timeout.
  void set_timeout(std::chrono::milliseconds timeout);
  void restore_timeout();

  /// Non-blocking check that the server has not closed the socket and that no unexpected bytes
  /// wait on it. Does not consume anything.
  [[nodiscard]] bool probe_alive() noexcept;

  /// The socket (for poll() over several connections).
  [[nodiscard]] int native_handle() const noexcept;
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept { broken_ = true; }
  /// Replies still owed by the server; a connection returned with replies owed is out of sync.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
  [[nodiscard]] Clock::time_point created_at() const noexcept { return created_at_; }
  [[nodiscard]] Clock::time_point last_used() const noexcept { return last_used_; }
  void touch(Clock::time_point now) noexcept { last_used_ = now; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const noexcept;
  };

  [[noreturn]] void fail(std::string_view command_name, int saved_errno);
  void handshake(const ConnectionOptions& options);

  std::unique_ptr<redisContext, ContextDeleter> context_;
  std::string endpoint_;
  std::string out_;  // reused RESP encoding buffer
  Reply root_;       // the hiredis reader builds the top-level reply here
  std::chrono::milliseconds command_timeout_;
  std::size_t pending_ = 0;
  bool broken_ = false;
  Clock::time_point created_at_;
  Clock::time_point last_used_;
};

/// The text of an error reply with anything after ", with args beginning with" removed, so
/// server messages that echo arguments never reach exception messages.
[[nodiscard]] std::string redact_server_error(std::string_view message);

/// Throws ReplyError for an error reply: "redis host:port: CMD: <server message>".
[[noreturn]] void throw_reply_error(const std::string& endpoint, std::string_view command,
                                    const Reply& reply);

/// Read deadline for a blocking command (BRPOP, BLMOVE, XREAD BLOCK, ...) that the server may
/// hold for `block`. Redis fires blocking timeouts from its event loop, which wakes every
/// 1000/hz ms (100 ms by default) and later still on a loaded host, so the server's own "timed
/// out" reply can arrive well after `block`. The grace keeps that reply from being mistaken for
/// a dead server; `command_timeout` still bounds the round trip itself.
inline std::chrono::milliseconds blocking_read_timeout(std::chrono::milliseconds block,
                                                       std::chrono::milliseconds command_timeout) {
  constexpr std::chrono::milliseconds kServerTimerGrace{500};
  return block + command_timeout + kServerTimerGrace;
}

}  // namespace rediscache::detail
