#include "fake_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>

namespace rediscache::test {

namespace {

int listen_loopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("FakeServer: socket failed");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("FakeServer: bind/listen failed");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

FakeServer::FakeServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
  listen_fd_ = listen_loopback(&port_);
  thread_ = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
  stop_.store(true);
  const int client = client_fd_.load();
  if (client >= 0) ::shutdown(client, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

void FakeServer::run() {
  while (!stop_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    client_fd_.store(fd);
    if (!stop_.load()) serve_(fd);
    client_fd_.store(-1);
    ::close(fd);
  }
}

std::string FakeServer::read_request(int fd) {
  std::string in;
  char buf[4096];
  while (in.find("\r\n") == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

bool FakeServer::write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

int free_port() {
  int port = 0;
  const int fd = listen_loopback(&port);
  ::close(fd);
  return port;
}

}  // namespace rediscache::test
