#include "rediscache/net/connection_pool.hpp"

#include <optional>
#include <utility>

#include "net/connection.hpp"
#include "net/multiplexer.hpp"
#include "net/pool_state.hpp"
#include "net/tls.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace detail {

namespace {
ConnectionOptions validated(ConnectionOptions options) {
  options.validate();
  return options;
}
PoolOptions validated(PoolOptions options) {
  options.validate();
  return options;
}
}  // namespace

PoolState::PoolState(ConnectionOptions connection, PoolOptions pool)
    : connection_options(validated(std::move(connection))),
      pool_options(validated(pool)),
      endpoint(connection_options.endpoint()),
      tls(connection_options.tls.enabled ? make_tls_context(connection_options.tls) : nullptr) {
  if (pool_options.multiplex) multiplexer = std::make_unique<Multiplexer>(*this);
}

PoolState::~PoolState() = default;

std::unique_ptr<Connection> PoolState::acquire(bool wait) {
  using Clock = Connection::Clock;
  std::optional<Clock::time_point> wait_started;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      const auto now = Clock::now();
      if (reusable(*connection, now)) {
        if (wait_started) record_wait(now - *wait_started);
        leases_.fetch_add(1, std::memory_order_relaxed);
        return connection;
      }
      connection.reset();
      discarded_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      --open_;
      continue;
    }
    if (open_ < pool_options.size) {
      ++open_;
      lock.unlock();
      try {
        auto connection = std::make_unique<Connection>(connection_options, tls);
        created_.fetch_add(1, std::memory_order_relaxed);
        if (wait_started) record_wait(Clock::now() - *wait_started);
        leases_.fetch_add(1, std::memory_order_relaxed);
        return connection;
      } catch (...) {
        connect_failures_.fetch_add(1, std::memory_order_relaxed);
        forget_one();
        throw;
      }
    }
    if (!wait) return nullptr;
    if (!wait_started) {
      wait_started = Clock::now();
      waits_.fetch_add(1, std::memory_order_relaxed);
    }
    const auto deadline = detail::saturating_deadline(*wait_started, pool_options.wait_timeout);
    const bool ready = cv_.wait_until(
        lock, deadline, [this] { return !idle_.empty() || open_ < pool_options.size; });
    if (!ready) {
      lock.unlock();
      wait_timeouts_.fetch_add(1, std::memory_order_relaxed);
      record_wait(Clock::now() - *wait_started);
      throw PoolExhausted("redis " + endpoint + ": no connection free within " +
                          std::to_string(pool_options.wait_timeout.count()) + " ms (pool size " +
                          std::to_string(pool_options.size) + ")");
    }
  }
}

bool PoolState::reusable(Connection& connection, Connection::Clock::time_point now) noexcept {
  if (connection.broken()) return false;
  if (pool_options.max_idle_time && now - connection.last_used() > *pool_options.max_idle_time) {
    return false;
  }
  if (pool_options.max_lifetime && now - connection.created_at() > *pool_options.max_lifetime) {
    return false;
  }
  if (pool_options.check_liveness_after_idle &&
      now - connection.last_used() >= *pool_options.check_liveness_after_idle &&
      !connection.probe_alive()) {
    return false;
  }
  if (pool_options.ping_after_idle &&
      now - connection.last_used() > *pool_options.ping_after_idle) {
    try {
      const Reply pong = connection.command({"PING"});
      if (pong.is_error()) return false;
    } catch (...) {
      return false;
    }
  }
  return true;
}

void PoolState::give_back(std::unique_ptr<Connection> connection) noexcept {
  const auto now = Connection::Clock::now();
  bool keep = !connection->broken() && connection->pending() == 0;
  if (keep && pool_options.max_lifetime &&
      now - connection->created_at() > *pool_options.max_lifetime) {
    keep = false;
  }
  if (!keep) {
    connection.reset();  // closes the socket outside the lock
    discarded_.fetch_add(1, std::memory_order_relaxed);
    forget_one();
    return;
  }
  connection->touch(now);
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(connection));
  }
  cv_.notify_one();
}

void PoolState::forget_one() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  }
  cv_.notify_one();
}

void PoolState::drain() noexcept {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing.swap(idle_);
    open_ -= closing.size();
  }
  discarded_.fetch_add(closing.size(), std::memory_order_relaxed);
  closing.clear();
  cv_.notify_all();
}

void PoolState::record_wait(std::chrono::nanoseconds waited) noexcept {
  const auto ns = waited.count();
  wait_ns_total_.fetch_add(ns, std::memory_order_relaxed);
  auto max = wait_ns_max_.load(std::memory_order_relaxed);
  while (ns > max && !wait_ns_max_.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
  }
}

PoolStats PoolState::stats() const {
  PoolStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.idle = idle_.size();
    s.in_use = open_ - idle_.size();
  }
  s.size = pool_options.size;
  s.created = created_.load(std::memory_order_relaxed);
  s.connect_failures = connect_failures_.load(std::memory_order_relaxed);
  s.discarded = discarded_.load(std::memory_order_relaxed);
  s.leases = leases_.load(std::memory_order_relaxed);
  s.waits = waits_.load(std::memory_order_relaxed);
  s.wait_timeouts = wait_timeouts_.load(std::memory_order_relaxed);
  s.wait_time_total = std::chrono::nanoseconds(wait_ns_total_.load(std::memory_order_relaxed));
  s.wait_time_max = std::chrono::nanoseconds(wait_ns_max_.load(std::memory_order_relaxed));
  if (multiplexer) {
    s.multiplexed_requests = multiplexer->requests();
    s.multiplexed_writes = multiplexer->writes();
  }
  return s;
}

}  // namespace detail

// --- Lease -------------------------------------------------------------------------------

Lease::Lease(detail::PoolState* pool, std::unique_ptr<detail::Connection> connection) noexcept
    : pool_(pool), connection_(std::move(connection)) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Lease::~Lease() { release(); }

void Lease::release() noexcept {
  if (connection_ && pool_ != nullptr) pool_->give_back(std::move(connection_));
  connection_.reset();
  pool_ = nullptr;
}

Reply Lease::command(ArgList argv) { return connection_->command(argv); }

void Lease::append(ArgList argv) { connection_->append(argv); }

Reply Lease::read_reply(std::string_view command_name) {
  return connection_->read_reply(command_name);
}

void Lease::set_read_timeout(std::optional<std::chrono::milliseconds> timeout) {
  if (timeout) {
    connection_->set_timeout(*timeout);
  } else {
    connection_->restore_timeout();
  }
}

void Lease::discard() noexcept { connection_->mark_broken(); }

bool Lease::broken() const noexcept { return connection_->broken(); }

const std::string& Lease::endpoint() const noexcept { return connection_->endpoint(); }

// --- ConnectionPool ----------------------------------------------------------------------

ConnectionPool::ConnectionPool(ConnectionOptions connection, PoolOptions pool)
    : state_(std::make_unique<detail::PoolState>(std::move(connection), pool)) {}

ConnectionPool::~ConnectionPool() = default;

Lease ConnectionPool::lease() { return Lease(state_.get(), state_->acquire()); }

Reply ConnectionPool::command(ArgList argv) {
  // A connection of its own while one is free (the fastest path below saturation: the kernel
  // wakes the caller itself); the shared connection once all are busy.
  if (std::optional<Lease> lease =
          detail::PoolAccess::lease_or_share(*this, !detail::needs_own_connection(argv))) {
    return lease->command(argv);
  }
  return state_->multiplexer->command(argv);
}

void ConnectionPool::drain() noexcept { state_->drain(); }

PoolStats ConnectionPool::stats() const { return state_->stats(); }

const ConnectionOptions& ConnectionPool::connection_options() const noexcept {
  return state_->connection_options;
}

const PoolOptions& ConnectionPool::pool_options() const noexcept { return state_->pool_options; }

const std::string& ConnectionPool::endpoint() const noexcept { return state_->endpoint; }

}  // namespace rediscache
