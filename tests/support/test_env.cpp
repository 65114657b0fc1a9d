#include "test_env.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

namespace rediscache::test {
namespace {

using Clock = std::chrono::steady_clock;

struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

std::optional<std::string> env(const char* name) {
  // Tests read the environment that scripts/test set up; nothing calls setenv concurrently.
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string address(const Endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// Null on failure, with the reason in *error.
ContextPtr connect(const Endpoint& ep, std::chrono::milliseconds timeout, std::string* error) {
  ContextPtr c(redisConnectWithTimeout(ep.host.c_str(), ep.port, to_timeval(timeout)));
  if (!c) {
    *error = "cannot allocate a hiredis context";
    return nullptr;
  }
  if (c->err != 0) {
    *error = c->errstr;
    return nullptr;
  }
  return c;
}

ReplyPtr command_argv(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data())));
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

// ---- raw commands over TLS ----------------------------------------------------------------
// hiredis 0.14 has no TLS, so the raw TLS path is a blocking socket, OpenSSL and hiredis's RESP
// reader: independent of the library under test, like the plain path.

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslDeleter {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};
struct ReaderDeleter {
  void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};

std::string ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no OpenSSL error queued") : out;
}

// One SSL_CTX for every raw TLS connection of the process: the test CA and client certificate.
SSL_CTX* raw_tls_context() {
  static const std::unique_ptr<SSL_CTX, SslCtxDeleter> kContext = [] {
    const auto files = tls_files();
    if (!files) throw std::runtime_error("raw_command over TLS: REDISCACHE_TEST_TLS_CA_FILE unset");
    std::unique_ptr<SSL_CTX, SslCtxDeleter> c(SSL_CTX_new(TLS_client_method()));
    if (!c) throw std::runtime_error("raw_command over TLS: SSL_CTX_new: " + ssl_errors());
    if (SSL_CTX_load_verify_locations(c.get(), files->ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("raw_command over TLS: cannot load " + files->ca_file + ": " +
                               ssl_errors());
    }
    SSL_CTX_set_verify(c.get(), SSL_VERIFY_PEER, nullptr);
    if (!files->client_cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(c.get(), files->client_cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(c.get(), files->client_key_file.c_str(), SSL_FILETYPE_PEM) !=
             1)) {
      throw std::runtime_error("raw_command over TLS: cannot load the client certificate: " +
                               ssl_errors());
    }
    return c;
  }();
  return kContext.get();
}

// A connected, blocking TCP socket with send/receive timeouts, or -1 with *error set.
int tcp_connect(const Endpoint& ep, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds io_timeout, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc =
          ::getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &found);
      rc != 0) {
    *error = ::gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  *error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(connect_timeout.count()));
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 &&
          so_error == 0) {
        rc = 0;
      } else {
        *error = rc == 0 ? std::string("connect timed out")
                         : std::generic_category().message(so_error != 0 ? so_error : errno);
        rc = -1;
      }
    } else if (rc != 0) {
      *error = std::generic_category().message(errno);
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      const timeval tv = to_timeval(io_timeout);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      return fd;
    }
    ::close(fd);
  }
  return -1;
}

std::string encode_command(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// A raw TLS connection: a socket, its SSL and a RESP reader. Not thread-safe.
class TlsRawConnection {
 public:
  explicit TlsRawConnection(const Endpoint& ep) : where_(address(ep)) {
    std::string error;
    fd_ = tcp_connect(ep, std::chrono::seconds(5), std::chrono::seconds(60), &error);
    if (fd_ < 0)
      throw std::runtime_error("raw_command: cannot connect to " + where_ + ": " + error);
    ssl_.reset(SSL_new(raw_tls_context()));
    reader_.reset(redisReaderCreate());
    if (!ssl_ || !reader_ || SSL_set_fd(ssl_.get(), fd_) != 1) {
      throw std::runtime_error("raw_command: cannot set up TLS to " + where_ + ": " + ssl_errors());
    }
    if (SSL_connect(ssl_.get()) != 1) {
      throw std::runtime_error("raw_command: TLS handshake with " + where_ +
                               " failed: " + ssl_errors());
    }
  }
  ~TlsRawConnection() {
    if (ssl_) SSL_shutdown(ssl_.get());
    ssl_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  TlsRawConnection(const TlsRawConnection&) = delete;
  TlsRawConnection& operator=(const TlsRawConnection&) = delete;

  ReplyPtr command(const std::vector<std::string>& argv) {
    const std::string out = encode_command(argv);
    if (SSL_write(ssl_.get(), out.data(), static_cast<int>(out.size())) !=
        static_cast<int>(out.size())) {
      throw std::runtime_error("raw_command: '" + join(argv) + "' on " + where_ +
                               ": write failed: " + ssl_errors());
    }
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
        throw std::runtime_error("raw_command: protocol error from " + where_);
      }
      if (reply != nullptr) return ReplyPtr(static_cast<redisReply*>(reply));
      char buf[16384];
      const int n = SSL_read(ssl_.get(), buf, sizeof buf);
      if (n <= 0) {
        throw std::runtime_error("raw_command: '" + join(argv) + "' on " + where_ +
                                 " failed: connection closed or timed out (" + ssl_errors() + ")");
      }
      redisReaderFeed(reader_.get(), buf, static_cast<size_t>(n));
    }
  }

 private:
  std::string where_;
  int fd_ = -1;
  std::unique_ptr<SSL, SslDeleter> ssl_;
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
};

std::string render(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r->elements; ++i) {
        if (i != 0) out += '\n';
        out += render(r->element[i]);
      }
      return out;
    }
    default:
      return "(unknown reply type " + std::to_string(r->type) + ")";
  }
}

std::string make_temp_dir() {
  std::string base = env("TMPDIR").value_or("/tmp");
  std::string tmpl = base + "/rediscache-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
  }
  return std::string(buf.data());
}

std::string tail_of_file(const std::string& path, std::size_t max_bytes = 2000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// waitpid that retries on EINTR. Returns the pid when the child has exited (or is not our child
// any more), 0 when it still runs.
pid_t reap(pid_t pid, bool block) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    return pid;  // ECHILD: not ours (SIGCHLD ignored, or already reaped): treat as gone.
  }
}

}  // namespace

// Binding to port 0 lets the kernel pick a free port; another process may take it before
// redis-server binds it, which the caller detects and retries.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::optional<Endpoint> shared_redis() {
  if (tls_mode() != TlsMode::kOff) {
    const auto servers = tls_servers();
    if (!servers) return std::nullopt;
    return tls_mode() == TlsMode::kMutual ? servers->mutual : servers->tls;
  }
  const auto port = env("REDISCACHE_TEST_REDIS_PORT");
  if (!port) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(port->c_str(), &end, 10);
  if (end == port->c_str() || *end != '\0' || value <= 0 || value > 65535) return std::nullopt;
  return Endpoint{env("REDISCACHE_TEST_REDIS_HOST").value_or("127.0.0.1"), static_cast<int>(value)};
}

namespace {
std::optional<int> port_from(const char* variable) {
  const auto text = env(variable);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str() || *end != '\0' || value <= 0 || value > 65535) return std::nullopt;
  return static_cast<int>(value);
}

std::vector<Endpoint> endpoint_list(const char* variable, bool tls = false) {
  std::vector<Endpoint> out;
  const auto text = env(variable);
  if (!text) return out;
  std::stringstream items(*text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos) continue;
    const int port = std::atoi(item.c_str() + colon + 1);
    if (port <= 0 || port > 65535) continue;
    out.push_back(Endpoint{item.substr(0, colon), port, tls});
  }
  return out;
}
}  // namespace

bool cluster_mode() { return env("REDISCACHE_TEST_TOPOLOGY").value_or("") == "cluster"; }

std::optional<bool> multiplex_mode() {
  const std::string value = env("REDISCACHE_TEST_MULTIPLEX").value_or("");
  if (value == "1") return true;
  if (value == "0") return false;
  return std::nullopt;
}

std::vector<Endpoint> cluster_seeds() {
  if (tls_mode() != TlsMode::kOff) return tls_cluster_seeds();
  return endpoint_list("REDISCACHE_TEST_CLUSTER_SEEDS");
}

std::vector<Endpoint> sentinel_endpoints() {
  if (tls_mode() != TlsMode::kOff) return tls_sentinel_endpoints();
  return endpoint_list("REDISCACHE_TEST_SENTINELS");
}

TlsMode tls_mode() {
  const std::string mode = env("REDISCACHE_TEST_TLS").value_or("0");
  if (mode == "0") return TlsMode::kOff;
  return mode == "mtls" ? TlsMode::kMutual : TlsMode::kTls;
}

std::optional<TlsFiles> tls_files() {
  const auto ca = env("REDISCACHE_TEST_TLS_CA_FILE");
  if (!ca) return std::nullopt;
  auto get = [](const char* name) { return env(name).value_or(""); };
  TlsFiles f;
  f.ca_file = *ca;
  f.ca_dir = get("REDISCACHE_TEST_TLS_CA_DIR");
  f.cert_file = get("REDISCACHE_TEST_TLS_CERT_FILE");
  f.key_file = get("REDISCACHE_TEST_TLS_KEY_FILE");
  f.client_cert_file = get("REDISCACHE_TEST_TLS_CLIENT_CERT_FILE");
  f.client_key_file = get("REDISCACHE_TEST_TLS_CLIENT_KEY_FILE");
  f.expired_cert_file = get("REDISCACHE_TEST_TLS_EXPIRED_CERT_FILE");
  f.wrong_host_cert_file = get("REDISCACHE_TEST_TLS_WRONG_HOST_CERT_FILE");
  f.self_signed_cert_file = get("REDISCACHE_TEST_TLS_SELF_SIGNED_CERT_FILE");
  f.wrong_ca_file = get("REDISCACHE_TEST_TLS_WRONG_CA_FILE");
  return f;
}

std::optional<TlsServers> tls_servers() {
  const auto tls = port_from("REDISCACHE_TEST_TLS_PORT");
  const auto mutual = port_from("REDISCACHE_TEST_TLS_MTLS_PORT");
  const auto expired = port_from("REDISCACHE_TEST_TLS_EXPIRED_PORT");
  const auto wrong_host = port_from("REDISCACHE_TEST_TLS_WRONG_HOST_PORT");
  if (!tls || !mutual || !expired || !wrong_host) return std::nullopt;
  const std::string host = env("REDISCACHE_TEST_TLS_HOST").value_or("127.0.0.1");
  return TlsServers{Endpoint{host, *tls, true}, Endpoint{host, *mutual, true},
                    Endpoint{host, *expired, true}, Endpoint{host, *wrong_host, true}};
}

std::vector<Endpoint> tls_cluster_seeds() {
  return endpoint_list("REDISCACHE_TEST_TLS_CLUSTER_SEEDS", true);
}

std::vector<Endpoint> tls_sentinel_endpoints() {
  return endpoint_list("REDISCACHE_TEST_TLS_SENTINELS", true);
}

std::vector<std::string> tls_server_args(const TlsFiles& files, int tls_port,
                                         const std::string& cert_file, bool require_client_cert) {
  return {"--tls-port",         std::to_string(tls_port),
          "--tls-cert-file",    cert_file,
          "--tls-key-file",     files.key_file,
          "--tls-ca-cert-file", files.ca_file,
          "--tls-auth-clients", require_client_cert ? "yes" : "no"};
}

std::string sentinel_master_name() {
  return env("REDISCACHE_TEST_SENTINEL_MASTER").value_or("mymaster");
}

std::optional<std::string> postgres_conninfo() { return env("REDISCACHE_TEST_PG"); }

bool servers_required() { return env("REDISCACHE_TEST_REQUIRE_SERVERS").value_or("") == "1"; }

std::string redis_server_binary() {
  if (auto path = env("REDISCACHE_TEST_REDIS_SERVER")) return *path;
  std::stringstream dirs(env("PATH").value_or("/usr/local/bin:/usr/bin:/bin"));
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/redis-server";
    if (is_executable(candidate)) return candidate;
  }
  return "redis-server";
}

std::string unique_prefix() {
  static std::atomic<unsigned long> counter{0};
  std::string test = "none";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    test = std::string(info->test_suite_name()) + "." + info->name();
  }
  std::string prefix =
      "t:" + test + ":" + std::to_string(::getpid()) + ":" + std::to_string(counter++);
  return cluster_mode() ? "{" + prefix + "}:" : prefix + ":";
}

std::string untagged_prefix() {
  std::string prefix = unique_prefix();
  if (!prefix.empty() && prefix.front() == '{') {
    prefix.erase(prefix.begin());
    prefix.erase(prefix.find('}'), 1);
  }
  return prefix;
}

std::string raw_command(const Endpoint& ep, const std::vector<std::string>& argv,
                        const std::string& user, const std::string& password) {
  if (argv.empty()) throw std::invalid_argument("raw_command: empty argv");
  if (ep.tls) {
    TlsRawConnection c(ep);
    if (!password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!user.empty()) auth.push_back(user);
      auth.push_back(password);
      ReplyPtr reply = c.command(auth);
      if (reply->type == REDIS_REPLY_ERROR) return render(reply.get());
    }
    return render(c.command(argv).get());
  }
  std::string error;
  ContextPtr c = connect(ep, std::chrono::seconds(5), &error);
  if (!c) throw std::runtime_error("raw_command: cannot connect to " + address(ep) + ": " + error);
  // Long enough for DEBUG SLEEP in setup, short enough to end before the ctest timeout.
  const timeval io_timeout = to_timeval(std::chrono::seconds(60));
  redisSetTimeout(c.get(), io_timeout);

  if (!password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!user.empty()) auth.push_back(user);
    auth.push_back(password);
    ReplyPtr reply = command_argv(c.get(), auth);
    if (!reply) {
      throw std::runtime_error("raw_command: AUTH on " + address(ep) + " failed: " + c->errstr);
    }
    if (reply->type == REDIS_REPLY_ERROR) return render(reply.get());
  }

  ReplyPtr reply = command_argv(c.get(), argv);
  if (!reply) {
    throw std::runtime_error("raw_command: '" + join(argv) + "' on " + address(ep) +
                             " failed: " + c->errstr);
  }
  return render(reply.get());
}

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : args_(std::move(extra_args)), binary_(redis_server_binary()), owner_pid_(::getpid()) {
  dir_ = make_temp_dir();
  try {
    std::lock_guard<std::mutex> lock(mu_);
    start_or_throw_locked(3, /*fresh_port=*/true);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

RedisServer::~RedisServer() {
  // A forked copy of a test must leave the parent's server and directory alone.
  if (::getpid() != owner_pid_) return;
  try {
    stop();
  } catch (...) {
    // Best effort: the server dies with its parent thread anyway (PR_SET_PDEATHSIG).
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

const std::string& RedisServer::host() const { return host_; }

int RedisServer::port() const { return port_; }

Endpoint RedisServer::endpoint() const { return Endpoint{host_, port_}; }

void RedisServer::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  signal_and_wait_locked(SIGTERM, 10000);
}

void RedisServer::kill() {
  std::lock_guard<std::mutex> lock(mu_);
  signal_and_wait_locked(SIGKILL, 10000);
}

void RedisServer::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ > 0 && reap(pid_, false) == 0) return;
  pid_ = -1;
  start_or_throw_locked(3, /*fresh_port=*/false);
}

bool RedisServer::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ <= 0) return false;
  if (reap(pid_, false) == 0) return true;
  pid_ = -1;
  return false;
}

std::string RedisServer::command(const std::vector<std::string>& argv,
                                 const std::string& password) const {
  return raw_command(endpoint(), argv, "", password);
}

void RedisServer::start_or_throw_locked(int attempts, bool fresh_port) {
  std::string error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (fresh_port) port_ = free_loopback_port();
    launch_locked();
    if (wait_ready_locked(&error)) return;
    signal_and_wait_locked(SIGKILL, 5000);
    if (!fresh_port) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
  throw std::runtime_error("RedisServer: " + binary_ + " did not start on " + host_ + ":" +
                           std::to_string(port_) + " after " + std::to_string(attempts) +
                           " attempts: " + error + "\n--- " + dir_ + "/redis.out ---\n" +
                           tail_of_file(dir_ + "/redis.out"));
}

void RedisServer::launch_locked() {
  // Everything the child needs is prepared before fork(): between fork and exec a multi-threaded
  // process may only make async-signal-safe calls (no allocation, no locks).
  std::vector<std::string> args{binary_,
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                host_,
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                dir_,
                                "--daemonize",
                                "no",
                                "--enable-debug-command",
                                "local"};
  args.insert(args.end(), args_.begin(), args_.end());
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const std::string out_path = dir_ + "/redis.out";
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) throw std::system_error(errno, std::generic_category(), "open " + out_path);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(out_fd);
    if (null_fd >= 0) ::close(null_fd);
    throw std::system_error(err, std::generic_category(), "fork");
  }
  if (pid == 0) {
    // Die with the thread that started us, so a crashed test leaves no server behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);  // a test thread may have blocked SIGTERM
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(out_fd);
  if (null_fd >= 0) ::close(null_fd);
  pid_ = pid;
}

bool RedisServer::wait_ready_locked(std::string* error) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  const Endpoint ep{host_, port_};
  const std::string our_pid = "process_id:" + std::to_string(pid_) + "\r\n";
  *error = "no PONG within 5 s";
  while (Clock::now() < deadline) {
    if (reap(pid_, false) != 0) {
      pid_ = -1;
      *error = "redis-server exited during startup";
      return false;
    }
    std::string connect_error;
    if (ContextPtr c = connect(ep, std::chrono::milliseconds(200), &connect_error)) {
      redisSetTimeout(c.get(), to_timeval(std::chrono::seconds(1)));
      ReplyPtr pong = command_argv(c.get(), {"PING"});
      if (pong && pong->type == REDIS_REPLY_STATUS && render(pong.get()) == "PONG") {
        // Another process may own this port (we only picked a port that was free a moment ago):
        // make sure the server that answered is ours.
        ReplyPtr info = command_argv(c.get(), {"INFO", "server"});
        if (info && info->type == REDIS_REPLY_STRING &&
            render(info.get()).find(our_pid) != std::string::npos) {
          return true;
        }
        *error = "port " + std::to_string(port_) + " is taken by another redis-server";
      } else if (pong && pong->type == REDIS_REPLY_ERROR &&
                 render(pong.get()).rfind("NOAUTH", 0) == 0) {
        // requirepass or ACL: we cannot ask for INFO, but a redis-server that lost the race for
        // the port exits within milliseconds of starting, so ours is the one still alive.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (reap(pid_, false) == 0) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void RedisServer::signal_and_wait_locked(int signo, int timeout_ms) {
  if (pid_ <= 0) return;
  ::kill(pid_, signo);
  ::kill(pid_, SIGCONT);  // a paused server must run to act on the signal
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (reap(pid_, false) == 0) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      reap(pid_, true);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

}  // namespace rediscache::test
