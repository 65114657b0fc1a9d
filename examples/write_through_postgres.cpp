// Write-through on PostgreSQL: a users table, a loader, an upsert writer and a remover. Writes go
// to the database, then to the cache; a rejected write never reaches the cache.
//   write_through_postgres [conninfo]   (default: $REDISCACHE_TEST_PG; Redis from
//                                        REDISCACHE_TEST_REDIS_HOST/PORT, else 127.0.0.1:6379)
// Prints timings; exits non-zero if any check fails.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <rediscache/rediscache.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct User {
  std::string name;
  std::string email;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, name, email)

// Its own table, so it can run next to the other examples.
constexpr const char* kTable = "users_write_through";

int failures = 0;

void check(bool ok, const char* what) {
  std::cout << (ok ? "  ok    " : "  FAIL  ") << what << "\n";
  if (!ok) ++failures;
}

double micros_per(Clock::duration d, int n) {
  return std::chrono::duration<double, std::micro>(d).count() / n;
}

rediscache::ConnectionOptions redis_options() {
  rediscache::ConnectionOptions options;
  if (const char* host =
          std::getenv("REDISCACHE_TEST_REDIS_HOST")) {  // NOLINT(concurrency-mt-unsafe)
    options.host = host;
  }
  if (const char* port =
          std::getenv("REDISCACHE_TEST_REDIS_PORT")) {  // NOLINT(concurrency-mt-unsafe)
    options.port = std::atoi(port);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace std::chrono_literals;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread starts
  const char* conninfo = argc > 1 ? argv[1] : std::getenv("REDISCACHE_TEST_PG");
  if (conninfo == nullptr) {
    std::cerr << "usage: write_through_postgres <libpq conninfo> (or set REDISCACHE_TEST_PG)\n";
    return 2;
  }
  pqxx::connection db(conninfo);  // used by this thread only
  {
    pqxx::work w(db);
    w.exec0(std::string("DROP TABLE IF EXISTS ") + kTable);
    w.exec0(std::string("CREATE TABLE ") + kTable +
            " (id bigint PRIMARY KEY, name text NOT NULL,"
            "  email text NOT NULL CHECK (email LIKE '%@%'))");
    w.commit();
  }

  // [README:write-through]
  rediscache::Client redis(redis_options());
  rediscache::CacheOptions options;
  options.name = "example_wt_users";
  options.ttl = 10min;
  rediscache::CacheAside<User> users(redis, options);

  auto load_user = [&](std::string_view id) -> std::optional<User> {
    pqxx::work w(db);
    pqxx::result r =
        w.exec_params("SELECT name, email FROM users_write_through WHERE id = $1", std::string(id));
    w.commit();
    if (r.empty()) return std::nullopt;
    return User{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
  };
  auto upsert_user = [&](std::string_view id, const User& user) {
    pqxx::work w(db);
    w.exec_params(
        "INSERT INTO users_write_through (id, name, email) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email",
        std::string(id), user.name, user.email);
    w.commit();  // throws (and rolls back) on a constraint violation
  };
  auto delete_user = [&](std::string_view id) {
    pqxx::work w(db);
    w.exec_params("DELETE FROM users_write_through WHERE id = $1", std::string(id));
    w.commit();
  };
  rediscache::WriteThrough<User> writes(users, upsert_user, delete_user);

  writes.write("42", User{"Ada", "ada@example.com"});            // database, then cache
  std::optional<User> ada = users.get_or_load("42", load_user);  // a hit: no query
  // [/README]
  users.invalidate_all();  // forget what earlier runs cached under this namespace
  writes.write("42", User{"Ada", "ada@example.com"});
  ada = users.get_or_load("42", load_user);
  check(ada && ada->email == "ada@example.com", "write(), then get_or_load() hits the cache");

  constexpr int kUsers = 300;
  auto started = Clock::now();
  for (int i = 0; i < kUsers; ++i) {
    upsert_user(std::to_string(1000 + i), User{"plain" + std::to_string(i), "p@example.com"});
  }
  const auto db_only = Clock::now() - started;
  started = Clock::now();
  int cached = 0;
  for (int i = 0; i < kUsers; ++i) {
    const auto outcome =
        writes.write(std::to_string(2000 + i), User{"user" + std::to_string(i), "u@example.com"});
    if (outcome == rediscache::WriteOutcome::kCached) ++cached;
  }
  const auto through = Clock::now() - started;
  check(cached == kUsers, "every write-through left its value in the cache");

  int loads = 0;
  auto counting_loader = [&](std::string_view id) {
    ++loads;
    return load_user(id);
  };
  started = Clock::now();
  bool all_match = true;
  for (int i = 0; i < kUsers; ++i) {
    auto user = users.get_or_load(std::to_string(2000 + i), counting_loader);
    all_match = all_match && user && user->name == "user" + std::to_string(i);
  }
  const auto cached_reads = Clock::now() - started;
  started = Clock::now();
  for (int i = 0; i < kUsers; ++i) (void)load_user(std::to_string(2000 + i));
  const auto db_reads = Clock::now() - started;
  check(all_match && loads == 0, "reads after write-through are cache hits with the new values");

  // The database rejects a write (CHECK constraint): the exception reaches the caller and the
  // cache does not hold the rejected value.
  bool rejected = false;
  try {
    writes.write("42", User{"Ada", "not-an-email"});
  } catch (const pqxx::check_violation&) {
    rejected = true;
  }
  ada = users.get_or_load("42", load_user);
  check(rejected, "a rejected write throws the database's exception");
  check(ada && ada->email == "ada@example.com", "...and the cache still serves the stored value");

  writes.remove("42");
  check(!users.get_or_load("42", load_user), "remove() deletes from the database and the cache");
  check(redis.pttl(users.key_for("2007")) > 0, "cached entries have a TTL");

  const auto stats = writes.stats();
  std::cout << "\n"
            << kUsers << " users:\n"
            << "  upsert, database only       " << micros_per(db_only, kUsers) << " us/write\n"
            << "  write-through (db + cache)  " << micros_per(through, kUsers) << " us/write\n"
            << "  read from the database      " << micros_per(db_reads, kUsers) << " us/read\n"
            << "  read from the cache (hit)   " << micros_per(cached_reads, kUsers) << " us/read\n"
            << "  writes " << stats.writes << ", cached " << stats.cached << ", invalidated "
            << stats.invalidated << ", writer failures " << stats.writer_failures << "\n";

  pqxx::work w(db);
  w.exec0(std::string("DROP TABLE ") + kTable);
  w.commit();
  users.invalidate_all();
  std::cout << (failures == 0 ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
