// Cache-aside in front of PostgreSQL: a `users` table (with an `orders` table beside it), a
// loader that reads a user's profile by id (the row plus an order summary, as a page would show
// it) and a batch loader for a list of ids, and a skewed request mix run against PostgreSQL alone
// and through CacheAside.
// Prints hits, misses, timings and the speed-up; exits non-zero if any answer differs from the
// database or the cache misbehaves.
//
// Usage: cache_aside_postgres [conninfo [redis_host [redis_port]]]
// Defaults: REDISCACHE_TEST_PG, REDISCACHE_TEST_REDIS_HOST (127.0.0.1), REDISCACHE_TEST_REDIS_PORT
// (6379).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <rediscache/cache/cache_aside.hpp>
#include <rediscache/client/client.hpp>
#include <rediscache/util/errors.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct User {
  int id = 0;
  std::string name;
  std::string email;
  std::string bio;
  long long orders = 0;     // order summary: what makes the profile worth caching
  std::string spent = "0";  // numeric(12,2) as text: exact
  friend bool operator==(const User& a, const User& b) {
    return a.id == b.id && a.name == b.name && a.email == b.email && a.bio == b.bio &&
           a.orders == b.orders && a.spent == b.spent;
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, email, bio, orders, spent)

constexpr int kRows = 10'000;
constexpr int kRequests = 10'000;
constexpr int kBatches = 200;
constexpr int kBatchSize = 50;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

User row_to_user(const pqxx::row& row) {
  return User{
      row["id"].as<int>(),          row["name"].as<std::string>(), row["email"].as<std::string>(),
      row["bio"].as<std::string>(), row["orders"].as<long long>(), row["spent"].as<std::string>()};
}

// The tables, created and filled once: 10,000 users with 10 orders each.
void ensure_tables(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS users (id integer PRIMARY KEY, name text NOT NULL, "
      "email text NOT NULL, bio text NOT NULL DEFAULT '')");
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, "
      "user_id integer NOT NULL, amount numeric(12,2) NOT NULL, "
      "created_at timestamptz NOT NULL DEFAULT now())");
  tx.exec0("CREATE INDEX IF NOT EXISTS orders_user_id ON orders (user_id)");
  const int rows = tx.exec1("SELECT count(*) FROM users WHERE id BETWEEN 1 AND 10000")[0].as<int>();
  if (rows < kRows) {
    tx.exec_params0(
        "INSERT INTO users (id, name, email, bio) "
        "SELECT g, 'user ' || g, 'user' || g || '@example.org', "
        "repeat('bio of user ' || g || '. ', 12) "
        "FROM generate_series(1, $1) AS g ON CONFLICT (id) DO NOTHING",
        kRows);
  }
  if (tx.exec1("SELECT count(*) FROM orders")[0].as<long long>() == 0) {
    tx.exec_params0(
        "INSERT INTO orders (user_id, amount, created_at) "
        "SELECT u, ((u * 37 + k * 11) % 500) + 0.99, now() - k * interval '1 day' "
        "FROM generate_series(1, $1) AS u, generate_series(1, 10) AS k",
        kRows);
    tx.exec0("ANALYZE users");
    tx.exec0("ANALYZE orders");
  }
  tx.commit();
}

// Zipf(1.0) over 1..n: a few hot users, a long tail, as real traffic tends to be.
std::vector<int> zipf_requests(int n, int count, std::mt19937_64& rng) {
  std::vector<double> cdf(static_cast<std::size_t>(n));
  double sum = 0;
  for (int i = 0; i < n; ++i) cdf[static_cast<std::size_t>(i)] = (sum += 1.0 / (i + 1));
  std::uniform_real_distribution<double> u(0.0, sum);
  std::vector<int> ids;
  ids.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ids.push_back(static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin()) +
                  1);
  }
  // Spread the hot ids over the id range, so they are not all on the first index pages.
  for (int& id : ids) id = static_cast<int>((static_cast<long long>(id) * 7919) % n) + 1;
  return ids;
}

// A Postgres array literal of integers: passed as one bind parameter, never spliced into SQL.
std::string int_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(std::stoi(ids[i]));  // validates: only integers reach the database
  }
  return out + "}";
}

struct Timing {
  std::vector<double> us;
  double total_s = 0;
  void add(Clock::duration d) {
    us.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  double pct(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1,
                       static_cast<std::size_t>(p * static_cast<double>(us.size())))];
  }
  double mean() const { return us.empty() ? 0 : total_s * 1e6 / static_cast<double>(us.size()); }
};

void print_row(const std::string& label, std::size_t requests, Timing& t) {
  std::cout << "  " << std::left << std::setw(30) << label << std::right << std::setw(8) << requests
            << std::fixed << std::setprecision(2) << std::setw(9) << t.total_s << " s"
            << std::setprecision(0) << std::setw(9) << t.mean() << " us" << std::setw(9)
            << t.pct(0.5) << " us" << std::setw(9) << t.pct(0.99) << " us\n";
}

int run(const std::string& conninfo, const std::string& redis_host, int redis_port) {
  pqxx::connection conn(conninfo);
  ensure_tables(conn);
  // A user's profile: the row plus a summary of their orders.
  const std::string profile =
      "SELECT u.id, u.name, u.email, u.bio, count(o.id) AS orders, "
      "coalesce(sum(o.amount), 0)::text AS spent "
      "FROM users u LEFT JOIN orders o ON o.user_id = u.id ";
  conn.prepare("user_by_id", profile + "WHERE u.id = $1 GROUP BY u.id");
  conn.prepare("users_by_ids", profile + "WHERE u.id = ANY($1::int[]) GROUP BY u.id");
  pqxx::nontransaction db(conn);  // single statements: no BEGIN/COMMIT round trips to inflate

  // The truth every answer is checked against.
  std::unordered_map<int, User> truth;
  std::vector<std::string> all_ids;
  for (int id = 1; id <= kRows; ++id) all_ids.push_back(std::to_string(id));
  for (const pqxx::row& row : db.exec_prepared("users_by_ids", int_array(all_ids))) {
    truth.emplace(row["id"].as<int>(), row_to_user(row));
  }

  std::mt19937_64 rng(42);
  const std::vector<int> requests = zipf_requests(kRows, kRequests, rng);
  std::vector<std::vector<std::string>> batches(kBatches);
  const std::vector<int> batch_ids = zipf_requests(kRows, kBatches * kBatchSize, rng);
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kBatchSize; ++i) {
      batches[static_cast<std::size_t>(b)].push_back(
          std::to_string(batch_ids[static_cast<std::size_t>(b * kBatchSize + i)]));
    }
  }
  const std::size_t distinct = std::unordered_set<int>(requests.begin(), requests.end()).size();

  rediscache::ConnectionOptions redis;
  redis.host = redis_host;
  redis.port = redis_port;
  rediscache::Client client(redis);
  client.ping();  // fail early and clearly when Redis is not there

  // [README:cache-aside]
  rediscache::CacheOptions options;
  options.name = "demo_users";
  options.ttl = std::chrono::minutes(5);
  options.negative_ttl = std::chrono::seconds(30);
  rediscache::CacheAside<User> cache(client, options);
  cache.invalidate_all();  // start cold: entries of earlier runs become unreachable

  std::size_t loader_calls = 0;
  const rediscache::CacheAside<User>::Loader load_user =
      [&](std::string_view id) -> std::optional<User> {
    ++loader_calls;
    const pqxx::result r = db.exec_prepared("user_by_id", std::stoi(std::string(id)));
    if (r.empty()) return std::nullopt;
    return row_to_user(r[0]);
  };
  // [/README]
  std::size_t batch_loader_calls = 0;
  std::size_t rows_loaded = 0;
  const rediscache::CacheAside<User>::BatchLoader load_users =
      [&](const std::vector<std::string>& ids) {
        ++batch_loader_calls;
        std::unordered_map<std::string, User> out;
        for (const pqxx::row& row : db.exec_prepared("users_by_ids", int_array(ids))) {
          out.emplace(row["id"].as<std::string>(), row_to_user(row));
        }
        rows_loaded += out.size();
        return out;
      };

  std::cout << "rediscache cache-aside demo\n"
            << "  PostgreSQL: users table, " << truth.size() << " rows; Redis " << redis_host << ':'
            << redis_port << "\n"
            << "  Loader: a user's profile (row + order summary: JOIN orders, GROUP BY)\n"
            << "  Workload: " << kRequests << " reads by id, Zipf(1.0) over " << kRows << " ids ("
            << distinct << " distinct), then " << kBatches << " batch reads of " << kBatchSize
            << " ids\n\n"
            << "  " << std::left << std::setw(30) << "single reads" << std::right << std::setw(8)
            << "requests" << std::setw(11) << "total" << std::setw(12) << "mean" << std::setw(12)
            << "p50" << std::setw(12) << "p99"
            << "\n";

  std::size_t wrong = 0;
  // 1. PostgreSQL alone.
  Timing db_only;
  auto started = Clock::now();
  for (const int id : requests) {
    const auto t0 = Clock::now();
    const pqxx::result r = db.exec_prepared("user_by_id", id);
    const User user = row_to_user(r[0]);
    db_only.add(Clock::now() - t0);
    if (!(user == truth.at(id))) ++wrong;
  }
  db_only.total_s = std::chrono::duration<double>(Clock::now() - started).count();
  print_row("PostgreSQL alone", requests.size(), db_only);

  // 2. Through the cache: a cold pass (every first read of an id misses and pays the load plus
  // the cache's round trips), then the same requests again with the cache warm.
  const auto cache_pass = [&](const std::string& label) {
    Timing t;
    const auto pass_started = Clock::now();
    for (const int id : requests) {
      const auto t0 = Clock::now();
      // [README:get-or-load]
      const std::optional<User> user = cache.get_or_load(std::to_string(id), load_user);
      // [/README]
      t.add(Clock::now() - t0);
      if (!user || !(*user == truth.at(id))) ++wrong;
    }
    t.total_s = std::chrono::duration<double>(Clock::now() - pass_started).count();
    print_row(label, requests.size(), t);
    return t;
  };
  Timing cold = cache_pass("CacheAside get_or_load (cold)");
  const rediscache::CacheStats single = cache.stats();
  Timing warm = cache_pass("CacheAside get_or_load (warm)");
  const rediscache::CacheStats after_warm = cache.stats();
  const double hit_rate =
      100.0 * static_cast<double>(single.hits) /
      static_cast<double>(std::max<std::uint64_t>(1, single.hits + single.misses));
  std::cout << std::setprecision(1) << "    cold pass: hits " << single.hits << ", misses "
            << single.misses << ", loader calls " << loader_calls << ", hit rate " << hit_rate
            << " %; warm pass: hits " << after_warm.hits - single.hits << ", misses "
            << after_warm.misses - single.misses << "\n";
  const double speedup = db_only.total_s / warm.total_s;
  std::cout << std::setprecision(2) << "    speed-up over PostgreSQL alone: warm " << speedup
            << "x in total time, " << db_only.pct(0.5) / warm.pct(0.5) << "x at the median; cold "
            << db_only.total_s / cold.total_s << "x in total time\n\n";

  // 3. Batches: one `= ANY($1)` query each, against get_many (one MGET, one query for misses).
  std::cout << "  " << std::left << std::setw(30) << "batch reads (50 ids)" << std::right
            << std::setw(8) << "batches"
            << "\n";
  Timing db_batches;
  started = Clock::now();
  for (const auto& batch : batches) {
    const auto t0 = Clock::now();
    const pqxx::result r = db.exec_prepared("users_by_ids", int_array(batch));
    db_batches.add(Clock::now() - t0);
    if (r.size() != std::unordered_set<std::string>(batch.begin(), batch.end()).size()) ++wrong;
  }
  db_batches.total_s = std::chrono::duration<double>(Clock::now() - started).count();
  print_row("PostgreSQL alone (= ANY)", batches.size(), db_batches);

  Timing cached_batches;
  started = Clock::now();
  for (const auto& batch : batches) {
    const auto t0 = Clock::now();
    const std::vector<std::optional<User>> users = cache.get_many(batch, load_users);
    cached_batches.add(Clock::now() - t0);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!users[i] || !(*users[i] == truth.at(std::stoi(batch[i])))) ++wrong;
    }
  }
  cached_batches.total_s = std::chrono::duration<double>(Clock::now() - started).count();
  print_row("CacheAside get_many", batches.size(), cached_batches);
  const double batch_speedup = db_batches.total_s / cached_batches.total_s;
  std::cout << "    batch loader calls " << batch_loader_calls << " (rows " << rows_loaded
            << "), speed-up " << std::setprecision(2) << batch_speedup << "x in total time, "
            << db_batches.pct(0.5) / cached_batches.pct(0.5) << "x at the median\n\n";

  // 4. Bounded loads and a loader that decides: a slow database never holds a request longer
  // than the hard timeout, and the loader picks each entry's TTL.
  // [README:load-control]
  rediscache::CacheOptions bounded_options;
  bounded_options.name = "demo_users_bounded";
  bounded_options.ttl = std::chrono::minutes(5);
  bounded_options.stale_window = std::chrono::minutes(10);  // stale copies to fall back on
  bounded_options.load_soft_timeout = std::chrono::milliseconds(50);  // then serve the stale copy
  bounded_options.load_hard_timeout = std::chrono::seconds(2);        // then LoadTimeout
  rediscache::CacheAside<User> bounded(client, bounded_options);
  bounded.invalidate_all();

  const auto load_deciding = [&db](rediscache::LoadContext<User>& context) -> std::optional<User> {
    const pqxx::result r = db.exec_prepared("user_by_id", std::stoi(std::string(context.id())));
    if (r.empty()) {
      context.set_ttl(std::chrono::seconds(5));  // a short-lived "not found"
      return std::nullopt;
    }
    User user = row_to_user(r[0]);
    if (context.stale() != nullptr && *context.stale() == user) context.keep_stale();
    return user;
  };
  std::optional<User> decided;
  try {
    decided = bounded.get_or_load("1", load_deciding);
  } catch (const rediscache::LoadTimeout&) {
    // The database took longer than 2 s and there was no stale copy; the load goes on in the
    // background and caches its result for the next reader.
  }
  // [/README]
  if (decided && !(*decided == truth.at(1))) ++wrong;

  // 4b. Tags: a user's profile carries the tag of the user; an order placed (in any service)
  // invalidates every cached view of that user with one round trip, whatever their number.
  // [README:tags]
  rediscache::CacheOptions tagged_options;
  tagged_options.name = "demo_users_tagged";
  tagged_options.ttl = std::chrono::minutes(5);
  tagged_options.tags = rediscache::TagOptions{};  // shared by every cache that uses the tags
  rediscache::CacheAside<User> profiles(client, tagged_options);
  profiles.invalidate_all();

  const auto load_tagged = [&db](rediscache::LoadContext<User>& context) -> std::optional<User> {
    const pqxx::result r = db.exec_prepared("user_by_id", std::stoi(std::string(context.id())));
    if (r.empty()) return std::nullopt;
    context.set_tags({"user:" + std::string(context.id())});
    return row_to_user(r[0]);
  };
  const std::optional<User> user2 = profiles.get_or_load("2", load_tagged);  // loads, tags
  profiles.invalidate_tag("user:2");  // e.g. after an order of user 2: the next read reloads
  const std::optional<User> reloaded = profiles.get_or_load("2", load_tagged);
  // [/README]
  if (!user2 || !(*user2 == truth.at(2)) || !reloaded || !(*reloaded == truth.at(2))) ++wrong;

  // 4c. Auto-recovery: an invalidation Redis misses (a partition, a timeout) is queued and
  // replayed when Redis answers again, instead of failing the request that changed the row.
  // [README:recovery]
  // After `UPDATE users SET ... WHERE id = 1` committed:
  const rediscache::WriteResult invalidated = cache.invalidate("1");
  if (invalidated == rediscache::WriteResult::kQueued) {
    // Redis was unreachable: the DEL replays as soon as it answers (this process already reads
    // user 1 as a miss); cache.stats().recovery_pending counts what still waits.
  }
  // [/README]

  // 5. Checks: anything here means the cache returned something the database would not.
  const rediscache::CacheStats stats = cache.stats();
  int failures = 0;
  const auto check = [&](bool ok, const std::string& what) {
    std::cout << "  [" << (ok ? " ok " : "FAIL") << "] " << what << "\n";
    if (!ok) ++failures;
  };
  check(wrong == 0, "every answer equals PostgreSQL's (" + std::to_string(wrong) + " differ)");
  check(loader_calls <= distinct, "loader called at most once per distinct id (" +
                                      std::to_string(loader_calls) +
                                      " <= " + std::to_string(distinct) + ")");
  check(single.hits + single.misses == static_cast<std::uint64_t>(kRequests),
        "every read counted as a hit or a miss");
  check(after_warm.misses == single.misses, "the warm pass never missed");
  check(profiles.stats().tag_misses == 1 && profiles.stats().loads == 2,
        "the tag invalidation made the next read reload (tag_misses " +
            std::to_string(profiles.stats().tag_misses) + ")");
  check(invalidated == rediscache::WriteResult::kApplied && stats.recovery_pending == 0,
        "the invalidation reached Redis at once (nothing queued for recovery)");
  check(stats.redis_errors == 0 && stats.decode_errors == 0,
        "no Redis or decode errors (" + std::to_string(stats.redis_errors) + ", " +
            std::to_string(stats.decode_errors) + ")");
  check(batch_loader_calls <= static_cast<std::size_t>(kBatches),
        "at most one loader call per batch");
  if (speedup < 1.0) {
    std::cout << "  note: the cache was slower than PostgreSQL alone on this run (busy machine?)\n";
  }
  std::cout << (failures == 0 ? "\nOK\n" : "\nFAILED\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string conninfo = argc > 1 ? argv[1] : env_or("REDISCACHE_TEST_PG", "");
  const std::string host = argc > 2 ? argv[2] : env_or("REDISCACHE_TEST_REDIS_HOST", "127.0.0.1");
  const std::string port = argc > 3 ? argv[3] : env_or("REDISCACHE_TEST_REDIS_PORT", "6379");
  if (conninfo.empty()) {
    std::cerr << "usage: cache_aside_postgres [conninfo [redis_host [redis_port]]]\n"
                 "  (or set REDISCACHE_TEST_PG, REDISCACHE_TEST_REDIS_HOST/PORT)\n";
    return 2;
  }
  try {
    return run(conninfo, host, std::stoi(port));
  } catch (const std::exception& e) {
    std::cerr << "cache_aside_postgres: " << e.what() << '\n';
    return 2;
  }
}
