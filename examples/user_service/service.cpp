// Route handlers. Each one validates its input first (400 before any I/O), then calls one
// rediscache policy; failures map to statuses in one place (guarded()), so every route answers
// the same way when PostgreSQL or Redis is down.
#include "service.hpp"

#include <httplib.h>

#include <charconv>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace user_service {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kMaxIds = 100;
constexpr std::chrono::minutes kSessionTtl{30};

// Input the client got wrong: answered with 400 and this message.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void fail(httplib::Response& res, int status, std::string_view message) {
  reply(res, status, json{{"error", message}});
}

int parse_id(std::string_view text) {
  int id = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || text.front() == '-' || text.front() == '+' || ec != std::errc() ||
      ptr != end || id < 1) {
    throw BadRequest("id must be a positive integer");
  }
  return id;
}

json parse_object(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw BadRequest("malformed JSON");
  if (!body.is_object()) throw BadRequest("the body must be a JSON object");
  return body;
}

std::string string_field(const json& body, const char* name, std::size_t max, bool required) {
  const auto it = body.find(name);
  if (it == body.end()) {
    if (required) throw BadRequest(std::string("missing field \"") + name + "\"");
    return {};
  }
  if (!it->is_string()) throw BadRequest(std::string("\"") + name + "\" must be a string");
  std::string value = it->get<std::string>();
  if ((required && value.empty()) || value.size() > max) {
    throw BadRequest(std::string("\"") + name + "\" must be 1.." + std::to_string(max) + " bytes");
  }
  return value;
}

std::string cookie(const httplib::Request& req, std::string_view name) {
  const std::string header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return {};
}

// 128 random bits as hex: unique without coordination. Event ids need not be secret, so
// std::random_device (getrandom on Linux) is enough; the library's token source is private.
std::string new_event_id() {
  thread_local std::random_device device;
  std::string id;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(device()));
    id += buf;
  }
  return id;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Maps failures to statuses: the one place that decides what a client sees when something breaks.
// A Redis error reaches here only from routes whose state lives in Redis alone (events,
// sessions); reads of users never see one, because CacheAside answers from the loader.
template <class Fn>
void guarded(httplib::Response& res, Fn&& fn) {
  try {
    fn();
  } catch (const BadRequest& e) {
    fail(res, 400, e.what());
  } catch (const DatabaseUnavailable&) {
    res.set_header("Retry-After", "1");
    fail(res, 503, "database unavailable");
  } catch (const rediscache::Error&) {
    res.set_header("Retry-After", "1");
    fail(res, 503, "redis unavailable");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "user_service: internal error: %s\n", e.what());
    fail(res, 500, "internal error");
  }
}

// Per-thread timing of the request in progress: httplib runs pre-routing, the handler and the
// logger of one request on the same worker thread, one after the other.
thread_local std::chrono::steady_clock::time_point t_request_started;
thread_local bool t_request_timed = false;

// The route pattern of a request, for metric labels (never the raw path: bounded cardinality).
std::pair<const char*, const char*> route_of(const httplib::Request& req) {
  const std::string_view path = req.path;
  const std::string_view users = "/users/";
  const std::string& m = req.method;
  if (path.substr(0, users.size()) == users) {
    const std::string_view rest = path.substr(users.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      if (m == "GET") return {"GET", "/users/{id}"};
      if (m == "PUT") return {"PUT", "/users/{id}"};
    } else if (rest.substr(slash) == "/events" && m == "POST") {
      return {"POST", "/users/{id}/events"};
    }
  } else if (path == "/users" && m == "GET") {
    return {"GET", "/users"};
  } else if (path == "/login" && m == "POST") {
    return {"POST", "/login"};
  } else if (path == "/me" && m == "GET") {
    return {"GET", "/me"};
  } else if (path == "/metrics" && m == "GET") {
    return {"GET", "/metrics"};
  } else if (path == "/healthz" && m == "GET") {
    return {"GET", "/healthz"};
  }
  return {"", "other"};
}

const std::vector<std::pair<std::string, std::string>>& routes() {
  static const std::vector<std::pair<std::string, std::string>> kAll = {
      {"GET", "/users/{id}"}, {"PUT", "/users/{id}"}, {"POST", "/users/{id}/events"},
      {"GET", "/users"},      {"POST", "/login"},     {"GET", "/me"},
      {"GET", "/metrics"},    {"GET", "/healthz"}};
  return kAll;
}

rediscache::CacheOptions user_cache_options(const Config& config) {
  rediscache::CacheOptions options;
  options.name = "user_service_users";
  options.ttl = config.cache_ttl;
  options.negative_ttl = 30s;  // a "404" is cached too, or a scan of missing ids hits the database
  options.stale_window = config.stale_window;  // PostgreSQL down: serve what we had, marked stale
  if (config.near_cache) options.near_cache = rediscache::NearTierOptions{};
  return options;
}

rediscache::CacheOptions event_cache_options() {
  // WriteBehind keeps each event's value in a cache as well (readers of a record see a write at
  // once). Nothing reads events back here, so they live briefly.
  rediscache::CacheOptions options;
  options.name = "user_service_events";
  options.ttl = 1min;
  options.negative_ttl.reset();
  return options;
}

rediscache::GcraOptions limiter_options(const Config& config) {
  rediscache::GcraOptions options;
  options.burst = config.rate_burst;
  options.rate = config.rate_per_second;
  options.period = 1s;
  options.key_prefix = "user_service:ratelimit:";
  return options;
}

rediscache::SessionOptions session_options() {
  rediscache::SessionOptions options;
  options.key_prefix = "user_service:session:";
  options.ttl = kSessionTtl;
  return options;
}

// The near tier's figures. The library's CacheStats exporter does not include them, so the
// service writes them itself, under its own prefix.
void write_near_metrics(rediscache::MetricsWriter& out, const rediscache::NearCacheStats& s,
                        const rediscache::MetricLabels& labels) {
  const auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    out.counter(std::string("user_service_near_cache_") + name, help, static_cast<double>(v),
                labels);
  };
  counter("hits_total", "Reads answered by the in-process tier", s.hits);
  counter("misses_total", "Reads the in-process tier could not answer", s.misses);
  counter("expired_total", "Entries dropped on access because their lifetime ended", s.expired);
  counter("inserts_total", "Values stored in the in-process tier", s.inserts);
  counter("rejected_total", "Values refused (too large, or lost admission)", s.rejected);
  counter("stale_fetches_total", "Fetched values dropped because an invalidation came first",
          s.stale_fetches);
  counter("evictions_total", "Entries evicted to stay within bounds", s.evictions);
  counter("invalidations_total", "Entries dropped by invalidations", s.invalidations);
  counter("flushes_total", "Whole-tier flushes (explicit, or on invalidation-link loss)",
          s.flushes);
  out.gauge("user_service_near_cache_entries", "Entries held now", static_cast<double>(s.entries),
            labels);
  out.gauge("user_service_near_cache_bytes", "Bytes held now", static_cast<double>(s.bytes),
            labels);
  out.gauge("user_service_near_cache_enabled",
            "1 while the tier serves (its invalidation link is up)", s.enabled ? 1 : 0, labels);
}

}  // namespace

UserService::UserService(const Config& config, Database& db, const rediscache::Client& redis)
    : config_(config),
      db_(db),
      redis_(redis),
      users_(redis, user_cache_options(config)),
      load_user_([&db](std::string_view id) { return db.user(std::stoi(std::string(id))); }),
      load_users_([&db](const std::vector<std::string>& ids) { return db.users(ids); }),
      user_writes_(users_, [&db](std::string_view, const User& user) { db.upsert_user(user); }),
      event_cache_(redis, event_cache_options()),
      limiter_(redis, limiter_options(config)),
      sessions_(redis, session_options()),
      http_(routes()) {}

UserService::~UserService() = default;

rediscache::WriteBehind<Event>& UserService::events() {
  if (auto* ready = events_ready_.load(std::memory_order_acquire)) return *ready;
  // Created on first use: the constructor creates the stream in Redis (one round trip), and the
  // service must start, and serve reads, while Redis is down.
  std::lock_guard<std::mutex> lock(events_mu_);
  if (!events_) {
    rediscache::WriteBehindOptions options;
    options.queue = "user_service_events";
    options.max_batch = 500;
    Database& db = db_;
    events_ = std::make_unique<rediscache::WriteBehind<Event>>(
        event_cache_,
        [&db](const std::vector<rediscache::WriteOp<Event>>& ops) { db.insert_events(ops); },
        options);
    events_ready_.store(events_.get(), std::memory_order_release);
  }
  return *events_;
}

bool UserService::flush_events(std::chrono::milliseconds timeout) {
  rediscache::WriteBehind<Event>* events = events_ready_.load(std::memory_order_acquire);
  if (events == nullptr) return true;  // nothing was ever queued by this process
  try {
    return events->flush(timeout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "user_service: flushing events failed: %s\n", e.what());
    return false;
  }
}

std::optional<User> UserService::find_user(int id) {
  if (!config_.cache) return db_.user(id);
  return users_.get_or_load(std::to_string(id), load_user_);
}

bool UserService::rate_limited(const httplib::Request& req, httplib::Response& res) {
  // Probes and scrapes are exempt: a client flooding from the monitoring host's address must not
  // make the service look dead to its orchestrator, nor blind its dashboards.
  if (req.path == "/healthz" || req.path == "/metrics") return false;
  const Clock::rep now = Clock::now().time_since_epoch().count();
  if (now < limiter_bypass_until_.load(std::memory_order_relaxed)) {
    limiter_bypassed_.add();
    return false;
  }
  try {
    const rediscache::Decision d = limiter_.check(req.remote_addr);
    if (d.allowed) return false;
    const long long seconds = (d.retry_after.count() + 999) / 1000;
    res.set_header("Retry-After", std::to_string(seconds < 1 ? 1 : seconds));
    fail(res, 429, "rate limit exceeded");
    return true;
  } catch (const std::exception&) {
    // Fail open: a dead Redis must not take the service down. For one second, skip the limiter
    // instead of paying a failed round trip (or a timeout) on every request.
    limiter_bypass_until_.store(
        now + std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)).count(),
        std::memory_order_relaxed);
    limiter_bypassed_.add();
    return false;
  }
}

void UserService::install(httplib::Server& server) {
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_started = std::chrono::steady_clock::now();
    t_request_timed = true;
    return rate_limited(req, res) ? httplib::Server::HandlerResponse::Handled
                                  : httplib::Server::HandlerResponse::Unhandled;
  });
  // The logger runs after every response, whichever produced it (a handler, the rate limiter,
  // httplib's own 404/413): the one place that sees them all.
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const auto [method, route] = route_of(req);
    std::chrono::nanoseconds latency{0};
    if (t_request_timed) latency = std::chrono::steady_clock::now() - t_request_started;
    t_request_timed = false;
    http_.record(http_.route(method, route), res.status, latency);
  });
  const auto handle = [this](void (UserService::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { (this->*fn)(req, res); });
    };
  };
  // [^/]+ rather than \d+: a malformed id gets a 400 that says why, not a 404.
  server.Get(R"(/users/([^/]+))", handle(&UserService::get_user));
  server.Get("/users", handle(&UserService::get_users));
  server.Put(R"(/users/([^/]+))", handle(&UserService::put_user));
  server.Post(R"(/users/([^/]+)/events)", handle(&UserService::post_event));
  server.Post("/login", handle(&UserService::login));
  server.Get("/me", handle(&UserService::me));
  server.Get("/healthz", handle(&UserService::healthz));
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
}

void UserService::get_user(const httplib::Request& req, httplib::Response& res) {
  const int id = parse_id(req.matches[1].str());
  const std::optional<User> user = find_user(id);
  if (!user) return fail(res, 404, "no such user");
  reply(res, 200, *user);
}

void UserService::get_users(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_param("ids")) throw BadRequest("missing query parameter ids=1,2,3");
  const std::string list = req.get_param_value("ids");
  std::vector<std::string> ids;
  std::unordered_set<int> seen;
  std::string_view rest = list;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const int id = parse_id(rest.substr(0, comma));
    if (seen.insert(id).second) ids.push_back(std::to_string(id));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (ids.size() > kMaxIds) throw BadRequest("at most 100 ids per request");
  json found = json::array();
  json not_found = json::array();
  if (config_.cache) {
    const std::vector<std::optional<User>> users = users_.get_many(ids, load_users_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (users[i]) {
        found.push_back(*users[i]);
      } else {
        not_found.push_back(std::stoi(ids[i]));
      }
    }
  } else {
    const auto users = db_.users(ids);
    for (const std::string& id : ids) {
      const auto it = users.find(id);
      if (it != users.end()) {
        found.push_back(it->second);
      } else {
        not_found.push_back(std::stoi(id));
      }
    }
  }
  reply(res, 200, json{{"users", found}, {"not_found", not_found}});
}

void UserService::put_user(const httplib::Request& req, httplib::Response& res) {
  const int id = parse_id(req.matches[1].str());
  const json body = parse_object(req);
  for (const auto& item : body.items()) {
    if (item.key() != "name" && item.key() != "email" && item.key() != "bio") {
      throw BadRequest("unknown field \"" + item.key() + "\"");
    }
  }
  User user;
  user.id = id;
  user.name = string_field(body, "name", 200, true);
  user.email = string_field(body, "email", 200, true);
  user.bio = string_field(body, "bio", 4000, false);
  if (user.email.find('@') == std::string::npos) throw BadRequest("\"email\" needs an @");
  // The order summary is derived data this route does not change: read it from the database
  // (not the cache, which may be up to a TTL old) so the cached profile is whole.
  if (const std::optional<User> current = db_.user(id)) {
    user.orders = current->orders;
    user.spent = current->spent;
  }
  if (config_.cache) {
    // Database first, then the cache, under a per-id lock: the cache never holds a value the
    // database refused. kCacheFailed (Redis down) still means the database has the write.
    (void)user_writes_.write(std::to_string(id), user);
  } else {
    db_.upsert_user(user);
  }
  reply(res, 200, user);
}

void UserService::post_event(const httplib::Request& req, httplib::Response& res) {
  const int id = parse_id(req.matches[1].str());
  const json body = parse_object(req);
  Event event;
  event.user_id = id;
  event.type = string_field(body, "type", 64, true);
  for (const char c : event.type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
      throw BadRequest("\"type\" may hold only a-z, 0-9, '_' and '.'");
    }
  }
  if (const auto it = body.find("data"); it != body.end()) event.data = it->dump();
  event.at_ms = now_ms();
  if (!find_user(id)) return fail(res, 404, "no such user");
  // The id makes each event its own record: write-behind coalesces writes of one id.
  const std::string event_id = new_event_id();
  events().write(event_id, event);  // queued in Redis; PostgreSQL gets it in the next batch
  reply(res, 202, json{{"event_id", event_id}});
}

void UserService::login(const httplib::Request& req, httplib::Response& res) {
  const json body = parse_object(req);
  const auto it = body.find("user_id");
  if (it == body.end() || !it->is_number_integer() || it->get<long long>() < 1 ||
      it->get<long long>() > std::numeric_limits<int>::max()) {
    throw BadRequest("\"user_id\" must be a positive integer");
  }
  const int id = it->get<int>();
  // The demo has no credentials table, so knowing a user id is enough to log in; a real service
  // checks a password or a token here, before creating the session.
  const std::optional<User> user = find_user(id);
  if (!user) return fail(res, 401, "unknown user");
  if (const std::string old = cookie(req, "sid"); !old.empty()) {
    try {
      sessions_.destroy(old);  // a login always starts a fresh session (no fixation)
    } catch (const std::invalid_argument&) {
      // a malformed old cookie: nothing to destroy
    }
  }
  const std::string sid = sessions_.create({{"user_id", id}, {"name", user->name}});
  res.set_header("Set-Cookie", "sid=" + sid + "; Path=/; Max-Age=" +
                                   std::to_string(std::chrono::seconds(kSessionTtl).count()) +
                                   "; HttpOnly; Secure; SameSite=Lax");
  reply(res, 200, json{{"user_id", id}});
}

void UserService::me(const httplib::Request& req, httplib::Response& res) {
  const std::string sid = cookie(req, "sid");
  if (sid.empty()) return fail(res, 401, "not logged in");
  std::optional<rediscache::Session> session;
  try {
    session = sessions_.get(sid, rediscache::SessionExpiry::kSlide);
  } catch (const std::invalid_argument&) {
    return fail(res, 401, "not logged in");  // not an id we could have issued
  }
  if (!session) return fail(res, 401, "session expired");
  const std::optional<long long> id = session->integer("user_id");
  const std::optional<User> user = id ? find_user(static_cast<int>(*id)) : std::optional<User>();
  if (!user) return fail(res, 401, "session user no longer exists");
  reply(res, 200, json{{"user", *user}});
}

void UserService::healthz(const httplib::Request&, httplib::Response& res) {
  // Only the database decides: without it nothing can be answered, while a dead Redis only
  // makes the service slower (reads fall back to PostgreSQL).
  const bool database = db_.ping();
  bool redis = false;
  try {
    redis_.ping();
    redis = true;
  } catch (const std::exception&) {
    redis = false;
  }
  reply(res, database ? 200 : 503,
        json{{"status", database ? "ok" : "unavailable"},
             {"database", database ? "up" : "down"},
             {"redis", redis ? "up" : "down"}});
}

std::string UserService::metrics_text() {
  rediscache::PrometheusWriter out;
  write_metrics(out, redis_.pool().stats(), {{"pool", "redis"}});
  const rediscache::CacheStats users = users_.stats();
  write_metrics(out, users, {{"cache", "users"}});
  write_metrics(out, event_cache_.stats(), {{"cache", "events"}});
  write_near_metrics(out, users.near, {{"cache", "users"}});
  write_metrics(out, user_writes_.stats(), {{"cache", "users"}});
  if (auto* events = events_ready_.load(std::memory_order_acquire)) {
    try {
      write_metrics(out, events->stats(), {{"queue", "events"}});  // reads the queue's depth
    } catch (const std::exception&) {
      // Redis down: the queue's figures are unknown for this scrape; the rest still is
    }
  }
  write_metrics(out, limiter_.stats(), {{"limiter", "per_client"}});
  out.counter("user_service_rate_limiter_bypassed_total",
              "Requests let through unchecked because Redis was unreachable",
              static_cast<double>(limiter_bypassed_.value()), {});
  write_metrics(out, sessions_.stats(), {{"store", "sessions"}});
  out.counter("user_service_db_queries_total", "SQL statements sent to PostgreSQL",
              static_cast<double>(db_.queries()), {});
  out.gauge("user_service_cache_enabled", "1 when reads go through the cache",
            config_.cache ? 1 : 0, {});
  http_.write(out);
  return out.text() + http_.histogram_text();
}

}  // namespace user_service
