// PostgreSQL access for the service: a small pool of libpq connections (a pqxx::connection is not
// thread-safe, and the HTTP workers run in parallel) and the handful of statements the routes
// need. Counts every statement, so /metrics can say how many queries a request cost.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "model.hpp"
#include <rediscache/rediscache.hpp>

namespace user_service {

/// PostgreSQL could not be reached (connection refused, dropped mid-query). Handlers answer 503;
/// any other database error is a bug and answers 500.
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thread-safe: each call leases one connection of the pool for its duration. A connection that
/// broke is dropped and replaced on a later lease, so the service recovers by itself when
/// PostgreSQL comes back.
class Database {
 public:
  /// Does not connect: connections are opened on first use.
  Database(std::string uri, std::size_t connections);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Creates the users and orders tables of examples/cache_aside_postgres.cpp (10,000 users with
  /// 10 orders each) when absent, and the events table.
  void ensure_schema();

  /// One user's profile (row + order summary), or nullopt when there is no such user.
  std::optional<User> user(int id);
  /// The profiles of the ids that exist, keyed by id (one query).
  std::unordered_map<std::string, User> users(const std::vector<std::string>& ids);
  /// Creates or replaces a user's row (the order summary is not written: it is derived).
  void upsert_user(const User& user);
  /// Writes a batch of queued events in one transaction. Idempotent (ON CONFLICT DO NOTHING):
  /// write-behind delivers at least once.
  void insert_events(const std::vector<rediscache::WriteOp<Event>>& ops);
  /// Whether a trivial query succeeds now.
  bool ping() noexcept;

  /// Statements sent so far (every call above counts its statements).
  [[nodiscard]] std::uint64_t queries() const noexcept { return queries_.load(); }

 private:
  struct Connection;  // a pqxx::connection; libpqxx stays out of this header
  class Lease;
  template <class Fn>
  auto run(std::size_t statements, Fn&& fn);

  std::string uri_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::size_t free_slots_;                         // guarded by mu_
  std::atomic<std::uint64_t> queries_{0};
};

}  // namespace user_service
