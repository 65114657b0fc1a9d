// Write-behind on PostgreSQL: writes land in the cache at once and reach a users table later, in
// batches of one multi-row upsert per transaction. Compares batched with one-by-one flushing.
//   write_behind_postgres [conninfo]   (default: $REDISCACHE_TEST_PG; Redis from
//                                       REDISCACHE_TEST_REDIS_HOST/PORT, else 127.0.0.1:6379)
// Prints write rates; exits non-zero if any check fails.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
constexpr const char* kTable = "users_write_behind";

int failures = 0;

void check(bool ok, const std::string& what) {
  std::cout << (ok ? "  ok    " : "  FAIL  ") << what << "\n";
  if (!ok) ++failures;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

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

// [README:write-behind-writer]
// One transaction per batch: a single multi-row upsert and a single delete. Idempotent, so a
// batch delivered twice (at-least-once) does no harm. Ids and values travel as parameters.
void write_users(pqxx::connection& db, const std::vector<rediscache::WriteOp<User>>& ops) {
  std::vector<std::string> upserts;
  std::vector<std::string> removes;
  std::string rows;
  std::string ids;
  for (const auto& op : ops) {
    if (op.kind == rediscache::WriteKind::kUpsert) {
      const std::size_t n = upserts.size();
      rows += (rows.empty() ? "($" : ", ($") + std::to_string(n + 1) + "::bigint, $" +
              std::to_string(n + 2) + ", $" + std::to_string(n + 3) + ")";
      upserts.insert(upserts.end(), {op.id, op.value->name, op.value->email});
    } else {
      removes.push_back(op.id);
      ids += (ids.empty() ? "$" : ", $") + std::to_string(removes.size()) + "::bigint";
    }
  }
  pqxx::work w(db);
  if (!upserts.empty()) {
    w.exec_params("INSERT INTO users_write_behind (id, name, email) VALUES " + rows +
                      " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                      "email = EXCLUDED.email",
                  pqxx::prepare::make_dynamic_params(upserts));
  }
  if (!removes.empty()) {
    w.exec_params("DELETE FROM users_write_behind WHERE id IN (" + ids + ")",
                  pqxx::prepare::make_dynamic_params(removes));
  }
  w.commit();
}
// [/README]

struct Run {
  double enqueue_rate = 0;  // write() calls per second (cache + queue)
  double flush_rate = 0;    // rows per second the flusher wrote into PostgreSQL
  rediscache::WriteBehindStats stats;
};

// Queues `count` distinct users with no flusher running, then starts a flusher with the given
// batch size and times how fast it drains the queue into PostgreSQL.
Run measure(rediscache::CacheAside<User>& users, pqxx::connection& db, std::size_t max_batch,
            int count, int first_id) {
  rediscache::WriteBehindOptions producer_options;
  producer_options.run_flusher = false;
  rediscache::WriteBehind<User> producer(
      users, [](const std::vector<rediscache::WriteOp<User>>&) {}, producer_options);
  Run run;
  auto started = Clock::now();
  for (int i = 0; i < count; ++i) {
    producer.write(std::to_string(first_id + i), User{"user" + std::to_string(i), "u@example.com"});
  }
  run.enqueue_rate = count / seconds(Clock::now() - started);

  rediscache::WriteBehindOptions options;
  options.max_batch = max_batch;
  started = Clock::now();
  rediscache::WriteBehind<User> flusher(
      users, [&db](const std::vector<rediscache::WriteOp<User>>& ops) { write_users(db, ops); },
      options);
  if (!flusher.flush(std::chrono::seconds(60))) check(false, "flush() within 60 s");
  run.flush_rate = count / seconds(Clock::now() - started);
  run.stats = flusher.stats();
  return run;
}

long long count_rows(pqxx::connection& db) {
  pqxx::work w(db);
  const long long n = w.exec1("SELECT count(*) FROM users_write_behind")[0].as<long long>();
  w.commit();
  return n;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace std::chrono_literals;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread starts
  const char* conninfo = argc > 1 ? argv[1] : std::getenv("REDISCACHE_TEST_PG");
  if (conninfo == nullptr) {
    std::cerr << "usage: write_behind_postgres <libpq conninfo> (or set REDISCACHE_TEST_PG)\n";
    return 2;
  }
  pqxx::connection admin(conninfo);       // this thread
  pqxx::connection flusher_db(conninfo);  // the flusher thread
  {
    pqxx::work w(admin);
    w.exec0(std::string("DROP TABLE IF EXISTS ") + kTable);
    w.exec0(std::string("CREATE TABLE ") + kTable +
            " (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL)");
    w.commit();
  }
  auto load_user = [&](std::string_view id) -> std::optional<User> {
    pqxx::work w(admin);
    pqxx::result r =
        w.exec_params("SELECT name, email FROM users_write_behind WHERE id = $1", std::string(id));
    w.commit();
    if (r.empty()) return std::nullopt;
    return User{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
  };

  // [README:write-behind]
  rediscache::Client redis(redis_options());
  rediscache::CacheOptions options;
  options.name = "example_wb_users";
  options.ttl = 10min;
  rediscache::CacheAside<User> users(redis, options);
  {
    rediscache::WriteBehind<User> writes(
        users, [&](const std::vector<rediscache::WriteOp<User>>& ops) {
          write_users(flusher_db, ops);  // called on the flusher thread, in batches
        });
    writes.write("42", User{"Ada", "ada@example.com"});            // cache now, database soon
    writes.write("42", User{"Ada L.", "ada@example.com"});         // coalesced with the first
    writes.remove("43");                                           // queued behind, in order
    std::optional<User> ada = users.get_or_load("42", load_user);  // "Ada L.", from the cache
    bool drained = writes.flush(5s);  // everything queued so far is in PostgreSQL
    // [/README]
    check(ada && ada->name == "Ada L.", "the cache has the latest write at once");
    check(drained, "flush() drains the queue");
    check(load_user("42") && load_user("42")->name == "Ada L.", "the database has it too");
  }

  constexpr int kBatched = 2000;
  constexpr int kOneByOne = 300;
  const Run batched = measure(users, flusher_db, 500, kBatched, 100000);
  const Run single = measure(users, flusher_db, 1, kOneByOne, 200000);
  check(count_rows(admin) == 1 + kBatched + kOneByOne, "every write reached PostgreSQL");
  const auto sample = users.get_or_load(std::to_string(100000 + kBatched - 1), load_user);
  check(sample && sample->name == "user" + std::to_string(kBatched - 1),
        "cached values match what was written");
  check(batched.stats.queue_depth == 0 && single.stats.queue_depth == 0, "the queue is empty");

  std::cout << "\nrows per second the flusher wrote into PostgreSQL (queue filled first):\n"
            << "  batched (max_batch 500)   " << static_cast<long>(batched.flush_rate) << " /s  ("
            << kBatched << " rows in " << batched.stats.batches << " transactions)\n"
            << "  one by one (max_batch 1)  " << static_cast<long>(single.flush_rate) << " /s  ("
            << kOneByOne << " rows in " << single.stats.batches << " transactions)\n"
            << "  speed-up                  " << batched.flush_rate / single.flush_rate << "x\n"
            << "write() calls per second (cache + queue, one thread): "
            << static_cast<long>(batched.enqueue_rate) << "\n";
  check(batched.flush_rate > single.flush_rate, "batching writes faster than one by one");

  pqxx::work w(admin);
  w.exec0(std::string("DROP TABLE ") + kTable);
  w.commit();
  users.invalidate_all();
  std::cout << (failures == 0 ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
