// The service's SQL. Statements are prepared once per connection; ids always travel as bind
// parameters (a list of ids as one int[] parameter), never spliced into SQL text.
#include "database.hpp"

#include <utility>

#include <pqxx/pqxx>

namespace user_service {
namespace {

constexpr int kSeedUsers = 10'000;

// A profile: the row plus its order summary (the JOIN + GROUP BY that makes a load cost).
const std::string kProfile =
    "SELECT u.id, u.name, u.email, u.bio, count(o.id) AS orders, "
    "coalesce(sum(o.amount), 0)::text AS spent "
    "FROM users u LEFT JOIN orders o ON o.user_id = u.id ";

User row_to_user(const pqxx::row& row) {
  return User{
      row["id"].as<int>(),          row["name"].as<std::string>(), row["email"].as<std::string>(),
      row["bio"].as<std::string>(), row["orders"].as<long long>(), row["spent"].as<std::string>()};
}

std::string int_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(std::stoi(ids[i]));  // the routes validated them; this re-checks
  }
  return out + "}";
}

void prepare(pqxx::connection* conn) {
  conn->prepare("user_by_id", kProfile + "WHERE u.id = $1 GROUP BY u.id");
  conn->prepare("users_by_ids", kProfile + "WHERE u.id = ANY($1::int[]) GROUP BY u.id");
  conn->prepare("upsert_user",
                "INSERT INTO users (id, name, email, bio) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, "
                "bio = EXCLUDED.bio");
}

}  // namespace

struct Database::Connection {
  explicit Connection(const std::string& uri) : conn(uri) { prepare(&conn); }
  pqxx::connection conn;
};

// A connection taken from the pool; returned on destruction unless it broke.
class Database::Lease {
 public:
  explicit Lease(Database& db) : db_(db) {
    std::unique_lock<std::mutex> lock(db_.mu_);
    db_.cv_.wait(lock, [&] { return !db_.idle_.empty() || db_.free_slots_ > 0; });
    if (!db_.idle_.empty()) {
      conn_ = std::move(db_.idle_.back());
      db_.idle_.pop_back();
      return;
    }
    --db_.free_slots_;
    lock.unlock();  // connecting is network I/O: never under the mutex
    try {
      conn_ = std::make_unique<Connection>(db_.uri_);
    } catch (const std::exception& e) {
      give_back(nullptr);
      throw DatabaseUnavailable(std::string("PostgreSQL connect failed: ") + e.what());
    }
  }
  ~Lease() { give_back(std::move(conn_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  pqxx::connection& conn() { return conn_->conn; }
  void drop() noexcept { conn_.reset(); }

 private:
  void give_back(std::unique_ptr<Connection> conn) noexcept {
    {
      std::lock_guard<std::mutex> lock(db_.mu_);
      if (conn) {
        db_.idle_.push_back(std::move(conn));
      } else {
        ++db_.free_slots_;
      }
    }
    db_.cv_.notify_one();
  }

  Database& db_;
  std::unique_ptr<Connection> conn_;
};

Database::Database(std::string uri, std::size_t connections)
    : uri_(std::move(uri)), free_slots_(connections) {}

Database::~Database() = default;

template <class Fn>
auto Database::run(std::size_t statements, Fn&& fn) {
  Lease lease(*this);
  queries_.fetch_add(statements, std::memory_order_relaxed);
  try {
    return fn(lease.conn());
  } catch (const pqxx::broken_connection& e) {
    lease.drop();  // reconnect on a later lease
    throw DatabaseUnavailable(std::string("PostgreSQL connection lost: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    lease.drop();
    throw DatabaseUnavailable(std::string("PostgreSQL commit in doubt: ") + e.what());
  }
}

void Database::ensure_schema() {
  run(1, [](pqxx::connection& conn) {
    pqxx::work tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS users (id integer PRIMARY KEY, name text NOT NULL, "
        "email text NOT NULL, bio text NOT NULL DEFAULT '')");
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, "
        "user_id integer NOT NULL, amount numeric(12,2) NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now())");
    tx.exec0("CREATE INDEX IF NOT EXISTS orders_user_id ON orders (user_id)");
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS events (id text PRIMARY KEY, user_id integer NOT NULL, "
        "type text NOT NULL, data jsonb NOT NULL, created_at timestamptz NOT NULL)");
    const int rows =
        tx.exec_params1("SELECT count(*) FROM users WHERE id BETWEEN 1 AND $1", kSeedUsers)[0]
            .as<int>();
    if (rows < kSeedUsers) {
      tx.exec_params0(
          "INSERT INTO users (id, name, email, bio) "
          "SELECT g, 'user ' || g, 'user' || g || '@example.org', "
          "repeat('bio of user ' || g || '. ', 12) "
          "FROM generate_series(1, $1) AS g ON CONFLICT (id) DO NOTHING",
          kSeedUsers);
    }
    if (tx.exec1("SELECT count(*) FROM orders")[0].as<long long>() == 0) {
      tx.exec_params0(
          "INSERT INTO orders (user_id, amount, created_at) "
          "SELECT u, ((u * 37 + k * 11) % 500) + 0.99, now() - k * interval '1 day' "
          "FROM generate_series(1, $1) AS u, generate_series(1, 10) AS k",
          kSeedUsers);
      tx.exec0("ANALYZE users");
      tx.exec0("ANALYZE orders");
    }
    tx.commit();
  });
}

std::optional<User> Database::user(int id) {
  return run(1, [id](pqxx::connection& conn) -> std::optional<User> {
    pqxx::nontransaction tx(conn);  // one statement: no BEGIN/COMMIT round trips
    const pqxx::result r = tx.exec_prepared("user_by_id", id);
    if (r.empty()) return std::nullopt;
    return row_to_user(r[0]);
  });
}

std::unordered_map<std::string, User> Database::users(const std::vector<std::string>& ids) {
  const std::string array = int_array(ids);
  return run(1, [&array](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::unordered_map<std::string, User> out;
    for (const pqxx::row& row : tx.exec_prepared("users_by_ids", array)) {
      out.emplace(row["id"].as<std::string>(), row_to_user(row));
    }
    return out;
  });
}

void Database::upsert_user(const User& user) {
  run(1, [&user](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    tx.exec_prepared0("upsert_user", user.id, user.name, user.email, user.bio);
  });
}

void Database::insert_events(const std::vector<rediscache::WriteOp<Event>>& ops) {
  // One multi-row INSERT per batch: the point of write-behind is fewer, larger transactions.
  std::vector<std::string> params;
  std::string rows;
  for (const rediscache::WriteOp<Event>& op : ops) {
    // Events are only ever added; a kRemove could come only from code that is not in this
    // service, and there is nothing to undo for it.
    if (op.kind != rediscache::WriteKind::kUpsert || !op.value) continue;
    const std::size_t n = params.size();
    rows += (rows.empty() ? "($" : ", ($") + std::to_string(n + 1) + ", $" + std::to_string(n + 2) +
            "::int, $" + std::to_string(n + 3) + ", $" + std::to_string(n + 4) +
            "::jsonb, to_timestamp($" + std::to_string(n + 5) + "::bigint / 1000.0))";
    params.insert(params.end(), {op.id, std::to_string(op.value->user_id), op.value->type,
                                 op.value->data, std::to_string(op.value->at_ms)});
  }
  if (params.empty()) return;
  run(1, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    tx.exec_params0("INSERT INTO events (id, user_id, type, data, created_at) VALUES " + rows +
                        " ON CONFLICT (id) DO NOTHING",
                    pqxx::prepare::make_dynamic_params(params));
    tx.commit();
  });
}

bool Database::ping() noexcept {
  try {
    run(1, [](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      tx.exec1("SELECT 1");
    });
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace user_service
