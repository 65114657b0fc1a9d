// A CacheAside<User> in EntryFormat::kPlain with key_layout "user:{id}" against the seed
// document's Python cache-aside, run unchanged (tests/interop/README.md) with Debian's
// python3-redis: each side reads what the other wrote, and deletes from either side are seen by
// the other. On the shared server, and on the cluster in the cluster rerun (redis-py's
// RedisCluster). Skipped when python3-redis is missing, unless REDISCACHE_TEST_REQUIRE_SERVERS=1.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop_support.hpp"

namespace {

using namespace cache_aside_support;  // NOLINT(google-build-using-namespace)
using namespace interop_support;      // NOLINT(google-build-using-namespace)
using rediscache::test::cluster_mode;
using rediscache::test::cluster_seeds;
using rediscache::test::servers_required;
using rediscache::test::tls_mode;
using rediscache::test::TlsMode;

#ifndef REDISCACHE_TEST_SOURCE_DIR
#error "tests/CMakeLists.txt defines REDISCACHE_TEST_SOURCE_DIR"
#endif

struct PythonRun {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string shell_quoted(const std::string& word) {
  std::string q = "'";
  for (const char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The interpreter whose redis module is Debian's python3-redis: REDISCACHE_TEST_PYTHON, else
// /usr/bin/python3 (a python3 earlier on PATH, e.g. pyenv's, may lack it), else python3.
std::string python() {
  if (const char* p = std::getenv("REDISCACHE_TEST_PYTHON"); p != nullptr && *p != '\0') return p;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

class PythonSide {
 public:
  explicit PythonSide(const Endpoint& ep) {
    std::string host = ep.host;
    int port = ep.port;
    if (cluster_mode() && !cluster_seeds().empty()) {
      host = cluster_seeds().front().host;
      port = cluster_seeds().front().port;
    }
    env_ = "REDISCACHE_INTEROP_HOST=" + shell_quoted(host) +
           " REDISCACHE_INTEROP_PORT=" + std::to_string(port) +
           (cluster_mode() ? " REDISCACHE_INTEROP_CLUSTER=1" : "");
  }

  PythonRun run(const std::vector<std::string>& args) const {
    const std::string err_file =
        std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/interop_py_" +
        std::to_string(::getpid()) + ".err";
    std::string command =
        env_ + " " + shell_quoted(python()) + " " +
        shell_quoted(std::string(REDISCACHE_TEST_SOURCE_DIR) + "/tests/interop/python_side.py");
    for (const std::string& a : args) command += " " + shell_quoted(a);
    command += " 2>" + shell_quoted(err_file);
    PythonRun run;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
    const int raw = ::pclose(pipe);
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    if (FILE* f = std::fopen(err_file.c_str(), "r")) {
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) run.err.append(buf, n);
      std::fclose(f);
    }
    std::remove(err_file.c_str());
    return run;
  }

  // One step that must succeed; its JSON output.
  nlohmann::json step(const std::vector<std::string>& args) const {
    const PythonRun r = run(args);
    EXPECT_EQ(r.status, 0) << args[0] << ": " << r.err;
    if (r.status != 0) return {};
    return nlohmann::json::parse(r.out);
  }

 private:
  std::string env_;
};

// Binds `py` to the Python side, or skips (fails when servers are required) without
// python3-redis; skips in the TLS reruns (the driver connects without TLS).
#define REQUIRE_PYTHON_SIDE(py, ep)                                                        \
  if (tls_mode() != TlsMode::kOff) GTEST_SKIP() << "the Python side connects without TLS"; \
  const PythonSide py(ep);                                                                 \
  if (const PythonRun probe = py.run({"probe", "x"}); probe.status == 3) {                 \
    if (servers_required()) {                                                              \
      FAIL() << "python3-redis is missing (" << python()                                   \
             << "), but REDISCACHE_TEST_REQUIRE_SERVERS=1: apt-get install python3-redis"; \
    }                                                                                      \
    GTEST_SKIP() << "python3-redis is missing for " << python()                            \
                 << " (apt-get install python3-redis, or set REDISCACHE_TEST_PYTHON)";     \
  }

UserCache::Loader loader_counting(int& loads, const std::string& name) {
  return [&loads, name](std::string_view id) -> std::optional<User> {
    ++loads;
    return User{std::string(id), name, name + "@example.com"};
  };
}

nlohmann::json db_row(const std::string& id, const std::string& name) {
  return nlohmann::json{{id, {{"id", id}, {"name", name}, {"email", name + "@example.com"}}}};
}

TEST(InteropPython, CppWrites_PythonSeedReads) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REQUIRE_PYTHON_SIDE(py, ep);
  const std::string id = unique_namespace() + "-1";
  UserCache cache(make_client(ep), plain_options("user:{id}"));
  const MarkerCleanup cleanup{ep, id};
  int loads = 0;
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "Ada")),
            (User{id, "Ada", "Ada@example.com"}));
  cache.set(id + "b", User{id + "b", "Bob", "bob@example.com"});
  // The seed's get_user: r.get + json.loads, no database query.
  nlohmann::json got = py.step({"get", id, "{}"});
  EXPECT_EQ(got["db_queries"], 0);
  EXPECT_EQ(got["user"],
            nlohmann::json({{"id", id}, {"name", "Ada"}, {"email", "Ada@example.com"}}));
  got = py.step({"get", id + "b", "{}"});
  EXPECT_EQ(got["db_queries"], 0);
  EXPECT_EQ(got["user"]["name"], "Bob");
  const nlohmann::json raw = py.step({"raw", id});
  EXPECT_GT(raw["ttl"].get<long long>(), 0);
}

TEST(InteropPython, PythonSeedWrites_CppReads) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REQUIRE_PYTHON_SIDE(py, ep);
  const std::string id = unique_namespace() + "-2";
  UserCache cache(make_client(ep), plain_options("user:{id}"));
  const MarkerCleanup cleanup{ep, id};
  // The seed's get_user misses, queries its database and SETEXes json.dumps(user).
  nlohmann::json got = py.step({"get", id, db_row(id, "Grace").dump()});
  EXPECT_EQ(got["db_queries"], 1);
  int loads = 0;
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "never")),
            (User{id, "Grace", "Grace@example.com"}));
  EXPECT_EQ(loads, 0);
  // The seed's update_user (write-through: SETEX first, then the database).
  got = py.step(
      {"update", id,
       nlohmann::json({{"id", id}, {"name", "Hopper"}, {"email", "h@example.com"}}).dump()});
  EXPECT_EQ(got["executed"], 1);
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "never")),
            (User{id, "Hopper", "h@example.com"}));
  EXPECT_EQ(loads, 0);
  EXPECT_EQ(cache.stats().decode_errors, 0u);
}

TEST(InteropPython, CppInvalidates_PythonSeedMisses) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REQUIRE_PYTHON_SIDE(py, ep);
  const std::string id = unique_namespace() + "-3";
  UserCache cache(make_client(ep), plain_options("user:{id}"));
  const MarkerCleanup cleanup{ep, id};
  cache.set(id, User{id, "Cached", "c@example.com"});
  EXPECT_EQ(py.step({"get", id, db_row(id, "Db").dump()})["db_queries"], 0);
  cache.invalidate(id);
  const nlohmann::json got = py.step({"get", id, db_row(id, "Db").dump()});
  EXPECT_EQ(got["db_queries"], 1);
  EXPECT_EQ(got["user"]["name"], "Db");
  // And the C++ side now reads what Python re-cached.
  int loads = 0;
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "never")).value().name, "Db");
  EXPECT_EQ(loads, 0);
}

TEST(InteropPython, PythonDeletes_CppMisses) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REQUIRE_PYTHON_SIDE(py, ep);
  const std::string id = unique_namespace() + "-4";
  UserCache cache(make_client(ep), plain_options("user:{id}"));
  const MarkerCleanup cleanup{ep, id};
  int loads = 0;
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "First")).value().name, "First");
  EXPECT_EQ(py.step({"delete", id})["deleted"], 1);
  EXPECT_EQ(cache.get_or_load(id, loader_counting(loads, "Second")).value().name, "Second");
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(py.step({"get", id, "{}"})["user"]["name"], "Second");
}

// Why the mode exists: the default framed entry (binary header) is not text the seed's
// decode_responses=True client can read.
TEST(InteropPython, FramedDefault_SeedClientCannotDecode) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REQUIRE_PYTHON_SIDE(py, ep);
  const std::string id = unique_namespace() + "-5";
  CacheOptions options = base_options();
  options.key_layout = "user:{id}";
  UserCache cache(make_client(ep), options);
  const MarkerCleanup cleanup{ep, id};
  cache.set(id, User{id, "Framed", "f@example.com"});
  const PythonRun r = py.run({"get", id, "{}"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("UnicodeDecodeError"), std::string::npos) << r.err;
}

}  // namespace
