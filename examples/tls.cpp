// TLS settings: a hosted Redis behind TLS with the provider's CA bundle (the README's example),
// then the same settings pointed at a TLS redis-server to prove they work: SET and GET over TLS.
//
//   tls [host port ca-file]   (default: REDISCACHE_TEST_TLS_HOST/PORT and
//                              REDISCACHE_TEST_TLS_CA_FILE, as scripts/test exports them)
// Exits 77 (skipped) when no TLS server is given, 1 when a check fails.
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <rediscache/client/client.hpp>
#include <rediscache/util/errors.hpp>

namespace {

rediscache::ConnectionOptions hosted_redis_settings() {
  // [README:tls-hosted]
  rediscache::ConnectionOptions redis;
  redis.host = "my-cache.example.com";  // the name the certificate is issued for
  redis.port = 6380;                    // the provider's TLS port
  // user and password (AUTH) as without TLS
  redis.connect_timeout = std::chrono::seconds(2);  // the TLS handshake is part of the connect
  redis.tls.enabled = true;
  redis.tls.ca_file = "/etc/ssl/certs/my-provider-ca.pem";  // the provider's CA bundle
  // Defaults that stay as they are: the certificate must chain to ca_file and name `host`
  // (server_name overrides the name), TLS 1.2 or later. For mutual TLS add:
  //   redis.tls.cert_file = "client.crt";  redis.tls.key_file = "client.key";
  // [/README]
  return redis;
}

const char* env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): single-threaded
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  rediscache::ConnectionOptions options = hosted_redis_settings();
  const char* host = argc > 3 ? argv[1] : env("REDISCACHE_TEST_TLS_HOST");
  const char* port = argc > 3 ? argv[2] : env("REDISCACHE_TEST_TLS_PORT");
  const char* ca = argc > 3 ? argv[3] : env("REDISCACHE_TEST_TLS_CA_FILE");
  if (host == nullptr || port == nullptr || ca == nullptr) {
    const char* required = env("REDISCACHE_TEST_REQUIRE_SERVERS");
    std::cout << "no TLS server given (host port ca-file, or REDISCACHE_TEST_TLS_*)\n";
    return required != nullptr && std::string_view(required) == "1" ? 1 : 77;
  }
  options.host = host;
  options.port = std::atoi(port);
  options.tls.ca_file = ca;
  try {
    rediscache::Client redis(options);
    const std::string key = "example:tls:greeting";
    redis.set(key, "hello over TLS", rediscache::SetOptions{std::chrono::seconds(60)});
    const auto value = redis.get(key);
    redis.del({key});
    std::cout << "GET over TLS from " << redis.endpoint() << ": " << value.value_or("(nil)")
              << "\n";
    return value == "hello over TLS" ? 0 : 1;
  } catch (const rediscache::Error& e) {
    std::cout << "failed: " << e.what() << "\n";
    return 1;
  }
}
