// TLS against real TLS redis-servers (scripts/lib.sh rc_start_tls_redis, rc_start_tls_cluster,
// rc_start_tls_sentinel): what is verified (CA, name, dates, client certificates), the faults
// (wrong port kind, a peer that stalls or breaks the handshake, bad files), recovery after CLIENT
// KILL and a restart, and the things that must work over TLS (commands, pipelines, pub/sub, the
// near cache's listener, cluster, sentinel). Skipped when the REDISCACHE_TEST_TLS_* variables are
// unset; scripts/test runs it in every phase, sanitizers included.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client_factory.hpp"
#include "fake_server.hpp"
#include "near_cache_test_util.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/subscriber.hpp"
#include "rediscache/near/near_cached_client.hpp"
#include "rediscache/net/tls_options.hpp"
#include "rediscache/topology/sentinel.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::ConnectionOptions;
using rediscache::PoolOptions;
using rediscache::TlsOptions;
using rediscache::TlsVersion;
using rediscache::test::Endpoint;
using rediscache::test::FakeServer;
using rediscache::test::RedisServer;
using rediscache::test::TlsFiles;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kTimeout{300};
// What a loaded 2-core machine (or a sanitizer build) may add to a timeout before the error
// reaches us: far below what a hang would take.
constexpr std::chrono::milliseconds kSlack{1700};

std::string address(const Endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// TLS with the test CA (and nothing else) towards `ep`, short timeouts.
ConnectionOptions tls_to(const Endpoint& ep, const TlsFiles& files) {
  ConnectionOptions o;
  o.host = ep.host;
  o.port = ep.port;
  o.connect_timeout = kTimeout;
  o.command_timeout = kTimeout;
  o.tls.enabled = true;
  o.tls.ca_file = files.ca_file;
  return o;
}

PoolOptions one_connection() {
  PoolOptions p;
  p.size = 1;
  return p;
}

struct Failure {
  bool io_error = false;  // an IoError (TimeoutError included)
  std::string message;
  Clock::duration took{};
};

// Constructs a client and sends PING, which must fail; what failed and how long it took.
Failure ping_failure(const ConnectionOptions& options) {
  Failure f;
  Client c(options, one_connection());
  const auto start = Clock::now();
  try {
    c.ping();
    f.message = "(PING succeeded)";
  } catch (const rediscache::IoError& e) {
    f.io_error = true;
    f.message = e.what();
  } catch (const std::exception& e) {
    f.message = std::string("not an IoError: ") + e.what();
  }
  f.took = Clock::now() - start;
  return f;
}

// Constructing a client with these options must throw std::invalid_argument naming `field`
// and `file`.
void expect_bad_file(ConnectionOptions options, const std::string& field, const std::string& file) {
  try {
    Client c(std::move(options));
    ADD_FAILURE() << "no std::invalid_argument for " << field << " = " << file;
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "TlsOptions::" + field)) << e.what();
    EXPECT_TRUE(contains(e.what(), file)) << e.what();
  }
}

std::string write_temp_file(const std::string& name, const std::string& content) {
  std::string path = std::string(::testing::TempDir()) + "rediscache-tls-" +
                     std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// A private redis-server that also listens on a TLS port with `cert_file` (its plain port stays
// for RedisServer's own checks). Restarts keep the TLS port.
struct PrivateTlsServer {
  PrivateTlsServer(const TlsFiles& files, const std::string& cert_file,
                   std::vector<std::string> extra = {})
      : tls_port(rediscache::test::free_loopback_port()), server([&] {
          auto args = rediscache::test::tls_server_args(files, tls_port, cert_file);
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        }()) {}
  [[nodiscard]] Endpoint tls_endpoint() const { return Endpoint{server.host(), tls_port, true}; }

  int tls_port;
  RedisServer server;
};

// Waits up to `ms` for bytes from the peer and reads what is there once (the ClientHello).
void read_some(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  char buf[4096];
  if (::poll(&p, 1, ms) == 1) (void)::recv(fd, buf, sizeof buf, 0);
}

Endpoint tls_endpoint(const FakeServer& server) {
  return Endpoint{"127.0.0.1", server.port(), true};
}

// --- What is verified -------------------------------------------------------------------------

TEST(Tls, WrongCa_IoErrorSaysCertificateVerifyFailedAndNamesEndpoint) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls.ca_file = files.wrong_ca_file;
  const Failure f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "certificate verify failed")) << f.message;
  EXPECT_TRUE(contains(f.message, address(servers.tls))) << f.message;
}

TEST(Tls, SelfSignedServerCertificate_IoErrorSaysCertificateVerifyFailed) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  PrivateTlsServer self_signed(files, files.self_signed_cert_file);
  const Failure f = ping_failure(tls_to(self_signed.tls_endpoint(), files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "certificate verify failed")) << f.message;
  EXPECT_TRUE(contains(f.message, address(self_signed.tls_endpoint()))) << f.message;
}

TEST(Tls, CertificateForAnotherHost_IoErrorSaysMismatch) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  // Checked against the IP address we connect to (host 127.0.0.1, no server_name) ...
  Failure f = ping_failure(tls_to(servers.wrong_host, files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "certificate verify failed")) << f.message;
  EXPECT_TRUE(contains(f.message, "mismatch")) << f.message;
  EXPECT_TRUE(contains(f.message, address(servers.wrong_host))) << f.message;
  // ... and against a DNS name given as server_name.
  ConnectionOptions o = tls_to(servers.wrong_host, files);
  o.tls.server_name = "localhost";
  f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "hostname mismatch")) << f.message;
  // The server certificate of the good server is not valid for wrong.example either.
  o = tls_to(servers.tls, files);
  o.tls.server_name = "wrong.example";
  f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "hostname mismatch")) << f.message;
}

TEST(Tls, ServerNameMatchingTheCertificate_Connects) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls.server_name = "localhost";  // a DNS SAN of the certificate; we still dial 127.0.0.1
  EXPECT_EQ(Client(o).ping(), "PONG");
  o = tls_to(servers.wrong_host, files);
  o.tls.server_name = "wrong.example";  // the one name that certificate has
  EXPECT_EQ(Client(o).ping(), "PONG");
}

TEST(Tls, HostLocalhost_ResolvesAndVerifiesTheDnsName) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.host = "localhost";  // may resolve to ::1 first; the server listens on 127.0.0.1 only
  EXPECT_EQ(Client(o).ping(), "PONG");
}

TEST(Tls, ExpiredCertificate_IoErrorSaysExpired) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const Failure f = ping_failure(tls_to(servers.expired, files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "certificate verify failed")) << f.message;
  EXPECT_TRUE(contains(f.message, "expired")) << f.message;
  EXPECT_TRUE(contains(f.message, address(servers.expired))) << f.message;
}

TEST(Tls, CaDirInsteadOfCaFile_Verifies) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls.ca_file.clear();
  o.tls.ca_dir = files.ca_dir;
  EXPECT_EQ(Client(o).ping(), "PONG");
}

TEST(Tls, SystemTrustStore_DoesNotTrustTheTestCa) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls.ca_file.clear();  // neither ca_file nor ca_dir: the system's store
  const Failure f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, "certificate verify failed")) << f.message;
}

TEST(Tls, MutualTls_WithoutClientCertificate_IoError) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const Failure f = ping_failure(tls_to(servers.mutual, files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(servers.mutual))) << f.message;
  EXPECT_LT(f.took, kTimeout + kSlack);
}

TEST(Tls, MutualTls_WithClientCertificate_Connects) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.mutual, files);
  o.tls.cert_file = files.client_cert_file;
  o.tls.key_file = files.client_key_file;
  Client c(o);
  EXPECT_EQ(c.ping(), "PONG");
}

TEST(Tls, InsecureSkipVerify_ConnectsToSelfSignedExpiredAndWrongHostServers) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  PrivateTlsServer self_signed(files, files.self_signed_cert_file);
  for (const Endpoint& ep : {self_signed.tls_endpoint(), servers.expired, servers.wrong_host}) {
    ConnectionOptions o = tls_to(ep, files);
    o.tls.ca_file.clear();
    o.tls.insecure_skip_verify = true;
    EXPECT_EQ(Client(o).ping(), "PONG") << address(ep);
  }
}

TEST(Tls, MinVersionTls13_AgainstATls12OnlyServer_IoError) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  PrivateTlsServer tls12(files, files.cert_file, {"--tls-protocols", "TLSv1.2"});
  ConnectionOptions o = tls_to(tls12.tls_endpoint(), files);
  EXPECT_EQ(Client(o).ping(), "PONG");  // the default minimum, TLS 1.2, is accepted
  o.tls.min_version = TlsVersion::kTls13;
  const Failure f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(tls12.tls_endpoint()))) << f.message;
}

// --- Wrong kind of peer: an error within the timeouts, never a hang -------------------------

TEST(Tls, TlsClientOnPlainPort_FailsWithinConnectTimeout) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  RedisServer plain;
  Endpoint ep = plain.endpoint();
  const Failure f = ping_failure(tls_to(ep, files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(ep))) << f.message;
  EXPECT_LT(f.took, kTimeout + kSlack);
}

TEST(Tls, PlainClientOnTlsPort_FailsWithinTimeouts) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls = TlsOptions{};  // plain
  const Failure f = ping_failure(o);
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(servers.tls))) << f.message;
  EXPECT_LT(f.took, kTimeout + kTimeout + kSlack);  // connect, then the PING's own timeout
}

TEST(Tls, ServerAcceptsAndNeverAnswersHandshake_TimesOutWithinConnectTimeout) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  // Reads until the client gives up and closes (or the server is destroyed); never answers.
  FakeServer silent([](int fd) { (void)FakeServer::read_request(fd); });
  const Failure f = ping_failure(tls_to(tls_endpoint(silent), files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(tls_endpoint(silent)))) << f.message;
  EXPECT_GE(f.took, kTimeout - 50ms) << "gave up before connect_timeout";
  EXPECT_LT(f.took, kTimeout + kSlack);
}

TEST(Tls, ServerAnswersHandshakeWithGarbage_IoErrorAtOnce) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  FakeServer garbage([](int fd) {
    read_some(fd, 1000);  // the ClientHello
    (void)FakeServer::write_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    (void)FakeServer::read_request(fd);  // and keep the connection open until the client closes it
  });
  const Failure f = ping_failure(tls_to(tls_endpoint(garbage), files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(tls_endpoint(garbage)))) << f.message;
  EXPECT_LT(f.took, kTimeout + kSlack);
}

TEST(Tls, ServerClosesInTheMiddleOfTheHandshake_IoErrorAtOnce) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  FakeServer closes([](int fd) { read_some(fd, 1000); });  // read the ClientHello, hang up
  const Failure f = ping_failure(tls_to(tls_endpoint(closes), files));
  EXPECT_TRUE(f.io_error) << f.message;
  EXPECT_TRUE(contains(f.message, address(tls_endpoint(closes)))) << f.message;
  EXPECT_LT(f.took, kTimeout + kSlack);
}

// --- Bad files: std::invalid_argument naming the option and the file, at construction -------

TEST(Tls, MissingOrMalformedFiles_InvalidArgumentAtConstruction) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::string missing = "/nonexistent/rediscache-test/none.pem";
  const std::string garbage = write_temp_file("garbage.pem", "this is not PEM\n");
  const std::string directory = ::testing::TempDir();

  ConnectionOptions o = tls_to(servers.tls, files);
  o.tls.ca_file = missing;
  expect_bad_file(o, "ca_file", missing);
  o.tls.ca_file = garbage;
  expect_bad_file(o, "ca_file", garbage);

  o = tls_to(servers.tls, files);
  o.tls.ca_dir = missing;
  expect_bad_file(o, "ca_dir", missing);

  o = tls_to(servers.mutual, files);
  o.tls.cert_file = missing;
  o.tls.key_file = files.client_key_file;
  expect_bad_file(o, "cert_file", missing);
  o.tls.cert_file = garbage;
  expect_bad_file(o, "cert_file", garbage);
  o.tls.cert_file = directory;  // exists but cannot be read as a file
  expect_bad_file(o, "cert_file", directory);

  o.tls.cert_file = files.client_cert_file;
  o.tls.key_file = missing;
  expect_bad_file(o, "key_file", missing);
  o.tls.key_file = garbage;
  expect_bad_file(o, "key_file", garbage);
  o.tls.key_file = files.key_file;  // a real key, but not the client certificate's
  expect_bad_file(o, "key_file", files.key_file);
  std::remove(garbage.c_str());
}

TEST(Tls, InconsistentOptions_InvalidArgumentNamingTheField) {
  ConnectionOptions o;
  o.tls.enabled = true;
  o.tls.cert_file = "client.crt";  // a certificate without its key
  EXPECT_THROW(Client{o}, std::invalid_argument);
  try {
    o.validate();
    ADD_FAILURE() << "cert_file without key_file validated";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "TlsOptions::")) << e.what();
  }
}

// --- Recovery, as on plain TCP ----------------------------------------------------------------

TEST(Tls, ClientKill_PoolReplacesTheConnectionTransparently) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  ConnectionOptions o = tls_to(servers.tls, files);
  o.command_timeout = 2s;
  o.connect_timeout = 2s;
  o.client_name = "rediscache-tls-kill-test";
  Client c(o, one_connection());
  const long long id = c.command({"CLIENT", "ID"}).integer;
  EXPECT_EQ(
      rediscache::test::raw_command(servers.tls, {"CLIENT", "KILL", "ID", std::to_string(id)}),
      "1");
  std::this_thread::sleep_for(5ms);  // idle past check_liveness_after_idle (1 ms)
  EXPECT_EQ(c.ping(), "PONG");       // the pool noticed the closed TLS connection before reuse
  EXPECT_NE(c.command({"CLIENT", "ID"}).integer, id);
  EXPECT_GE(c.pool().stats().discarded, 1U);
}

TEST(Tls, ServerRestart_PoolRecovers) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  PrivateTlsServer tls(files, files.cert_file);
  ConnectionOptions o = tls_to(tls.tls_endpoint(), files);
  o.connect_timeout = 1s;
  o.command_timeout = 1s;
  Client c(o, one_connection());
  c.set("k", "before");
  tls.server.stop();
  EXPECT_THROW(c.get("k"), rediscache::IoError);  // no server: an error, not a hang
  tls.server.start();
  // The restarted server (no persistence) is empty; the pool reconnects on its own.
  std::optional<std::string> value;
  bool recovered = false;
  for (const auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    try {
      c.set("k", "after");
      value = c.get("k");
      recovered = true;
      break;
    } catch (const rediscache::IoError&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_TRUE(recovered);
  EXPECT_EQ(value, "after");
  EXPECT_GE(c.pool().stats().created, 2U);
}

// --- What works over TLS ----------------------------------------------------------------------

TEST(Tls, GetSetAndBigValues_RoundTrip) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  Client c(tls_to(servers.tls, files));
  const std::string key = rediscache::test::unique_prefix() + "k";
  // Larger than one TLS record (16 KiB), so reads and writes span several.
  const std::string big(300000, 'x');
  ASSERT_TRUE(c.set(key, big, rediscache::SetOptions{60s}));
  EXPECT_EQ(c.get(key), big);
  EXPECT_TRUE(c.set(key, "small", rediscache::SetOptions{60s}));
  EXPECT_EQ(c.get(key), "small");
  c.del({key});
}

TEST(Tls, Pipeline_RepliesInOrder) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  Client c(tls_to(servers.tls, files));
  const std::string prefix = rediscache::test::unique_prefix();
  rediscache::Pipeline p = c.pipeline();
  for (int i = 0; i < 500; ++i) p.command({"SET", prefix + std::to_string(i), std::to_string(i)});
  for (int i = 0; i < 500; ++i) p.get(prefix + std::to_string(i));
  const auto replies = p.exec();
  ASSERT_EQ(replies.size(), 1000U);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(replies[500 + i].str, std::to_string(i));
  std::vector<std::string> keys;
  keys.reserve(500);
  for (int i = 0; i < 500; ++i) keys.push_back(prefix + std::to_string(i));
  c.del(keys);
}

TEST(Tls, Subscriber_ReceivesOverTls) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  Client c(tls_to(servers.tls, files));
  const std::string channel = rediscache::test::unique_prefix() + "ch";
  auto sub = c.subscriber();
  sub.subscribe({channel});
  ASSERT_TRUE(sub.next(2s));
  EXPECT_EQ(c.publish(channel, "hello"), 1);
  const auto m = sub.next(2s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "hello");
}

TEST(Tls, NearCacheListener_InvalidatesOverTls) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::string prefix = rediscache::test::unique_prefix();
  const std::string key = prefix + "k";
  Client writer(tls_to(servers.tls, files));
  writer.set(key, "v1", rediscache::SetOptions{60s});
  rediscache::NearCachedClient a(
      Client(tls_to(servers.tls, files)),
      rediscache::test::near_options(rediscache::InvalidationMode::kServerAssisted, prefix));
  ASSERT_TRUE(a.listener().wait_connected(5s));
  EXPECT_EQ(a.get(key), "v1");
  EXPECT_EQ(a.get(key), "v1");  // now a near hit
  writer.set(key, "v2", rediscache::SetOptions{60s});
  bool seen = false;
  for (const auto deadline = Clock::now() + 5s; Clock::now() < deadline && !seen;) {
    seen = a.get(key) == "v2";
    if (!seen) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(seen) << "the near cache kept serving v1";
  EXPECT_GE(a.listener().stats().keys_invalidated, 1U);
  writer.del({key});
}

TEST(Tls, Cluster_EveryNodeOverTls) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::vector<Endpoint> seeds = rediscache::test::tls_cluster_seeds();
  if (seeds.empty()) {
    if (rediscache::test::servers_required()) FAIL() << "REDISCACHE_TEST_TLS_CLUSTER_SEEDS unset";
    GTEST_SKIP() << "no TLS cluster: run scripts/lib.sh rc_start_tls_cluster";
  }
  rediscache::ClusterOptions options = rediscache::test::cluster_options_for(seeds);
  options.connection.connect_timeout = 2s;
  options.connection.command_timeout = 2s;
  ASSERT_TRUE(options.connection.tls.enabled);
  Client c = Client::cluster(options);
  const std::string prefix = rediscache::test::untagged_prefix();
  std::vector<std::string> keys;
  keys.reserve(100);
  for (int i = 0; i < 100; ++i) keys.push_back(prefix + std::to_string(i));
  for (const auto& key : keys) c.set(key, key, rediscache::SetOptions{60s});
  for (const auto& key : keys) EXPECT_EQ(c.get(key), key);
  std::set<int> seed_ports;
  for (const Endpoint& s : seeds) seed_ports.insert(s.port);
  const auto masters = c.master_connection_options();
  EXPECT_EQ(masters.size(), 3U);
  for (const ConnectionOptions& m : masters) {
    EXPECT_TRUE(m.tls.enabled) << m.endpoint();
    EXPECT_EQ(seed_ports.count(m.port), 1U) << m.endpoint() << " is not a TLS port of the cluster";
  }
  EXPECT_EQ(c.del(keys), 100);
}

TEST(Tls, Sentinel_SentinelsAndMasterOverTls) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::vector<Endpoint> sentinels = rediscache::test::tls_sentinel_endpoints();
  if (sentinels.empty()) {
    if (rediscache::test::servers_required()) FAIL() << "REDISCACHE_TEST_TLS_SENTINELS unset";
    GTEST_SKIP() << "no TLS sentinels: run scripts/lib.sh rc_start_tls_sentinel";
  }
  rediscache::SentinelOptions options;
  for (const Endpoint& s : sentinels) options.sentinels.push_back({s.host, s.port});
  options.master_name = rediscache::test::sentinel_master_name();
  options.connection = tls_to(sentinels.front(), files);
  options.connection.connect_timeout = 2s;
  options.connection.command_timeout = 2s;
  // Sentinel-specific TLS settings: here the same CA, as a directory.
  TlsOptions sentinel_tls = options.connection.tls;
  sentinel_tls.ca_file.clear();
  sentinel_tls.ca_dir = files.ca_dir;
  options.sentinel_tls = sentinel_tls;
  Client c = Client::sentinel(options);
  const std::string key = rediscache::test::untagged_prefix() + "k";
  c.set(key, "v", rediscache::SetOptions{60s});
  EXPECT_EQ(c.get(key), "v");
  EXPECT_TRUE(c.connection_options().tls.enabled);
  const std::string role = rediscache::test::raw_command(
      Endpoint{c.connection_options().host, c.connection_options().port, true}, {"ROLE"});
  EXPECT_EQ(role.substr(0, 6), "master");
  c.del({key});
}

TEST(Tls, SentinelTlsWrongCa_IoErrorEvenThoughDataNodesWouldVerify) {
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::vector<Endpoint> sentinels = rediscache::test::tls_sentinel_endpoints();
  if (sentinels.empty()) {
    if (rediscache::test::servers_required()) FAIL() << "REDISCACHE_TEST_TLS_SENTINELS unset";
    GTEST_SKIP() << "no TLS sentinels: run scripts/lib.sh rc_start_tls_sentinel";
  }
  rediscache::SentinelOptions options;
  for (const Endpoint& s : sentinels) options.sentinels.push_back({s.host, s.port});
  options.master_name = rediscache::test::sentinel_master_name();
  options.connection = tls_to(sentinels.front(), files);
  TlsOptions sentinel_tls = options.connection.tls;
  sentinel_tls.ca_file = files.wrong_ca_file;
  options.sentinel_tls = sentinel_tls;  // the sentinels' settings are the ones used for them
  EXPECT_THROW(Client::sentinel(options), rediscache::IoError);
}

}  // namespace
