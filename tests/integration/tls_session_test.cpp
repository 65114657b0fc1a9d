// TLS against a real redis-server with --tls-port: GET/SET, pipelines, mutual TLS, pub/sub, idle
// connections that received TLS 1.3 session tickets, and the errors of a wrong CA or file. The
// certificates are made with the openssl command line in a temporary directory.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fake_server.hpp"
#include "net/connection.hpp"
#include "net/tls.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/subscriber.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace rediscache {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

bool run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;  // NOLINT(cert-env33-c)
}

// A CA, a server certificate it signed (SAN 127.0.0.1 and localhost), a client certificate it
// signed, and an unrelated CA.
struct Certificates {
  std::string dir;
  std::string ca, server_cert, server_key, client_cert, client_key, other_ca;

  bool make() {
    char tmpl[] = "/tmp/rediscache-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return false;
    dir = tmpl;
    const std::string d = dir + "/";
    ca = d + "ca.pem";
    server_cert = d + "server.pem";
    server_key = d + "server.key";
    client_cert = d + "client.pem";
    client_key = d + "client.key";
    other_ca = d + "other-ca.pem";
    std::ofstream(d + "san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    return run("openssl req -x509" + ec + "-subj /CN=rediscache-test-ca -keyout " + d +
               "ca.key -out " + ca + " -days 2") &&
           run("openssl req -x509" + ec + "-subj /CN=other-ca -keyout " + d + "other-ca.key -out " +
               other_ca + " -days 2") &&
           run("openssl req" + ec + "-subj /CN=localhost -keyout " + server_key + " -out " + d +
               "server.csr") &&
           run("openssl x509 -req -in " + d + "server.csr -CA " + ca + " -CAkey " + d +
               "ca.key -CAcreateserial -days 2 -extfile " + d + "san.ext -out " + server_cert) &&
           run("openssl req" + ec + "-subj /CN=client -keyout " + client_key + " -out " + d +
               "client.csr") &&
           run("openssl x509 -req -in " + d + "client.csr -CA " + ca + " -CAkey " + d +
               "ca.key -CAcreateserial -days 2 -out " + client_cert);
  }
  ~Certificates() {
    std::error_code ignored;
    if (!dir.empty()) fs::remove_all(dir, ignored);
  }
};

class TlsSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = std::make_unique<Certificates>();
    if (!certs_->make()) {
      certs_.reset();
      return;
    }
    try {
      tls_port_ = test::free_port();
      server_ = std::make_unique<test::RedisServer>(server_args(tls_port_, "no"));
      mtls_port_ = test::free_port();
      mtls_server_ = std::make_unique<test::RedisServer>(server_args(mtls_port_, "yes"));
    } catch (const std::exception& e) {
      start_error_ = e.what();
      server_.reset();
      mtls_server_.reset();
    }
  }
  static void TearDownTestSuite() {
    server_.reset();
    mtls_server_.reset();
    certs_.reset();
  }
  void SetUp() override {
    if (!certs_) GTEST_SKIP() << "openssl could not make test certificates";
    if (!server_) {
      if (test::servers_required()) FAIL() << "TLS redis-server did not start: " << start_error_;
      GTEST_SKIP() << "TLS redis-server did not start (no TLS build?): " << start_error_;
    }
  }

  static std::vector<std::string> server_args(int tls_port, const char* auth_clients) {
    return {"--tls-port",         std::to_string(tls_port),
            "--tls-cert-file",    certs_->server_cert,
            "--tls-key-file",     certs_->server_key,
            "--tls-ca-cert-file", certs_->ca,
            "--tls-auth-clients", auth_clients};
  }

  static ConnectionOptions tls_options(int port) {
    ConnectionOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.connect_timeout = milliseconds(2000);
    o.tls.enabled = true;
    o.tls.ca_file = certs_->ca;
    return o;
  }

  static std::unique_ptr<Certificates> certs_;
  static std::unique_ptr<test::RedisServer> server_;
  static std::unique_ptr<test::RedisServer> mtls_server_;
  static int tls_port_;
  static int mtls_port_;
  static std::string start_error_;
};

std::unique_ptr<Certificates> TlsSession::certs_;
std::unique_ptr<test::RedisServer> TlsSession::server_;
std::unique_ptr<test::RedisServer> TlsSession::mtls_server_;
int TlsSession::tls_port_ = 0;
int TlsSession::mtls_port_ = 0;
std::string TlsSession::start_error_;

TEST_F(TlsSession, GetSet_OverTls_RoundTrips) {
  Client client(tls_options(tls_port_), PoolOptions{});
  const std::string key = test::unique_prefix() + "k";
  const std::string value(5000, 'x');
  ASSERT_TRUE(client.set(key, value));
  EXPECT_EQ(client.get(key), value);
  client.del({key});
}

TEST_F(TlsSession, LocalhostName_VerifiesAgainstDnsSan) {
  ConnectionOptions o = tls_options(tls_port_);
  o.host = "localhost";
  Client client(o, PoolOptions{});
  EXPECT_EQ(client.ping(), "PONG");
}

TEST_F(TlsSession, Pipeline_OverTls_RoundTripsInOrder) {
  Client client(tls_options(tls_port_), PoolOptions{});
  const std::string prefix = test::unique_prefix();
  Pipeline pipeline = client.pipeline();
  constexpr int kCount = 500;
  const std::string value(2000, 'p');
  for (int i = 0; i < kCount; ++i) pipeline.set(prefix + std::to_string(i), value);
  for (int i = 0; i < kCount; ++i) pipeline.get(prefix + std::to_string(i));
  const auto replies = pipeline.exec();
  ASSERT_EQ(replies.size(), 2U * kCount);
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(replies[kCount + i].str, value);
  Pipeline cleanup = client.pipeline();
  for (int i = 0; i < kCount; ++i) cleanup.command({"DEL", prefix + std::to_string(i)});
  cleanup.exec();
}

TEST_F(TlsSession, IdleConnection_AfterSessionTickets_IsReusedNotDiscarded) {
  // TLS 1.3 servers send session tickets after the handshake; the liveness probe must not take
  // them for unexpected bytes and throw the connection away.
  auto pool = std::make_shared<ConnectionPool>(tls_options(tls_port_));
  Client client(pool);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.ping(), "PONG");
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(pool->stats().created, 1U);
  EXPECT_EQ(pool->stats().discarded, 0U);
}

TEST_F(TlsSession, Reconnect_AfterDrain_Works) {
  auto pool = std::make_shared<ConnectionPool>(tls_options(tls_port_));
  Client client(pool);
  EXPECT_EQ(client.ping(), "PONG");
  pool->drain();
  EXPECT_EQ(client.ping(), "PONG");  // a new handshake (offering the cached session)
  EXPECT_EQ(pool->stats().created, 2U);
}

TEST_F(TlsSession, SecondConnection_ResumesTheCachedSession) {
  const ConnectionOptions o = tls_options(tls_port_);
  const auto context = detail::make_tls_context(o.tls);
  {
    detail::Connection first(o, context);
    EXPECT_FALSE(first.tls_resumed());
    // TLS 1.3 tickets arrive after the handshake; a round trip makes sure they were read.
    EXPECT_EQ(first.command({"PING"}).str, "PONG");
  }
  detail::Connection second(o, context);
  EXPECT_TRUE(second.tls_resumed());
  EXPECT_EQ(second.command({"PING"}).str, "PONG");
}

TEST_F(TlsSession, MutualTls_WithClientCertificate_Works) {
  ConnectionOptions o = tls_options(mtls_port_);
  o.tls.cert_file = certs_->client_cert;
  o.tls.key_file = certs_->client_key;
  Client client(o, PoolOptions{});
  EXPECT_EQ(client.ping(), "PONG");
}

TEST_F(TlsSession, WrongCa_ThrowsIoErrorWithVerifyReasonAndEndpoint) {
  ConnectionOptions o = tls_options(tls_port_);
  o.tls.ca_file = certs_->other_ca;
  ConnectionPool pool(o);
  try {
    (void)pool.lease();
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
    EXPECT_NE(what.find(o.endpoint()), std::string::npos) << what;
  }
}

TEST_F(TlsSession, InsecureSkipVerify_AcceptsUntrustedCertificate) {
  ConnectionOptions o = tls_options(tls_port_);
  o.tls.ca_file = certs_->other_ca;
  o.tls.insecure_skip_verify = true;
  Client client(o, PoolOptions{});
  EXPECT_EQ(client.ping(), "PONG");
}

TEST_F(TlsSession, MissingCaFile_ThrowsInvalidArgumentAtConstruction) {
  ConnectionOptions o = tls_options(tls_port_);
  o.tls.ca_file = certs_->dir + "/no-such.pem";
  try {
    ConnectionPool pool(o);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("TlsOptions::ca_file"), std::string::npos) << what;
    EXPECT_NE(what.find("no-such.pem"), std::string::npos) << what;
  }
}

TEST_F(TlsSession, KeyNotMatchingCertificate_ThrowsInvalidArgumentAtConstruction) {
  ConnectionOptions o = tls_options(mtls_port_);
  o.tls.cert_file = certs_->client_cert;
  o.tls.key_file = certs_->server_key;
  try {
    ConnectionPool pool(o);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("TlsOptions::key_file"), std::string::npos) << e.what();
  }
}

TEST_F(TlsSession, TlsClientOnPlainPort_FailsWithinConnectTimeout) {
  ConnectionOptions o = tls_options(server_->port());  // the server's plain port
  o.connect_timeout = milliseconds(500);
  ConnectionPool pool(o);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)pool.lease(), IoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
}

TEST_F(TlsSession, Subscriber_OverTls_ReceivesMessages) {
  Subscriber subscriber(tls_options(tls_port_));
  const std::string channel = test::unique_prefix() + "ch";
  subscriber.subscribe({channel});
  auto confirm = subscriber.next(milliseconds(2000));
  ASSERT_TRUE(confirm);
  EXPECT_EQ(confirm->kind, MessageKind::kSubscribe);
  Client client(tls_options(tls_port_), PoolOptions{});
  for (int i = 0; i < 3; ++i) client.publish(channel, "m" + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    auto m = subscriber.next(milliseconds(2000));
    ASSERT_TRUE(m) << i;
    EXPECT_EQ(m->payload, "m" + std::to_string(i));
  }
}

}  // namespace
}  // namespace rediscache
