// FakeServer: a loopback TCP peer for tests of the transport against servers no honest Redis is:
// one that drips its reply, answers with hostile bytes, or never answers. A peer, not a mock:
// the code under test talks to it over a real socket.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace rediscache::test {

/// Listens on 127.0.0.1 (a free port) and runs `serve(fd)` on a background thread for each
/// accepted connection, one at a time; the connection is closed when `serve` returns. The
/// destructor stops accepting, shuts the current connection down and joins. Thread-safe.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int fd)> serve);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  /// True once stop was requested: `serve` loops should return.
  [[nodiscard]] bool stopping() const noexcept { return stop_.load(); }

  /// Reads until at least one complete line ("\r\n") arrived or the peer closed; returns what
  /// was read (for a request of one small command).
  static std::string read_request(int fd);
  /// Writes all of `bytes` (MSG_NOSIGNAL); false if the peer went away.
  static bool write_all(int fd, const std::string& bytes);

 private:
  void run();

  std::function<void(int)> serve_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> client_fd_{-1};
  std::thread thread_;
};

/// A free loopback TCP port (bound to port 0 and released; another process may take it).
int free_port();

}  // namespace rediscache::test
