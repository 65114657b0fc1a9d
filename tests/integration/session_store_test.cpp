// SessionStore against a real redis-server: typed round trips, sliding expiry, regeneration,
// id uniqueness, limits, and interoperation with the seed document's Python code.
#include "rediscache/helpers/session_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "helpers/scripts.hpp"
#include "helpers_test_util.hpp"
#include "rediscache/util/errors.hpp"
#include "test_env.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using rediscache::Client;
using rediscache::Session;
using rediscache::SessionExpiry;
using rediscache::SessionFields;
using rediscache::SessionOptions;
using rediscache::SessionStore;

SessionOptions test_options() {
  SessionOptions options;
  options.key_prefix = rediscache::test::unique_prefix() + "session:";
  options.ttl = 60s;
  return options;
}

TEST(SessionStoreIntegration, EveryFieldType_RoundTrips) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client, test_options());
  const std::string binary("a\0b\r\n\xff", 6);
  const SessionFields fields = {
      {"username", "alice"},
      {"empty", ""},
      {"binary", binary},
      {"looks_like_json", "[1,2]"},
      {"user_id", 42},
      {"negative", -7},
      {"created_at", 1700000000.25},
      {"active", true},
      {"nothing", nullptr},
      {"roles", json::array({"admin", "user"})},
      {"prefs", json{{"theme", "dark"}, {"langs", {"en", "fr"}}}},
  };
  const std::string id = store.create(fields, 30s);
  EXPECT_EQ(id.size(), 22u);

  const auto session = store.get(id);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->id(), id);
  EXPECT_EQ(session->fields().size(), fields.size());
  EXPECT_EQ(session->text("username"), "alice");
  EXPECT_EQ(session->text("empty"), "");
  EXPECT_EQ(session->text("binary"), binary);
  EXPECT_EQ(session->text("looks_like_json"), "[1,2]");  // strings are never re-encoded
  EXPECT_EQ(session->integer("user_id"), 42);
  EXPECT_EQ(session->integer("negative"), -7);
  EXPECT_EQ(session->number("created_at"), 1700000000.25);
  EXPECT_EQ(session->json("active"), json(true));
  EXPECT_EQ(session->json("nothing"), json(nullptr));
  EXPECT_EQ(session->json("roles"), json::array({"admin", "user"}));
  EXPECT_EQ(session->json("prefs"), fields.at("prefs"));
  EXPECT_EQ(session->text("missing"), std::nullopt);
  EXPECT_EQ(session->json("missing"), std::nullopt);
  EXPECT_THROW(static_cast<void>(session->integer("username")), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(session->number("roles")), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(session->json("username")), std::invalid_argument);

  const auto ttl = store.ttl(id);
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(*ttl, 25s);
  EXPECT_LE(*ttl, 30s);
  EXPECT_TRUE(store.destroy(id));
  EXPECT_FALSE(store.get(id).has_value());
  EXPECT_FALSE(store.destroy(id));
}

TEST(SessionStoreIntegration, GetWithSlide_ResetsTtl_KeepLeavesIt) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client, test_options());
  const std::string id = store.create({{"user_id", 1}}, 5s);
  ASSERT_TRUE(store.get(id, SessionExpiry::kKeep).has_value());
  EXPECT_LE(store.ttl(id).value(), 5s);
  ASSERT_TRUE(store.get(id, SessionExpiry::kSlide).has_value());
  EXPECT_GT(store.ttl(id).value(), 55s);  // back to SessionOptions::ttl (60 s)

  EXPECT_TRUE(store.touch(id, 3s));
  EXPECT_LE(store.ttl(id).value(), 3s);
  EXPECT_TRUE(store.destroy(id));
  EXPECT_FALSE(store.touch(id));
  EXPECT_FALSE(store.get(id, SessionExpiry::kSlide).has_value());
  EXPECT_EQ(client.exists({store.key(id)}), 0);  // sliding never creates a key
  const auto stats = store.stats();
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.destroyed, 1u);
}

TEST(SessionStoreIntegration, ShortTtl_SessionExpires) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client, test_options());
  const std::string id = store.create({{"user_id", 1}}, 100ms);
  EXPECT_TRUE(rediscache::test::eventually([&] { return !store.get(id).has_value(); }, 3s));
}

TEST(SessionStoreIntegration, Regenerate_MovesFieldsAndTtl_OldIdUnusable) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client, test_options());
  const std::string old_id = store.create({{"user_id", 7}, {"username", "bob"}}, 20s);
  const auto new_id = store.regenerate(old_id);
  ASSERT_TRUE(new_id.has_value());
  EXPECT_NE(*new_id, old_id);

  EXPECT_FALSE(store.get(old_id).has_value());
  EXPECT_FALSE(store.update(old_id, {{"username", "mallory"}}));
  EXPECT_FALSE(store.touch(old_id));
  EXPECT_FALSE(store.regenerate(old_id).has_value());
  EXPECT_EQ(client.exists({store.key(old_id)}), 0);

  const auto session = store.get(*new_id);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->integer("user_id"), 7);
  EXPECT_EQ(session->text("username"), "bob");
  EXPECT_GT(store.ttl(*new_id).value(), 15s);  // the TTL moved with it
  EXPECT_LE(store.ttl(*new_id).value(), 20s);

  const auto newer_id = store.regenerate(*new_id, 50s);
  ASSERT_TRUE(newer_id.has_value());
  EXPECT_GT(store.ttl(*newer_id).value(), 45s);
  EXPECT_EQ(store.stats().regenerated, 2u);
  EXPECT_TRUE(store.destroy(*newer_id));
}

TEST(SessionStoreIntegration, Update_SetsAndRemovesFields_KeepsTtl_NeverResurrects) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionOptions options = test_options();
  options.max_fields = 3;
  SessionStore store(client, options);
  const std::string id = store.create({{"a", 1}, {"b", 2}}, 20s);
  EXPECT_TRUE(store.update(id, {{"b", "two"}, {"c", json::array({3})}}, {"a"}));
  auto session = store.get(id);
  ASSERT_TRUE(session.has_value());
  EXPECT_FALSE(session->contains("a"));
  EXPECT_EQ(session->text("b"), "two");
  EXPECT_EQ(session->json("c"), json::array({3}));
  EXPECT_LE(store.ttl(id).value(), 20s);

  // Over max_fields (checked in Redis, atomically): refused, and nothing is written.
  EXPECT_THROW(static_cast<void>(store.update(id, {{"d", 4}, {"e", 5}})), std::invalid_argument);
  EXPECT_EQ(store.get(id)->fields().size(), 2u);
  EXPECT_TRUE(store.update(id, {{"d", 4}}));  // exactly max_fields is fine
  // Removing every field would delete the session without saying so: refused.
  EXPECT_THROW(static_cast<void>(store.update(id, {}, {"b", "c", "d"})), std::invalid_argument);
  EXPECT_EQ(store.get(id)->fields().size(), 3u);

  EXPECT_TRUE(store.destroy(id));
  EXPECT_FALSE(store.update(id, {{"a", 1}}));
  EXPECT_EQ(client.exists({store.key(id)}), 0);
}

TEST(SessionStoreIntegration, Ids_HundredThousandLocalAndThousandsCreated_Unique) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client, test_options());
  std::unordered_set<std::string> ids;
  for (int i = 0; i < 100000; ++i) {
    std::string id = store.new_id();
    ASSERT_EQ(id.size(), 22u);
    ASSERT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    ids.insert(std::move(id));
  }
  EXPECT_EQ(ids.size(), 100000u);

  constexpr int kCreated = 3000;
  std::vector<std::string> created;
  created.reserve(kCreated);
  for (int i = 0; i < kCreated; ++i) created.push_back(store.create({{"n", i}}, 60s));
  std::unordered_set<std::string> unique(created.begin(), created.end());
  EXPECT_EQ(unique.size(), created.size());
  std::vector<std::string> keys;
  keys.reserve(created.size());
  for (const auto& id : created) keys.push_back(store.key(id));
  EXPECT_EQ(client.exists(keys), static_cast<long long>(created.size()));
  EXPECT_EQ(client.del(keys), static_cast<long long>(created.size()));
}

TEST(SessionStoreIntegration, Limits_TooManyOrTooLarge_InvalidArgumentNothingWritten) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  SessionOptions options = test_options();
  options.max_fields = 2;
  options.max_value_size = 16;
  options.max_field_name_size = 8;
  SessionStore store(client, options);
  const auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no std::invalid_argument";
  };
  EXPECT_NE(message([&] {
              static_cast<void>(store.create({{"a", 1}, {"b", 2}, {"c", 3}}));
            }).find("fields"),
            std::string::npos);
  EXPECT_NE(message([&] {
              static_cast<void>(store.create({{"a", std::string(17, 'x')}}));
            }).find("max_value_size"),
            std::string::npos);
  EXPECT_NE(message([&] {
              static_cast<void>(store.create({{"toolongname", 1}}));
            }).find("max_field_name_size"),
            std::string::npos);
  EXPECT_NE(message([&] { static_cast<void>(store.create({})); }).find("fields"),
            std::string::npos);
  EXPECT_EQ(store.stats().created, 0u);
}

// --- Interoperation with the seed document's Python code ------------------------------------

// The seed's create_session/get_session, verbatim, driven from the command line.
constexpr const char* kSeedPython = R"py(
import json
import sys
import time

import redis

r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), decode_responses=True)

# Store session with hash
def create_session(session_id, user_data, ttl=86400):
    key = f"session:{session_id}"
    r.hset(key, mapping={
        'user_id': user_data['id'],
        'username': user_data['username'],
        'roles': json.dumps(user_data['roles']),
        'ip': user_data['ip'],
        'created_at': time.time()
    })
    r.expire(key, ttl)

def get_session(session_id):
    key = f"session:{session_id}"
    data = r.hgetall(key)
    if data:
        data['roles'] = json.loads(data['roles'])
    return data

if sys.argv[3] == 'create':
    create_session(sys.argv[4], {'id': 42, 'username': 'alice', 'roles': ['admin', 'editor'],
                                 'ip': '203.0.113.7'}, ttl=600)
else:
    print(json.dumps(get_session(sys.argv[4]), sort_keys=True))
)py";

constexpr const char* kPython = "/usr/bin/python3";

bool python_redis_available() {
  // Called from the test's main thread only.
  return std::system(  // NOLINT(concurrency-mt-unsafe)
             "/usr/bin/python3 -c 'import redis' >/dev/null 2>&1") == 0;
}

// Runs the seed snippet; returns its exit status and stdout.
std::pair<int, std::string> run_seed_python(const rediscache::test::Endpoint& ep,
                                            const std::string& mode, const std::string& id) {
  char path[] = "/tmp/rediscache-seed-session-XXXXXX.py";
  const int fd = ::mkstemps(path, 3);
  if (fd < 0) return {-1, "mkstemps failed"};
  ::close(fd);
  std::ofstream(path) << kSeedPython;
  const std::string command = std::string(kPython) + " " + path + " " + ep.host + " " +
                              std::to_string(ep.port) + " " + mode + " " + id;
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  ::unlink(path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

#define REQUIRE_PYTHON_REDIS()                                                         \
  if (ep.tls) {                                                                        \
    GTEST_SKIP() << "the seed's Python snippet connects without TLS: plain runs only"; \
  }                                                                                    \
  if (!python_redis_available()) {                                                     \
    if (rediscache::test::servers_required()) FAIL() << "python3-redis is missing";    \
    GTEST_SKIP() << "python3-redis is missing (apt-get install python3-redis)";        \
  }

TEST(SessionStoreIntegration, SeedPythonSession_ReadsCorrectlyHere) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_SINGLE_NODE_ONLY();  // the seed's Python talks to one server
  REQUIRE_PYTHON_REDIS();
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client);  // the seed's key layout: session:<id>
  const std::string id = store.new_id();
  const auto [status, output] = run_seed_python(ep, "create", id);
  ASSERT_EQ(status, 0) << output;

  const auto session = store.get(id);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->integer("user_id"), 42);
  EXPECT_EQ(session->text("username"), "alice");
  EXPECT_EQ(session->json("roles"), json::array({"admin", "editor"}));
  EXPECT_EQ(session->text("ip"), "203.0.113.7");
  const double created_at = session->number("created_at").value_or(0);
  const double now = std::chrono::duration<double>(client.time()).count();
  EXPECT_NEAR(created_at, now, 60.0);
  EXPECT_GT(store.ttl(id).value(), 590s);
  EXPECT_TRUE(store.destroy(id));
}

TEST(SessionStoreIntegration, SessionCreatedHere_ReadsCorrectlyInSeedPython) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_SINGLE_NODE_ONLY();  // the seed's Python talks to one server
  REQUIRE_PYTHON_REDIS();
  Client client = rediscache::test::helpers_client(ep);
  SessionStore store(client);
  const std::string id = store.create({{"user_id", 7},
                                       {"username", "bob"},
                                       {"roles", json::array({"user", "auditor"})},
                                       {"ip", "198.51.100.2"},
                                       {"created_at", 1700000000.5}},
                                      600s);
  const auto [status, output] = run_seed_python(ep, "get", id);
  ASSERT_EQ(status, 0) << output;
  const json read = json::parse(output);
  EXPECT_EQ(read.at("user_id"), "7");  // decode_responses gives strings, as for its own sessions
  EXPECT_EQ(read.at("username"), "bob");
  EXPECT_EQ(read.at("roles"), json::array({"user", "auditor"}));
  EXPECT_EQ(read.at("ip"), "198.51.100.2");
  EXPECT_EQ(std::stod(read.at("created_at").get<std::string>()), 1700000000.5);
  EXPECT_TRUE(store.destroy(id));
}

}  // namespace

// Keys under `prefix` (the test's own prefix, so other tests' keys never count).
std::vector<std::string> keys_under(Client& client, const std::string& prefix) {
  std::vector<std::string> keys;
  rediscache::ScanOptions scan;
  scan.match = prefix + "*";
  client.scan_each(scan, [&](std::string_view key) { keys.emplace_back(key); });
  return keys;
}

TEST(SessionStoreIntegration, CreateOrRegenerate_TtlPastBound_InvalidArgumentNothingWrittenOrLost) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  const SessionOptions options = test_options();
  SessionStore store(client, options);
  for (const auto ttl : {std::chrono::milliseconds::max(), std::chrono::milliseconds::max() / 2,
                         std::chrono::milliseconds(std::chrono::hours(24 * 365)) + 1ms}) {
    EXPECT_THROW((void)store.create({{"user_id", 1}}, ttl), std::invalid_argument);
  }
  EXPECT_TRUE(keys_under(client, options.key_prefix).empty()) << "a session without TTL was left";

  const std::string id = store.create({{"user_id", 7}});
  EXPECT_THROW((void)store.regenerate(id, std::chrono::milliseconds::max()), std::invalid_argument);
  ASSERT_TRUE(store.get(id).has_value()) << "a failed regenerate lost the old id";
  EXPECT_EQ(keys_under(client, options.key_prefix).size(), 1u);
  EXPECT_TRUE(store.destroy(id));
}

// The scripts themselves refuse a TTL Redis cannot take before they write anything (defence in
// depth behind the C++ bound: scripts do not roll back).
TEST(SessionStoreIntegration, Scripts_TtlRedisCannotTake_WriteNothingAndKeepTheOldId) {
  REDISCACHE_REQUIRE_REDIS(ep);
  Client client = rediscache::test::helpers_client(ep);
  const SessionOptions options = test_options();
  const std::string key = options.key_prefix + "direct";
  for (const std::string ttl : {"9223372036854775807", "0", "-5", "1.5", "x"}) {
    EXPECT_THROW(
        (void)client.eval(rediscache::detail::session_create_script(), {key}, {ttl, "f", "v"}),
        rediscache::ReplyError)
        << ttl;
    EXPECT_EQ(client.exists({key}), 0) << ttl;
  }
  SessionStore store(client, options);
  const std::string id = store.create({{"user_id", 7}});
  const std::string new_key = options.key_prefix + "direct-new";
  EXPECT_THROW((void)client.eval(rediscache::detail::session_regenerate_script(),
                                 {store.key(id), new_key}, {"9223372036854775807"}),
               rediscache::ReplyError);
  EXPECT_EQ(client.exists({store.key(id)}), 1);
  EXPECT_EQ(client.exists({new_key}), 0);
  EXPECT_TRUE(store.destroy(id));
}
