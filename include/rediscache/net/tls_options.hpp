// TlsOptions: how a connection speaks TLS (OpenSSL underneath, never in this header). Part of
// ConnectionOptions (`ConnectionOptions::tls`); one TLS context per pool is built from it.
#pragma once

#include <string>

#include "rediscache/export.hpp"

namespace rediscache {

/// Lowest TLS protocol version a connection accepts.
enum class TlsVersion {
  kTls12,  ///< TLS 1.2 or later (the default).
  kTls13,  ///< TLS 1.3 only.
};

/// TLS settings of a connection. Off by default. With `enabled`, the server's certificate is
/// verified against the trusted CAs and its name (or IP address) checked against `server_name`
/// (or `ConnectionOptions::host`); only `insecure_skip_verify` turns that off. Files are read
/// when the pool (or Subscriber, listener) is constructed: a missing, unreadable or malformed
/// file throws `std::invalid_argument` naming the field and the file there, not at first use.
struct REDISCACHE_EXPORT TlsOptions {
  /// Use TLS on every connection made with these options.
  bool enabled = false;
  /// PEM bundle of trusted CA certificates. With `ca_dir` empty too, the system's default trust
  /// store is used.
  std::string ca_file;
  /// Directory of trusted CA certificates in OpenSSL's hashed layout (`c_rehash`/`openssl
  /// rehash`); may be combined with `ca_file`.
  std::string ca_dir;
  /// Client certificate (PEM) for mutual TLS; requires `key_file`.
  std::string cert_file;
  /// Private key (PEM, unencrypted) of `cert_file`; requires `cert_file`.
  std::string key_file;
  /// Name sent as SNI and checked against the server certificate (DNS name, or IP address
  /// checked against the certificate's IP SANs). Empty: `ConnectionOptions::host`.
  std::string server_name;
  /// UNSAFE: accept any server certificate, without checking who signed it or whose name it
  /// bears. The connection is encrypted but not authenticated (anyone on the path can pose as
  /// the server). For tests only.
  bool insecure_skip_verify = false;
  /// Lowest protocol version accepted.
  TlsVersion min_version = TlsVersion::kTls12;
  /// Cipher list for TLS 1.2 and below, in OpenSSL syntax (`ECDHE+AESGCM:...`). Empty:
  /// OpenSSL's default.
  std::string ciphers;
  /// TLS 1.3 cipher suites, in OpenSSL syntax (`TLS_AES_256_GCM_SHA384:...`). Empty: OpenSSL's
  /// default.
  std::string ciphersuites;

  /// Checks the fields for consistency (not the files' contents, which are read when the TLS
  /// context is built). Throws `std::invalid_argument` naming the first invalid field as
  /// `TlsOptions::field`.
  void validate() const;
};

}  // namespace rediscache
