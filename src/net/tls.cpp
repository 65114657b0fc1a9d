#include "net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

// Deleters for OpenSSL's handles. Outside the anonymous namespace: TlsContext and TlsStream::Impl
// hold them, and a class with external linkage must not have fields of internal-linkage types.
struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
struct SessionDeleter {
  void operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }
};

namespace {

// The oldest error OpenSSL queued on this thread, as text ("error:0A000086:SSL
// routines::certificate verify failed"); empty when the queue is empty.
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return {};
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

[[noreturn]] void invalid_file(const char* field, const std::string& file, const char* what) {
  std::string message = std::string("TlsOptions::") + field + " '" + file + "' " + what;
  const std::string reason = openssl_error();
  if (!reason.empty()) message += " (" + reason + ")";
  throw std::invalid_argument(message);
}

void require_readable(const char* field, const std::string& path, bool directory) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    invalid_file(field, path, std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  }
  if (directory != S_ISDIR(st.st_mode)) {
    invalid_file(field, path, directory ? "is not a directory" : "is not a file");
  }
  if (::access(path.c_str(), R_OK) != 0) invalid_file(field, path, "is not readable");
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

class TlsContext {
 public:
  explicit TlsContext(const TlsOptions& options);

  [[nodiscard]] SSL_CTX* get() const noexcept { return ctx_.get(); }
  [[nodiscard]] bool verify() const noexcept { return verify_; }
  [[nodiscard]] const std::string& server_name() const noexcept { return server_name_; }

  // The session to offer on the next connection (a reference for SSL_set_session), or null.
  void apply_session(SSL* ssl) {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_) SSL_set_session(ssl, session_.get());
  }
  void store_session(SSL_SESSION* session) {
    std::lock_guard<std::mutex> lock(mu_);
    session_.reset(session);
  }

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
  bool verify_ = true;
  std::string server_name_;
  std::mutex mu_;
  std::unique_ptr<SSL_SESSION, SessionDeleter> session_;  // guarded by mu_
};

TlsContext::TlsContext(const TlsOptions& options)
    : ctx_(SSL_CTX_new(TLS_client_method())),
      verify_(!options.insecure_skip_verify),
      server_name_(options.server_name) {
  if (!ctx_) throw IoError("TLS: cannot create an SSL_CTX: " + openssl_error());
  SSL_CTX* ctx = ctx_.get();
  SSL_CTX_set_app_data(ctx, this);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_min_proto_version(
          ctx, options.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION) != 1) {
    throw std::invalid_argument("TlsOptions::min_version is not supported by this OpenSSL");
  }
  if (!options.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, options.ciphers.c_str()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("TlsOptions::ciphers '" + options.ciphers +
                                "' selects no cipher OpenSSL knows");
  }
  if (!options.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, options.ciphersuites.c_str()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("TlsOptions::ciphersuites '" + options.ciphersuites +
                                "' selects no TLS 1.3 suite OpenSSL knows");
  }
  if (!options.ca_file.empty()) require_readable("ca_file", options.ca_file, false);
  if (!options.ca_dir.empty()) require_readable("ca_dir", options.ca_dir, true);
  if (!options.ca_file.empty() || !options.ca_dir.empty()) {
    if (SSL_CTX_load_verify_locations(
            ctx, options.ca_file.empty() ? nullptr : options.ca_file.c_str(),
            options.ca_dir.empty() ? nullptr : options.ca_dir.c_str()) != 1) {
      if (!options.ca_file.empty()) {
        invalid_file("ca_file", options.ca_file, "holds no PEM CA certificate");
      }
      invalid_file("ca_dir", options.ca_dir, "cannot be used as a CA directory");
    }
  } else if (verify_ && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    throw IoError("TLS: cannot load the system's trusted CAs: " + openssl_error());
  }
  if (!options.cert_file.empty()) {
    require_readable("cert_file", options.cert_file, false);
    require_readable("key_file", options.key_file, false);
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      invalid_file("cert_file", options.cert_file, "holds no PEM certificate");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      invalid_file("key_file", options.key_file, "holds no (unencrypted) PEM private key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      invalid_file("key_file", options.key_file, "does not match TlsOptions::cert_file");
    }
  }
  SSL_CTX_set_verify(ctx, verify_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  // Resumption: the client keeps the newest session a server issued (TLS 1.3 sends tickets after
  // the handshake, so the callback, not SSL_get1_session, is the reliable way to get them).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsContext::on_new_session);
}

int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self == nullptr) return 0;
  self->store_session(session);
  return 1;  // we own the reference now
}

std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& options) {
  return std::make_shared<TlsContext>(options);
}

struct TlsStream::Impl {
  std::shared_ptr<TlsContext> context;
  std::unique_ptr<SSL, SslDeleter> ssl;
  std::string error;  // reason of the last kError
};

namespace {

TlsIo classify(SSL* ssl, int rc, std::string& error) {
  const int code = SSL_get_error(ssl, rc);
  switch (code) {
    case SSL_ERROR_WANT_READ:
      return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL: {
      const int saved = errno;
      error = openssl_error();
      if (!error.empty()) return TlsIo::kError;
      if (saved == 0) return TlsIo::kClosed;  // EOF without close_notify
      error = std::strerror(saved);           // NOLINT(concurrency-mt-unsafe)
      return TlsIo::kError;
    }
    default:
      error = openssl_error();
      if (error.empty()) error = "TLS error " + std::to_string(code);
      return TlsIo::kError;
  }
}

}  // namespace

TlsStream::TlsStream(std::shared_ptr<TlsContext> context, int fd, const std::string& server_name,
                     Deadline deadline, const std::string& endpoint)
    : impl_(std::make_unique<Impl>()) {
  const std::string prefix = "redis " + endpoint + ": TLS handshake: ";
  impl_->context = std::move(context);
  TlsContext& ctx = *impl_->context;
  ERR_clear_error();
  impl_->ssl.reset(SSL_new(ctx.get()));
  SSL* ssl = impl_->ssl.get();
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) throw IoError(prefix + openssl_error());
  const std::string& name = ctx.server_name().empty() ? server_name : ctx.server_name();
  const bool ip = is_ip_address(name);
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI: names only
  if (ctx.verify() && !name.empty()) {
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                      : SSL_set1_host(ssl, name.c_str());
    if (ok != 1) throw IoError(prefix + "cannot check the certificate against '" + name + "'");
  }
  ctx.apply_session(ssl);
  SSL_set_connect_state(ssl);
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl);
    if (rc == 1) return;
    std::string error;
    const TlsIo io = classify(ssl, rc, error);
    short events = 0;
    if (io == TlsIo::kWantRead) {
      events = POLLIN;
    } else if (io == TlsIo::kWantWrite) {
      events = POLLOUT;
    } else {
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        throw IoError(prefix +
                      "certificate verify failed: " + X509_verify_cert_error_string(verify));
      }
      if (io == TlsIo::kClosed) {
        throw IoError(prefix + "the server closed the connection (not a TLS port?)");
      }
      throw IoError(prefix + error);
    }
    if (wait_for(fd, events, deadline, endpoint, "TLS handshake") == WaitResult::kTimedOut) {
      throw TimeoutError(prefix + "timed out");
    }
  }
}

TlsStream::~TlsStream() = default;

TlsIo TlsStream::read(char* buf, std::size_t len, std::size_t* got) noexcept {
  ERR_clear_error();
  const int rc = SSL_read_ex(impl_->ssl.get(), buf, len, got);
  if (rc == 1) return TlsIo::kDone;
  try {
    return classify(impl_->ssl.get(), rc, impl_->error);
  } catch (...) {
    return TlsIo::kError;
  }
}

TlsIo TlsStream::write(const char* buf, std::size_t len, std::size_t* put) noexcept {
  ERR_clear_error();
  const int rc = SSL_write_ex(impl_->ssl.get(), buf, len, put);
  if (rc == 1) return TlsIo::kDone;
  try {
    return classify(impl_->ssl.get(), rc, impl_->error);
  } catch (...) {
    return TlsIo::kError;
  }
}

std::size_t TlsStream::pending() const noexcept {
  const int n = SSL_pending(impl_->ssl.get());
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string TlsStream::last_error() const { return impl_->error; }

bool TlsStream::resumed() const noexcept { return SSL_session_reused(impl_->ssl.get()) == 1; }

void TlsStream::shutdown() noexcept {
  ERR_clear_error();
  SSL_shutdown(impl_->ssl.get());
  ERR_clear_error();
}

}  // namespace rediscache::detail
