// Runs the built rediscache-stat binary against real redis-servers and checks its output and
// exit status: screen, JSON, rates, warnings, audit, unreachable server, failed auth, TLS.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_env.hpp"

namespace {

using rediscache::test::RedisServer;

struct StatRun {
  int status = -1;     // exit status
  std::string output;  // stdout and stderr together
};

#ifdef REDISCACHE_STAT_BINARY
#define REQUIRE_STAT_BINARY() static_cast<void>(0)
constexpr const char* kBinary = REDISCACHE_STAT_BINARY;
#else
#define REQUIRE_STAT_BINARY() \
  GTEST_SKIP() << "rediscache-stat not built (REDISCACHE_BUILD_TOOLS=OFF)"
constexpr const char* kBinary = "";
#endif

// Arguments here are test-controlled words and numbers: single quotes are enough.
StatRun run_stat(const std::vector<std::string>& args, bool merge_stderr = true) {
  std::string command = std::string("'") + kBinary + "'";
  for (const auto& a : args) command += " '" + a + "'";
  command += merge_stderr ? " 2>&1" : " 2>/dev/null";
  StatRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
  const int raw = ::pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A loopback port nothing listens on: bound, then closed (another process could take it in
// between, which would make the test fail loudly rather than pass wrongly).
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(RediscacheStat, SharedServer_ScreenShowsHitRateMemoryClientsKeys) {
  REQUIRE_STAT_BINARY();
  REDISCACHE_REQUIRE_REDIS(ep);
  std::vector<std::string> args = {"--host", ep.host, "--port", std::to_string(ep.port)};
  if (ep.tls) {  // the TLS rerun (REDISCACHE_TEST_TLS): the shared server speaks only TLS
    const auto files = rediscache::test::tls_files();
    ASSERT_TRUE(files.has_value());
    args.insert(args.end(), {"--tls", "--cacert", files->ca_file, "--cert", files->client_cert_file,
                             "--key", files->client_key_file});
  }
  const StatRun run = run_stat(args);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "rediscache-stat " + ep.host + ":" + std::to_string(ep.port)))
      << run.output;
  EXPECT_TRUE(contains(run.output, "hit rate ")) << run.output;
  EXPECT_TRUE(contains(run.output, "memory ")) << run.output;
  EXPECT_TRUE(contains(run.output, "evicted keys ")) << run.output;
  EXPECT_TRUE(contains(run.output, "clients ")) << run.output;
  EXPECT_FALSE(contains(run.output, "per second")) << "one sample has no rates";
}

TEST(RediscacheStat, JsonTwoSamples_SecondHasRates) {
  REQUIRE_STAT_BINARY();
  RedisServer server;
  server.command({"SET", "k", "v"});
  server.command({"GET", "k"});
  const StatRun run = run_stat(
      {"--port", std::to_string(server.port()), "--json", "--interval", "0.2", "--count", "2"},
      false);
  ASSERT_EQ(run.status, 0) << run.output;
  const auto lines = json_lines(run.output);
  ASSERT_EQ(lines.size(), 2U) << run.output;
  EXPECT_TRUE(lines[0]["rates"].is_null());
  EXPECT_GE(lines[0]["server"]["keyspace_hits"].get<long long>(), 1);
  EXPECT_EQ(lines[0]["server"]["keyspace"][0]["keys"], 1);
  EXPECT_EQ(lines[0]["server"]["redis_version"].get<std::string>().empty(), false);
  ASSERT_TRUE(lines[1]["rates"].is_object()) << lines[1].dump();
  EXPECT_GT(lines[1]["rates"]["seconds"].get<double>(), 0.1);
  EXPECT_GT(lines[1]["rates"]["commands"].get<double>(), 0);  // at least our own INFO
}

TEST(RediscacheStat, DefaultServerConfig_WarnsNoMaxmemoryAndNoeviction) {
  REQUIRE_STAT_BINARY();
  RedisServer server;  // a default redis-server: no maxmemory, noeviction
  StatRun run = run_stat({"--port", std::to_string(server.port())});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "WARNING: maxmemory is not set")) << run.output;
  EXPECT_TRUE(contains(run.output, "WARNING: maxmemory-policy is noeviction")) << run.output;

  server.command({"CONFIG", "SET", "maxmemory", "100mb"});
  server.command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  run = run_stat({"--port", std::to_string(server.port())});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_FALSE(contains(run.output, "WARNING")) << run.output;
  EXPECT_TRUE(contains(run.output, "of 100.0 MiB maxmemory")) << run.output;
}

TEST(RediscacheStat, Audit_ReportsKeysWithoutTtlBiggestKeysAndPrefixes) {
  REQUIRE_STAT_BINARY();
  RedisServer server;
  for (int i = 0; i < 20; ++i) {
    server.command({"SET", "app:user:" + std::to_string(i), std::string(100, 'u'), "EX", "600"});
  }
  for (int i = 0; i < 5; ++i) {
    server.command({"SET", "app:session:" + std::to_string(i), "s"});
  }
  server.command({"SET", "blob", std::string(100000, 'b')});

  const StatRun run = run_stat(
      {"--port", std::to_string(server.port()), "--audit", "--json", "--sample", "1000"}, false);
  ASSERT_EQ(run.status, 0) << run.output;
  const auto lines = json_lines(run.output);
  ASSERT_EQ(lines.size(), 1U) << run.output;
  const nlohmann::json& audit = lines[0]["audit"];
  EXPECT_EQ(audit["db_keys"], 26);
  EXPECT_EQ(audit["sampled"], 26);
  EXPECT_EQ(audit["complete"], true);
  EXPECT_EQ(audit["without_ttl"], 6);
  EXPECT_EQ(audit["biggest"][0]["key"], "blob");
  EXPECT_EQ(audit["biggest"][0]["has_ttl"], false);
  EXPECT_GE(audit["biggest"][0]["bytes"].get<long long>(), 100000);
  bool found_users = false;
  for (const auto& p : audit["prefixes"]) {
    if (p["prefix"] == "app:user:*") {
      found_users = true;
      EXPECT_EQ(p["keys"], 20);
      EXPECT_EQ(p["without_ttl"], 0);
    }
    if (p["prefix"] == "app:session:*") {
      EXPECT_EQ(p["without_ttl"], 5);
    }
  }
  EXPECT_TRUE(found_users) << audit.dump();
}

TEST(RediscacheStat, AuditSample_StopsAtSampleSize) {
  REQUIRE_STAT_BINARY();
  RedisServer server;
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 500; ++i) {
    mset.push_back("k:" + std::to_string(i));
    mset.push_back("v");
  }
  server.command(mset);
  const StatRun run =
      run_stat({"--port", std::to_string(server.port()), "--audit", "--sample", "50"}, false);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "audit          50 of 500 keys sampled\n")) << run.output;
  EXPECT_TRUE(contains(run.output, "no TTL         50 sampled keys (100.0 %)")) << run.output;
}

TEST(RediscacheStat, UnreachablePort_ExitsThreeWithClearError) {
  REQUIRE_STAT_BINARY();
  const int port = closed_port();
  const StatRun run = run_stat({"--port", std::to_string(port)});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_TRUE(contains(run.output, "cannot reach 127.0.0.1:" + std::to_string(port))) << run.output;
}

TEST(RediscacheStat, AuthFailure_ExitsFourWithClearError) {
  REQUIRE_STAT_BINARY();
  RedisServer server({"--requirepass", "s3cret"});
  const std::string port = std::to_string(server.port());

  StatRun run = run_stat({"--port", port, "--password", "n0t-the-pw"});
  EXPECT_EQ(run.status, 4) << run.output;
  EXPECT_TRUE(contains(run.output, "authentication failed")) << run.output;
  EXPECT_FALSE(contains(run.output, "n0t-the-pw")) << "the password must not be echoed";

  run = run_stat({"--port", port});
  EXPECT_EQ(run.status, 4) << run.output;
  EXPECT_TRUE(contains(run.output, "authentication failed")) << run.output;

  run = run_stat({"--port", port, "--password", "s3cret"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "hit rate")) << run.output;
}

TEST(RediscacheStat, Tls_VerifiedServer_ShowsStats) {
  REQUIRE_STAT_BINARY();
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::string port = std::to_string(servers.tls.port);
  StatRun run = run_stat(
      {"--host", servers.tls.host, "--port", port, "--tls", "--cacert", files.ca_file, "--json"},
      false);
  ASSERT_EQ(run.status, 0) << run.output;
  const auto lines = json_lines(run.output);
  ASSERT_EQ(lines.size(), 1U) << run.output;
  EXPECT_FALSE(lines[0]["server"]["redis_version"].get<std::string>().empty());
  // The same CA as a hashed directory.
  run = run_stat({"--port", port, "--tls", "--cacertdir", files.ca_dir});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "hit rate ")) << run.output;
}

TEST(RediscacheStat, Tls_ClientCertificate_NeededByTheMtlsServer) {
  REQUIRE_STAT_BINARY();
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::string port = std::to_string(servers.mutual.port);
  StatRun run = run_stat({"--port", port, "--tls", "--cacert", files.ca_file, "--cert",
                          files.client_cert_file, "--key", files.client_key_file});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "hit rate ")) << run.output;
  run = run_stat({"--port", port, "--tls", "--cacert", files.ca_file});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_TRUE(contains(run.output, "cannot reach 127.0.0.1:" + port)) << run.output;
}

TEST(RediscacheStat, Tls_WrongCaOrName_ExitsThreeWithTheReason) {
  REQUIRE_STAT_BINARY();
  REDISCACHE_REQUIRE_TLS(files, servers);
  StatRun run = run_stat(
      {"--port", std::to_string(servers.tls.port), "--tls", "--cacert", files.wrong_ca_file});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_TRUE(contains(run.output, "certificate verify failed")) << run.output;
  const std::string wrong_host = std::to_string(servers.wrong_host.port);
  run = run_stat({"--port", wrong_host, "--tls", "--cacert", files.ca_file});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_TRUE(contains(run.output, "mismatch")) << run.output;
  // --sni names the host the certificate is for.
  run = run_stat(
      {"--port", wrong_host, "--tls", "--cacert", files.ca_file, "--sni", "wrong.example"});
  EXPECT_EQ(run.status, 0) << run.output;
}

TEST(RediscacheStat, Tls_Insecure_ConnectsToAnExpiredCertificate) {
  REQUIRE_STAT_BINARY();
  REDISCACHE_REQUIRE_TLS(files, servers);
  const std::string port = std::to_string(servers.expired.port);
  StatRun run = run_stat({"--port", port, "--tls", "--cacert", files.ca_file});
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_TRUE(contains(run.output, "expired")) << run.output;
  run = run_stat({"--port", port, "--tls", "--insecure"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "hit rate ")) << run.output;
}

TEST(RediscacheStat, Tls_BadFlagsOrFiles_ExitTwo) {
  REQUIRE_STAT_BINARY();
  StatRun run = run_stat({"--cacert", "/etc/ssl/certs/ca-certificates.crt"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "need --tls")) << run.output;
  run = run_stat({"--tls", "--cacert", "/nonexistent/ca.pem"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "TlsOptions::ca_file")) << run.output;
  EXPECT_TRUE(contains(run.output, "/nonexistent/ca.pem")) << run.output;
  run = run_stat({"--tls", "--cert", "/nonexistent/client.crt"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "TlsOptions::")) << run.output;  // --cert needs --key
}

TEST(RediscacheStat, BadArguments_ExitsTwoWithUsageHint) {
  REQUIRE_STAT_BINARY();
  StatRun run = run_stat({"--port", "99999"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "--port needs a whole number")) << run.output;
  run = run_stat({"--frobnicate"});
  EXPECT_EQ(run.status, 2) << run.output;
  run = run_stat({"--count", "3"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "needs --interval")) << run.output;
  run = run_stat({"--help"});
  EXPECT_EQ(run.status, 0);
  EXPECT_TRUE(contains(run.output, "usage: rediscache-stat")) << run.output;
}

}  // namespace
