// The demo's question, answered by PostgreSQL alone and through CacheAside (hits): a customer's
// profile with their order count, total spent and last order date, over 10,000 customers and
// 200,000 orders (indexed). BM_Lib_DemoQuery against BM_Postgres_DemoQuery is the speed-up.
#include <cstdlib>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench_common.hpp"
#include "rediscache/cache/cache_aside.hpp"

namespace bench_model {

struct CustomerSummary {
  long long id = 0;
  std::string name;
  std::string email;
  long long orders = 0;
  double total = 0;
  std::string last_order;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CustomerSummary, id, name, email, orders, total, last_order)

}  // namespace bench_model

namespace rediscache::bench {
namespace {

using bench_model::CustomerSummary;

constexpr int kCustomers = 10000;
constexpr int kHotCustomers = 100;  // the ids the benchmark reads, round robin

std::optional<std::string> postgres_conninfo() {
  const char* conninfo = std::getenv("REDISCACHE_TEST_PG");
  if (conninfo == nullptr || *conninfo == '\0') return std::nullopt;
  return std::string(conninfo);
}

constexpr const char* kQuery =
    "SELECT c.id, c.name, c.email, count(o.id), coalesce(sum(o.amount), 0), "
    "coalesce(max(o.created_at)::text, '') "
    "FROM bench_demo.customers c LEFT JOIN bench_demo.orders o ON o.customer_id = c.id "
    "WHERE c.id = $1 GROUP BY c.id";

// Creates and fills the schema once per database (idempotent).
void prepare_schema(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec0("CREATE SCHEMA IF NOT EXISTS bench_demo");
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS bench_demo.customers (id bigint PRIMARY KEY, name text NOT "
      "NULL, email text NOT NULL)");
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS bench_demo.orders (id bigserial PRIMARY KEY, customer_id "
      "bigint NOT NULL, amount numeric(10,2) NOT NULL, created_at timestamptz NOT NULL)");
  tx.exec0("CREATE INDEX IF NOT EXISTS orders_customer ON bench_demo.orders (customer_id)");
  if (tx.exec1("SELECT count(*) FROM bench_demo.customers")[0].as<long long>() == 0) {
    tx.exec0(
        "INSERT INTO bench_demo.customers SELECT i, 'Customer ' || i, 'c' || i || "
        "'@example.com' FROM generate_series(1, " +
        std::to_string(kCustomers) + ") i");
    tx.exec0("INSERT INTO bench_demo.orders (customer_id, amount, created_at) SELECT 1 + (i % " +
             std::to_string(kCustomers) +
             "), (i % 500) + 0.99, now() - (i || ' minutes')::interval "
             "FROM generate_series(1, 200000) i");
    tx.exec0("ANALYZE bench_demo.customers");
    tx.exec0("ANALYZE bench_demo.orders");
  }
  tx.commit();
}

class Database {
 public:
  explicit Database(const std::string& conninfo) : conn_(conninfo) {
    prepare_schema(conn_);
    conn_.prepare("summary", kQuery);
  }
  std::optional<CustomerSummary> summary(long long id) {
    pqxx::nontransaction tx(conn_);
    const pqxx::result rows = tx.exec_prepared("summary", id);
    if (rows.empty()) return std::nullopt;
    const auto row = rows[0];
    return CustomerSummary{row[0].as<long long>(),   row[1].as<std::string>(),
                           row[2].as<std::string>(), row[3].as<long long>(),
                           row[4].as<double>(),      row[5].as<std::string>()};
  }

 private:
  pqxx::connection conn_;
};

void BM_Postgres_DemoQuery(benchmark::State& state) {
  const auto conninfo = postgres_conninfo();
  if (!conninfo) {
    state.SkipWithError("REDISCACHE_TEST_PG is not set: no PostgreSQL to measure");
    return;
  }
  Database db(*conninfo);
  long long i = 0;
  for (auto _ : state) {
    auto row = db.summary(1 + (i++ % kHotCustomers));
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lib_DemoQuery(benchmark::State& state) {
  const auto conninfo = postgres_conninfo();
  const auto ep = require_redis(state);
  if (!ep) return;
  if (!conninfo) {
    state.SkipWithError("REDISCACHE_TEST_PG is not set: no PostgreSQL to measure");
    return;
  }
  Database db(*conninfo);
  CacheOptions options;
  options.name = "bench-demo";
  options.ttl = std::chrono::minutes(5);
  CacheAside<CustomerSummary> cache(shared_client(*ep, 1), options);
  auto loader = [&db](std::string_view id) { return db.summary(std::stoll(std::string(id))); };
  std::vector<std::string> ids;
  for (int i = 1; i <= kHotCustomers; ++i) ids.push_back(std::to_string(i));
  for (const auto& id : ids) cache.get_or_load(id, loader);  // warm: the steady state is hits
  long long i = 0;
  for (auto _ : state) {
    auto row = cache.get_or_load(ids[static_cast<std::size_t>(i++ % kHotCustomers)], loader);
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(state.iterations());
  const CacheStats stats = cache.stats();
  state.counters["loads"] = static_cast<double>(stats.loads);
  state.counters["hits"] = static_cast<double>(stats.hits);
  state.counters["redis_errors"] = static_cast<double>(stats.redis_errors);
}

BENCHMARK(BM_Postgres_DemoQuery)->UseRealTime();
BENCHMARK(BM_Lib_DemoQuery)->UseRealTime();

}  // namespace
}  // namespace rediscache::bench

REDISCACHE_BENCH_MAIN()
