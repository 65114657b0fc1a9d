// Socket: an owned file descriptor, and the non-blocking connect (TCP over every address of a
// host, or a Unix socket) bounded by one deadline. Waits are poll() against a deadline.
#pragma once

#include <chrono>
#include <string>

namespace rediscache::detail {

using Deadline = std::chrono::steady_clock::time_point;

/// An owned, non-blocking socket; closed on destruction. Move-only. Not thread-safe.
class Socket {
 public:
  Socket() noexcept = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset() noexcept;

 private:
  int fd_ = -1;
};

/// strerror(3) for `err`, thread-safe (std::system_category, not strerror's static buffer).
std::string errno_text(int err);

/// What a wait ended with.
enum class WaitResult { kReady, kTimedOut };

/// Waits until `fd` has one of `events` (POLLIN / POLLOUT), an error or a hang-up, or until
/// `deadline`. Retries on EINTR. Throws IoError (naming `endpoint` and `what`) if poll fails.
WaitResult wait_for(int fd, short events, Deadline deadline, const std::string& endpoint,
                    const char* what);

/// Resolves `host` (getaddrinfo: IPv4 and IPv6) and connects to each address in turn until one
/// accepts, all within `deadline`; each address gets an even share of the time left (the last
/// one all of it), so one that drops SYNs cannot starve the others. Sets TCP_NODELAY, and
/// SO_KEEPALIVE when `keep_alive`. The socket stays non-blocking. Throws TimeoutError when the
/// deadline passes, IoError otherwise (the last address's error), naming `endpoint`.
Socket connect_tcp(const std::string& host, int port, bool keep_alive, Deadline deadline,
                   const std::string& endpoint);

/// Connects to the Unix socket at `path` within `deadline`. Throws like connect_tcp.
Socket connect_unix(const std::string& path, Deadline deadline, const std::string& endpoint);

}  // namespace rediscache::detail
