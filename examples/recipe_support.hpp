// Shared by the recipe examples: where the server is, a key prefix of the run's own, self-checks
// that set the exit status, and removal of the run's keys. Not part of the library.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <rediscache/client/client.hpp>

namespace example {

/// Exit status ctest reads as "skipped" (no server to run against).
inline constexpr int kSkipped = 77;

/// The server from argv ([host] [port]) or REDISCACHE_TEST_REDIS_HOST/PORT, else 127.0.0.1:6379.
inline rediscache::ConnectionOptions server(int argc, char** argv) {
  rediscache::ConnectionOptions options;
  if (const char* host = std::getenv("REDISCACHE_TEST_REDIS_HOST"); host && *host) {
    options.host = host;
  }
  if (const char* port = std::getenv("REDISCACHE_TEST_REDIS_PORT"); port && *port) {
    options.port = std::atoi(port);
  }
  if (argc > 1) options.host = argv[1];
  if (argc > 2) options.port = std::atoi(argv[2]);
  options.command_timeout = std::chrono::seconds(10);  // a few big pipelines and MEMORY USAGE
  return options;
}

/// True when a missing server must fail the run instead of skipping it (scripts/test, CI).
inline bool server_required() {
  const char* required = std::getenv("REDISCACHE_TEST_REQUIRE_SERVERS");
  return required != nullptr && std::string_view(required) == "1";
}

/// "example:<name>:<pid>:": every key of this run lives under it.
inline std::string prefix(std::string_view name) {
  return "example:" + std::string(name) + ":" + std::to_string(::getpid()) + ":";
}

/// Counts failed checks; main returns status().
class Checks {
 public:
  void check(bool ok, std::string_view what) {
    std::cout << (ok ? "  ok      " : "  FAILED  ") << what << '\n';
    if (!ok) ++failed_;
  }
  [[nodiscard]] int status() const {
    if (failed_ != 0) std::cout << failed_ << " check(s) failed\n";
    return failed_ == 0 ? 0 : 1;
  }

 private:
  int failed_ = 0;
};

/// Deletes every key under the prefix when the example ends, however it ends.
class Cleanup {
 public:
  Cleanup(rediscache::Client client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}
  ~Cleanup() {
    try {
      rediscache::ScanOptions options;
      options.match = prefix_ + "*";
      options.count = 1000;
      std::vector<std::string> keys;
      client_.scan_each(options, [&](std::string_view key) { keys.emplace_back(key); });
      if (!keys.empty()) client_.unlink(keys);
    } catch (const std::exception& e) {
      std::cerr << "cleanup failed: " << e.what() << '\n';
    }
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  rediscache::Client client_;
  std::string prefix_;
};

/// Runs `body(client, prefix, checks)` against the server and returns the exit status: 0 when
/// every check passed, 1 when one failed or an error escaped, kSkipped when no server answered
/// (unless REDISCACHE_TEST_REQUIRE_SERVERS=1).
template <typename Body>
int run(int argc, char** argv, std::string_view name, Body&& body) {
  const rediscache::ConnectionOptions options = server(argc, argv);
  rediscache::Client client(options);
  try {
    client.ping();
  } catch (const std::exception& e) {
    std::cerr << name << ": no redis-server at " << options.endpoint() << ": " << e.what() << '\n';
    return server_required() ? 1 : kSkipped;
  }
  Checks checks;
  try {
    const std::string keys = prefix(name);
    Cleanup cleanup(client, keys);
    body(client, keys, checks);
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << '\n';
    return 1;
  }
  return checks.status();
}

}  // namespace example
