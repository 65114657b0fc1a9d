// Connection: one connection to a Redis server over our own transport: an owned non-blocking
// socket (TCP over IPv4/IPv6, or Unix), optionally TLS, every wait a poll() against the
// command's deadline. Commands go out RESP-encoded from argv; replies come in through
// ReplyReader (hiredis's parser with hooks that build Reply directly). See docs/transport.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/reply_reader.hpp"
#include "net/socket.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

class TlsContext;
class TlsStream;

/// One connection. Not thread-safe. Any I/O or protocol failure throws (IoError, TimeoutError,
/// ProtocolError) and marks the connection broken for good.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Connects (every resolved address in turn), performs the TLS handshake when
  /// `options.tls.enabled`, then AUTH / SELECT / CLIENT SETNAME in one round trip, all within
  /// `connect_timeout`. `tls` is the pool's shared context; when null and TLS is enabled, one
  /// is built from `options.tls` (std::invalid_argument for unreadable files). Throws IoError,
  /// TimeoutError or ReplyError naming host:port.
  explicit Connection(const ConnectionOptions& options, std::shared_ptr<TlsContext> tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Queues one command (RESP-encoded into the reused output buffer).
  void append(ArgList argv);
  /// Queues `commands` commands already RESP-encoded.
  void append_encoded(std::string_view resp, std::size_t commands);
  /// Sends what is queued (if anything) and reads one reply; error replies are returned.
  Reply read_reply(std::string_view command_name);
  /// append + read_reply.
  Reply command(ArgList argv);
  /// Sends what is queued without reading (one write, or more only if the socket is full).
  void flush();
  /// A reply already buffered (no I/O), for pub/sub; returns false when none is complete.
  bool try_read_buffered(Reply& out);
  /// Waits up to `timeout` for bytes and reads what has arrived into the reader; false on
  /// timeout.
  bool wait_readable(std::chrono::milliseconds timeout);

  /// The deadline of the next reply's read, set by the caller (a multiplexed connection reads
  /// each reply against its own request's deadline); the reply after it arms its own again.
  void arm_deadline(Clock::time_point deadline) noexcept {
    deadline_ = deadline;
    armed_ = true;
  }
  /// The bound on each following command (write to last reply byte); for blocking commands.
  void set_timeout(std::chrono::milliseconds timeout);
  /// Back to the configured `command_timeout`.
  void restore_timeout();

  /// Non-blocking check that the server has not closed the socket and that no unexpected bytes
  /// wait on it. Consumes nothing but TLS post-handshake messages (session tickets).
  [[nodiscard]] bool probe_alive() noexcept;

  /// The socket (for poll() over several connections). With TLS, call try_read_buffered /
  /// wait_readable(0) before polling: OpenSSL may hold decrypted bytes poll cannot see.
  [[nodiscard]] int native_handle() const noexcept { return socket_.get(); }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept { broken_ = true; }
  /// Replies still owed by the server; a connection returned with replies owed is out of sync.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
  [[nodiscard]] Clock::time_point created_at() const noexcept { return created_at_; }
  [[nodiscard]] Clock::time_point last_used() const noexcept { return last_used_; }
  void touch(Clock::time_point now) noexcept { last_used_ = now; }
  /// True when this connection speaks TLS.
  [[nodiscard]] bool tls() const noexcept { return tls_ != nullptr; }
  /// True when this TLS connection resumed a session the pool's context had cached.
  [[nodiscard]] bool tls_resumed() const noexcept;

 private:
  void handshake(const ConnectionOptions& options);
  void send_queued(std::string_view command_name);
  // Reads what the socket has (waiting against the command's deadline) into the reader.
  void fill(std::string_view command_name);
  // One read into read_buf_ and the reader; false when nothing was available (would block, or
  // a blocking read ended by SO_RCVTIMEO or a signal). `block`: a plain socket's recv may wait.
  bool read_some(std::string_view command_name, bool block);
  [[noreturn]] void fail_io(std::string_view command_name, const std::string& reason);
  [[noreturn]] void fail_timeout(std::string_view command_name);
  [[noreturn]] void fail_protocol(std::string_view command_name);

  std::string endpoint_;
  Socket socket_;
  std::unique_ptr<TlsStream> tls_;  // after socket_: the SSL goes before its socket closes
  ReplyReader reader_;
  Reply reply_;                       // the reply being handed out
  std::string out_;                   // queued RESP, reused
  std::unique_ptr<char[]> read_buf_;  // kReadBufferSize bytes, reused
  std::chrono::milliseconds command_timeout_;
  std::chrono::milliseconds timeout_;  // command_timeout_ unless set_timeout
  // SO_RCVTIMEO of a plain socket (blocking mode); negative when the socket is non-blocking
  // (TLS, or the switch failed), so the blocking first read is never used.
  std::chrono::milliseconds recv_timeout_{-1};
  Clock::time_point deadline_{};  // of the command in progress, when armed_
  bool armed_ = false;
  bool full_read_ = false;  // the last read filled read_buf_: more may be waiting
  std::size_t pending_ = 0;
  bool broken_ = false;
  Clock::time_point created_at_;
  Clock::time_point last_used_;
};

/// Size of a connection's read buffer: one read takes up to this much off the socket.
inline constexpr std::size_t kReadBufferSize = std::size_t{16} * 1024;

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
