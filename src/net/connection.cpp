#include "net/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>

#include "net/resp.hpp"
#include "net/tls.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

namespace {

using Clock = Connection::Clock;

// An output buffer that grew past this for one huge batch is released afterwards.
constexpr std::size_t kMaxKeptOutput = std::size_t{1024} * 1024;

// A reply's first wait may block in recv() under SO_RCVTIMEO (see fill) only while at least the
// timeout minus this is left of the deadline: the kernel's timer then ends at most this late.
constexpr std::chrono::milliseconds kBlockingSlack{2};

// now + timeout, saturating instead of overflowing for huge timeouts.
Clock::time_point deadline_after(Clock::time_point now,
                                 std::chrono::milliseconds timeout) noexcept {
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  return timeout >= room ? Clock::time_point::max() : now + timeout;
}

Clock::time_point deadline_after(std::chrono::milliseconds timeout) noexcept {
  return deadline_after(Clock::now(), timeout);
}

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

// A write to a socket the server has reset raises SIGPIPE, whose default action kills the
// process. Plain sockets use send(MSG_NOSIGNAL), but OpenSSL writes with write(2). Once, and only
// if the application left SIGPIPE at its default, it is ignored process-wide (the write then
// fails with EPIPE); an application's own handler or mask is never replaced.
void ignore_sigpipe_once() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

// Command name for messages: upper case, at most 32 characters (never keys or values).
std::string command_name_text(std::string_view name) {
  std::string text(name.substr(0, 32));
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Connection::Connection(const ConnectionOptions& options, std::shared_ptr<TlsContext> tls)
    : endpoint_(options.endpoint()),
      read_buf_(new char[kReadBufferSize]),
      command_timeout_(options.command_timeout),
      timeout_(options.command_timeout) {
  ignore_sigpipe_once();
  const auto deadline = deadline_after(options.connect_timeout);
  socket_ = options.unix_socket.empty()
                ? connect_tcp(options.host, options.port, options.keep_alive, deadline, endpoint_)
                : connect_unix(options.unix_socket, deadline, endpoint_);
  if (options.tls.enabled) {
    if (!tls) tls = make_tls_context(options.tls);
    tls_ = std::make_unique<TlsStream>(std::move(tls), socket_.get(), options.host, deadline,
                                       endpoint_);
  } else {
    // A plain socket goes blocking with SO_RCVTIMEO = command_timeout, so that the first wait
    // for a reply is the recv() itself (see fill); every other call passes MSG_DONTWAIT.
    const int flags = ::fcntl(socket_.get(), F_GETFL);
    const timeval tv = to_timeval(command_timeout_);
    if (flags >= 0 && ::fcntl(socket_.get(), F_SETFL, flags & ~O_NONBLOCK) == 0 &&
        ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0) {
      recv_timeout_ = command_timeout_;
    } else {
      ::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK);
    }
  }
  // The handshake is part of connecting, so it gets what is left of the connect timeout.
  timeout_ =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
               std::chrono::milliseconds(1));
  handshake(options);
  timeout_ = command_timeout_;
  created_at_ = last_used_ = Clock::now();
}

Connection::~Connection() {
  if (tls_ && !broken_) tls_->shutdown();
}

void Connection::handshake(const ConnectionOptions& options) {
  std::size_t sent = 0;
  const char* names[3];
  if (!options.password.empty()) {
    if (options.user.empty()) {
      append({"AUTH", options.password});
    } else {
      append({"AUTH", options.user, options.password});
    }
    names[sent++] = "AUTH";
  }
  const IntText db(options.db);
  if (options.db != 0) {
    append({"SELECT", db});
    names[sent++] = "SELECT";
  }
  if (!options.client_name.empty()) {
    append({"CLIENT", "SETNAME", options.client_name});
    names[sent++] = "CLIENT";
  }
  // Read every reply before reporting the first error, so the stream stays in sync.
  const char* failed = nullptr;
  Reply failure;
  for (std::size_t i = 0; i < sent; ++i) {
    Reply reply = read_reply(names[i]);
    if (reply.is_error() && failed == nullptr) {
      failed = names[i];
      failure = std::move(reply);
    }
  }
  if (failed != nullptr) {
    broken_ = true;
    throw_reply_error(endpoint_, failed, failure);
  }
}

void Connection::append(ArgList argv) {
  append_resp(out_, argv);
  ++pending_;
}

void Connection::append_encoded(std::string_view resp, std::size_t commands) {
  out_.append(resp);
  pending_ += commands;
}

Reply Connection::read_reply(std::string_view command_name) {
  if (!out_.empty()) send_queued(command_name);
  Reply reply;
  for (;;) {
    switch (reader_.next(reply)) {
      case ReplyReader::Result::kReply:
        if (pending_ > 0) --pending_;
        armed_ = false;  // the next reply's wait starts its own deadline
        return reply;
      case ReplyReader::Result::kError:
        fail_protocol(command_name);
      case ReplyReader::Result::kIncomplete:
        fill(command_name);
        break;
    }
  }
}

Reply Connection::command(ArgList argv) {
  append(argv);
  // argv[0] only labels errors; upper-cased only when one is thrown (no allocation here).
  return read_reply(argv.empty() ? std::string_view() : argv[0]);
}

void Connection::flush() {
  if (!out_.empty()) send_queued("write");
}

void Connection::send_queued(std::string_view command_name) {
  deadline_ = deadline_after(timeout_);
  armed_ = true;
  const int fd = socket_.get();
  std::size_t offset = 0;
  // One send for the whole queue (a pipeline's commands are contiguous in out_); more only when
  // the socket buffer is full.
  while (offset < out_.size()) {
    short wait = POLLOUT;
    if (tls_) {
      std::size_t put = 0;
      switch (tls_->write(out_.data() + offset, out_.size() - offset, &put)) {
        case TlsIo::kDone:
          offset += put;
          continue;
        case TlsIo::kWantRead:
          wait = POLLIN;
          break;
        case TlsIo::kWantWrite:
          break;
        case TlsIo::kClosed:
          fail_io(command_name, "server closed the connection");
        case TlsIo::kError:
          fail_io(command_name, "TLS: " + tls_->last_error());
      }
    } else {
      const ssize_t n =
          ::send(fd, out_.data() + offset, out_.size() - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        offset += static_cast<std::size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail_io(command_name, errno_text(errno));
    }
    if (wait_for(fd, wait, deadline_, endpoint_, "write") == WaitResult::kTimedOut) {
      fail_timeout(command_name);
    }
  }
  if (out_.capacity() > kMaxKeptOutput) {
    std::string().swap(out_);
  } else {
    out_.clear();
  }
}

bool Connection::read_some(std::string_view command_name, bool block) {
  std::size_t got = 0;
  if (tls_) {
    switch (tls_->read(read_buf_.get(), kReadBufferSize, &got)) {
      case TlsIo::kDone:
        break;
      case TlsIo::kWantRead:
        return false;
      case TlsIo::kWantWrite:
        // Only a renegotiation makes a read write; wait for room, then read again.
        if (wait_for(socket_.get(), POLLOUT, deadline_, endpoint_, "read") ==
            WaitResult::kTimedOut) {
          fail_timeout(command_name);
        }
        return false;
      case TlsIo::kClosed:
        fail_io(command_name, "server closed the connection");
      case TlsIo::kError:
        fail_io(command_name, "TLS: " + tls_->last_error());
    }
  } else {
    for (;;) {
      const ssize_t n =
          ::recv(socket_.get(), read_buf_.get(), kReadBufferSize, block ? 0 : MSG_DONTWAIT);
      if (n > 0) {
        got = static_cast<std::size_t>(n);
        break;
      }
      if (n == 0) fail_io(command_name, "server closed the connection");
      // A blocking recv interrupted, or ended by SO_RCVTIMEO: the caller polls what is left.
      if (errno == EINTR && !block) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
      fail_io(command_name, errno_text(errno));
    }
  }
  full_read_ = got == kReadBufferSize;
  if (!reader_.feed(read_buf_.get(), got)) fail_protocol(command_name);
  return true;
}

void Connection::fill(std::string_view command_name) {
  const auto now = Clock::now();
  if (!armed_) {
    deadline_ = deadline_after(now, timeout_);
    armed_ = true;
  } else if (now >= deadline_) {
    // Checked here, not only in poll: a server streaming a reply fast enough never lets poll
    // wait, and must not hold the command past its deadline either.
    fail_timeout(command_name);
  }
  if (full_read_ || (tls_ && tls_->pending() > 0)) {
    // Bytes are likely waiting (the last read filled the buffer, or OpenSSL holds some).
    if (read_some(command_name, false)) return;
  } else if (recv_timeout_ == timeout_ && deadline_ - now >= timeout_ - kBlockingSlack) {
    // The usual case: the reply to a request just sent, with (all but kBlockingSlack of) the
    // whole timeout left. A recv() bounded by SO_RCVTIMEO (= timeout_) waits exactly as a poll
    // against the deadline would, and saves the poll: one system call in three per command.
    if (read_some(command_name, true)) return;
    if (Clock::now() >= deadline_) fail_timeout(command_name);
  }
  for (;;) {
    if (wait_for(socket_.get(), POLLIN, deadline_, endpoint_, "read") == WaitResult::kTimedOut) {
      fail_timeout(command_name);
    }
    if (read_some(command_name, false)) return;
  }
}

bool Connection::try_read_buffered(Reply& out) {
  switch (reader_.next(out)) {
    case ReplyReader::Result::kReply:
      return true;
    case ReplyReader::Result::kError:
      fail_protocol("read");
    case ReplyReader::Result::kIncomplete:
      break;
  }
  return false;
}

bool Connection::wait_readable(std::chrono::milliseconds timeout) {
  if (tls_ && tls_->pending() > 0) {
    deadline_ = deadline_after(timeout);
    read_some("read", false);
    return true;
  }
  const auto deadline = deadline_after(timeout);
  for (;;) {
    if (wait_for(socket_.get(), POLLIN, deadline, endpoint_, "read") == WaitResult::kTimedOut) {
      return false;
    }
    deadline_ = deadline;  // bounds a TLS read that must first write (renegotiation)
    if (read_some("read", false)) return true;
  }
}

bool Connection::tls_resumed() const noexcept { return tls_ && tls_->resumed(); }

void Connection::set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

void Connection::restore_timeout() { timeout_ = command_timeout_; }

bool Connection::probe_alive() noexcept {
  if (broken_) return false;
  char byte = 0;
  const ssize_t n = ::recv(socket_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  // 0: the server closed the socket. >0 on a plain socket: bytes nobody asked for; the stream
  // is out of sync.
  if (n == 0 || !tls_) return false;
  // With TLS the bytes may be post-handshake messages (TLS 1.3 session tickets), which OpenSSL
  // consumes without returning data; application data or an alert means the connection is done.
  if (tls_->pending() > 0) return false;
  std::size_t got = 0;
  const TlsIo io = tls_->read(read_buf_.get(), kReadBufferSize, &got);
  if (io == TlsIo::kWantRead) return true;
  broken_ = true;
  return false;
}

void Connection::fail_io(std::string_view command_name, const std::string& reason) {
  broken_ = true;
  throw IoError("redis " + endpoint_ + ": " + command_name_text(command_name) + ": " + reason);
}

void Connection::fail_timeout(std::string_view command_name) {
  broken_ = true;
  throw TimeoutError("redis " + endpoint_ + ": " + command_name_text(command_name) +
                     ": timed out waiting for the server");
}

void Connection::fail_protocol(std::string_view command_name) {
  broken_ = true;
  throw ProtocolError("redis " + endpoint_ + ": " + command_name_text(command_name) +
                      ": protocol error: " + reader_.error());
}

std::string redact_server_error(std::string_view message) {
  constexpr std::string_view kEcho = ", with args beginning with";
  const auto cut = message.find(kEcho);
  return std::string(cut == std::string_view::npos ? message : message.substr(0, cut));
}

void throw_reply_error(const std::string& endpoint, std::string_view command, const Reply& reply) {
  const std::string_view text = reply.str;
  std::string code(text.substr(0, text.find(' ')));
  throw ReplyError(
      "redis " + endpoint + ": " + std::string(command) + ": " + redact_server_error(text),
      std::move(code));
}

}  // namespace rediscache::detail
