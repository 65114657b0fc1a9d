#include "net/socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds to pass to poll(), rounded up so that a wait never ends before its deadline.
int poll_timeout(Deadline deadline) noexcept {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, 1 << 30));
}

[[noreturn]] void throw_connect(const std::string& endpoint, const std::string& reason,
                                bool timed_out) {
  const std::string what = "redis " + endpoint + ": connect: " + reason;
  if (timed_out) throw TimeoutError(what);
  throw IoError(what);
}

Socket open_socket(int family, int type, int protocol, const std::string& endpoint) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw_connect(endpoint, "socket: " + errno_text(errno), false);
  return Socket(fd);
}

// Starts a non-blocking connect and waits for it until `deadline`. Returns 0 on success, an
// errno value otherwise (ETIMEDOUT when the deadline passed).
int connect_one(int fd, const sockaddr* addr, socklen_t len, Deadline deadline,
                const std::string& endpoint) {
  int rc = 0;
  do {
    rc = ::connect(fd, addr, len);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return 0;
  if (errno != EINPROGRESS && errno != EAGAIN) return errno;
  if (wait_for(fd, POLLOUT, deadline, endpoint, "connect") == WaitResult::kTimedOut) {
    return ETIMEDOUT;
  }
  int err = 0;
  socklen_t err_len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return errno;
  return err;
}

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const noexcept { ::freeaddrinfo(info); }
};

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

Socket::~Socket() { reset(); }

int Socket::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Socket::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

WaitResult wait_for(int fd, short events, Deadline deadline, const std::string& endpoint,
                    const char* what) {
  pollfd pfd{fd, events, 0};
  for (;;) {
    const int rc = ::poll(&pfd, 1, poll_timeout(deadline));
    if (rc > 0) return WaitResult::kReady;
    if (rc == 0) {
      // poll's millisecond granularity may wake a hair early; only the clock decides.
      if (Clock::now() >= deadline) return WaitResult::kTimedOut;
      continue;
    }
    if (errno != EINTR) {
      throw IoError("redis " + endpoint + ": " + what + ": poll: " + errno_text(errno));
    }
  }
}

Socket connect_tcp(const std::string& host, int port, bool keep_alive, Deadline deadline,
                   const std::string& endpoint) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* raw = nullptr;
  const std::string service = std::to_string(port);
  int gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  if (gai == EAI_NONAME || gai == EAI_ADDRFAMILY || gai == EAI_NODATA) {
    // AI_ADDRCONFIG hides ::1 and 127.0.0.1 on a host whose only interface is loopback.
    hints.ai_flags = 0;
    gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  }
  if (gai != 0) {
    throw_connect(endpoint,
                  "cannot resolve '" + host + "': " +
                      (gai == EAI_SYSTEM ? errno_text(errno) : std::string(::gai_strerror(gai))),
                  false);
  }
  const std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  std::size_t count = 0;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) ++count;

  int last_error = ECONNREFUSED;
  bool timed_out = false;
  std::size_t index = 0;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next, ++index) {
    const auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    const auto share = (deadline - now) / static_cast<long>(count - index);
    const Deadline attempt_deadline = index + 1 == count ? deadline : now + share;
    Socket socket = open_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol, endpoint);
    const int err =
        connect_one(socket.get(), ai->ai_addr, ai->ai_addrlen, attempt_deadline, endpoint);
    if (err == 0) {
      const int one = 1;
      ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (keep_alive) ::setsockopt(socket.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
      return socket;
    }
    last_error = err;
    timed_out = err == ETIMEDOUT;
  }
  if (timed_out) throw_connect(endpoint, "timed out", true);
  throw_connect(endpoint, errno_text(last_error), false);
}

Socket connect_unix(const std::string& path, Deadline deadline, const std::string& endpoint) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw_connect(endpoint, "socket path too long", false);
  std::memcpy(addr.sun_path, path.data(), path.size());
  Socket socket = open_socket(AF_UNIX, SOCK_STREAM, 0, endpoint);
  const int err = connect_one(socket.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr,
                              deadline, endpoint);
  if (err == ETIMEDOUT) throw_connect(endpoint, "timed out", true);
  if (err != 0) throw_connect(endpoint, errno_text(err), false);
  return socket;
}

std::string errno_text(int err) { return std::system_category().message(err); }

}  // namespace rediscache::detail
