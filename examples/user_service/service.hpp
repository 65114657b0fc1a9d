// The routes and their handlers: what each HTTP request does with the cache policies, the rate
// limiter and the session store of rediscache, and how failures become status codes.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "config.hpp"
#include "database.hpp"
#include "http_metrics.hpp"
#include "model.hpp"
#include <rediscache/rediscache.hpp>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace user_service {

/// Owns the rediscache components and serves the routes (see install()). Thread-safe: the HTTP
/// workers call the handlers concurrently; every component it holds is thread-safe.
class UserService {
 public:
  /// Builds the components; contacts neither Redis nor PostgreSQL (so the service starts while
  /// Redis is down; the write-behind queue is then created on the first event).
  UserService(const Config& config, Database& db, const rediscache::Client& redis);
  ~UserService();
  UserService(const UserService&) = delete;
  UserService& operator=(const UserService&) = delete;

  /// Registers the routes, the rate limiter (a pre-routing step) and the request metrics.
  void install(httplib::Server& server);

  /// Waits until every event queued so far is in PostgreSQL (or `timeout` passed); false when
  /// it could not be confirmed. For shutdown: call after the server stopped accepting requests.
  bool flush_events(std::chrono::milliseconds timeout);

  /// The Prometheus text of /metrics.
  [[nodiscard]] std::string metrics_text();

 private:
  using Clock = std::chrono::steady_clock;

  bool rate_limited(const httplib::Request& req, httplib::Response& res);
  rediscache::WriteBehind<Event>& events();
  std::optional<User> find_user(int id);

  void get_user(const httplib::Request& req, httplib::Response& res);
  void get_users(const httplib::Request& req, httplib::Response& res);
  void put_user(const httplib::Request& req, httplib::Response& res);
  void post_event(const httplib::Request& req, httplib::Response& res);
  void login(const httplib::Request& req, httplib::Response& res);
  void me(const httplib::Request& req, httplib::Response& res);
  void healthz(const httplib::Request& req, httplib::Response& res);

  Config config_;
  Database& db_;
  rediscache::Client redis_;
  rediscache::CacheAside<User> users_;
  rediscache::CacheAside<User>::Loader load_user_;
  rediscache::CacheAside<User>::BatchLoader load_users_;
  rediscache::WriteThrough<User> user_writes_;
  rediscache::CacheAside<Event> event_cache_;
  std::mutex events_mu_;
  std::unique_ptr<rediscache::WriteBehind<Event>> events_;  // guarded by events_mu_ (creation)
  std::atomic<rediscache::WriteBehind<Event>*> events_ready_{nullptr};
  rediscache::GcraLimiter limiter_;
  std::atomic<Clock::rep> limiter_bypass_until_{0};
  rediscache::Counter limiter_bypassed_;
  rediscache::SessionStore sessions_;
  HttpMetrics http_;
};

}  // namespace user_service
