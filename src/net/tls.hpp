// TLS over a connected socket (OpenSSL 3, private to src/). TlsContext is the SSL_CTX a pool
// builds once from TlsOptions (trusted CAs, client certificate, versions, ciphers, the session
// kept for resumption); TlsStream is one connection's SSL, driven non-blocking under poll().
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "net/socket.hpp"
#include "rediscache/net/tls_options.hpp"

namespace rediscache::detail {

/// One SSL_CTX and the last session a server gave it. Thread-safe (OpenSSL's SSL_CTX is, once
/// configured; the cached session is guarded by a mutex).
class TlsContext;

/// Builds the context: loads the CA file/directory (or the system store), the client
/// certificate and key, and applies versions and ciphers. Throws `std::invalid_argument` naming
/// the TlsOptions field and the file that cannot be read or parsed.
std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& options);

/// Outcome of one TLS read or write.
enum class TlsIo { kDone, kWantRead, kWantWrite, kClosed, kError };

/// One TLS session on a connected non-blocking socket. Not thread-safe.
class TlsStream {
 public:
  /// Performs the handshake within `deadline` (SNI and certificate checks against
  /// `server_name`). Throws TimeoutError or IoError naming `endpoint` and OpenSSL's reason.
  TlsStream(std::shared_ptr<TlsContext> context, int fd, const std::string& server_name,
            Deadline deadline, const std::string& endpoint);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  /// Reads up to `len` bytes; `*got` is set on kDone.
  TlsIo read(char* buf, std::size_t len, std::size_t* got) noexcept;
  /// Writes up to `len` bytes (partial writes allowed); `*put` is set on kDone.
  TlsIo write(const char* buf, std::size_t len, std::size_t* put) noexcept;
  /// Decrypted bytes OpenSSL holds that no read has returned yet (poll cannot see them).
  [[nodiscard]] std::size_t pending() const noexcept;
  /// OpenSSL's reason for the last kError ("... : unexpected eof while reading", ...).
  [[nodiscard]] std::string last_error() const;
  /// Sends close_notify without waiting for the peer's (for an orderly close).
  void shutdown() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rediscache::detail
