// User profile fields (hash): one hash per user, partial updates with HSET (only the fields that
// changed), HINCRBY on a counter field, HGETALL back into a struct, and an expiry for the cached
// copy.
//
//   recipe_profile_hash [host] [port]  (default: REDISCACHE_TEST_REDIS_HOST/PORT, 127.0.0.1:6379)
#include <iostream>
#include <string>
#include <unordered_map>

#include "recipe_support.hpp"
#include <rediscache/client/client.hpp>

namespace {

struct UserProfile {
  std::string name;
  std::string email;
  std::string city;
  long long logins = 0;
};

// Fields absent from the hash keep their defaults: a partial hash is still a valid profile.
UserProfile from_hash(const std::unordered_map<std::string, std::string>& fields) {
  UserProfile profile;
  auto field = [&](const char* name) -> const std::string* {
    const auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  };
  if (const auto* v = field("name")) profile.name = *v;
  if (const auto* v = field("email")) profile.email = *v;
  if (const auto* v = field("city")) profile.city = *v;
  if (const auto* v = field("logins")) profile.logins = std::stoll(*v);
  return profile;
}

}  // namespace

int main(int argc, char** argv) {
  return example::run(
      argc, argv, "profile_hash",
      [](rediscache::Client& client, const std::string& prefix, example::Checks& checks) {
        const std::string key = prefix + "user:42";

        // Whole profile in one HSET, then an expiry: this hash caches a database row.
        client.hset(key, {{"name", "Ada Lovelace"},
                          {"email", "ada@example.org"},
                          {"city", "London"},
                          {"logins", "0"}});
        client.expire(key, std::chrono::hours(1));

        // Partial update: only the changed field travels; the others are untouched.
        checks.check(client.hset(key, "city", "Marylebone") == 0, "HSET of an existing field");
        // A counter field, incremented atomically on the server (no read-modify-write).
        for (int i = 0; i < 3; ++i) client.hincrby(key, "logins", 1);
        checks.check(client.hincrby(key, "logins", 1) == 4, "HINCRBY counts logins");

        const UserProfile profile = from_hash(client.hgetall(key));
        std::cout << "user:42 = {name: " << profile.name << ", email: " << profile.email
                  << ", city: " << profile.city << ", logins: " << profile.logins << "}\n";
        checks.check(profile.name == "Ada Lovelace" && profile.email == "ada@example.org",
                     "untouched fields survive the partial update");
        checks.check(profile.city == "Marylebone", "the updated field has its new value");
        checks.check(profile.logins == 4, "the counter field reads back as 4");

        // One field removed, one read alone.
        client.hdel(key, {"email"});
        checks.check(!client.hexists(key, "email") && client.hlen(key) == 3,
                     "HDEL removes a field");
        checks.check(client.hget(key, "city") == std::optional<std::string>("Marylebone"),
                     "HGET reads one field");
        checks.check(client.ttl(key) > 0, "the cached profile keeps its expiry");
        checks.check(from_hash(client.hgetall(prefix + "user:missing")).name.empty(),
                     "a missing user reads as an empty profile");
      });
}
