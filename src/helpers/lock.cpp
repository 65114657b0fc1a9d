#include "rediscache/helpers/lock.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "helpers/common.hpp"
#include "helpers/scripts.hpp"
#include "rediscache/util/errors.hpp"
#include "util/background_loop.hpp"
#include "util/backoff.hpp"
#include "util/counter_list.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

void LockOptions::validate() const {
  detail::require(key_prefix.find_first_of("{}") == std::string::npos, "LockOptions::key_prefix",
                  "must not contain '{' or '}'");
  detail::require_positive(ttl, "LockOptions::ttl");
  detail::require_backoff(retry_min, retry_max, "LockOptions::retry_min", "LockOptions::retry_max");
  if (watchdog_interval) {
    detail::require(*watchdog_interval >= std::chrono::milliseconds(1) && *watchdog_interval < ttl,
                    "LockOptions::watchdog_interval", "must be in [1 ms, ttl)");
  }
}

namespace detail {

/// What a DistributedLock and its guards share; guards keep it alive.
class LockCore {
 public:
  LockCore(Client client, std::string name, LockOptions options, ErrorHandler on_error)
      : client(std::move(client)),
        name(std::move(name)),
        options(std::move(options)),
        on_error(std::move(on_error)) {
    key = this->options.key_prefix + "{" + this->name + "}";
    fence_key = key + ":fence";
  }

  bool release(std::string_view token) {
    const Reply reply = client.eval(lock_release_script(), {key}, {token});
    const bool released = to_integer(reply, Call{client.endpoint(), "lock release script"}) == 1;
    (released ? releases : releases_not_held).add();
    return released;
  }

  bool extend(std::string_view token, std::chrono::milliseconds ttl) {
    detail::require_positive(ttl, "DistributedLock::extend ttl");
    const std::string ttl_arg = to_arg(ttl);
    const Reply reply = client.eval(lock_extend_script(), {key}, {token, ttl_arg});
    const bool extended = to_integer(reply, Call{client.endpoint(), "lock extend script"}) == 1;
    (extended ? extensions : extensions_not_held).add();
    return extended;
  }

  // Never throws: called from destructors and the watchdog.
  void report(std::string_view context, const std::exception& error) const noexcept {
    report_error(on_error, context, error);
  }
  void report(std::string_view context, std::string_view message) const noexcept {
    report_error(on_error, context, message);
  }

  Client client;
  std::string name;
  LockOptions options;
  ErrorHandler on_error;
  std::string key;
  std::string fence_key;

  REDISCACHE_LOCK_COUNTERS(REDISCACHE_DECLARE_COUNTER)
  LatencyHistogram wait;
};

/// A guard's state, on the heap so that the watchdog thread can keep a stable pointer to it
/// while the LockGuard object itself is moved around.
struct LockGuardState {
  LockGuardState(std::shared_ptr<LockCore> core, std::string token, long long fence)
      : core(std::move(core)), token(std::move(token)), fence(fence) {}

  LockGuardState(const LockGuardState&) = delete;
  LockGuardState& operator=(const LockGuardState&) = delete;
  ~LockGuardState() { stop_watchdog(); }

  void start_watchdog() {
    const auto interval = core->options.watchdog_interval.value_or(
        std::max(std::chrono::milliseconds(1), core->options.ttl / 3));
    last_extended = std::chrono::steady_clock::now();
    watchdog.emplace(interval, [this] { return extend_once(); });
  }

  void stop_watchdog() noexcept { watchdog.reset(); }

  void mark_lost() noexcept {
    if (!lost.exchange(true)) core->lost.add();
  }

  // One watchdog round: extends the lock by a TTL. False (stop) once the lock turns out not to
  // be ours, or once errors have lasted a whole TTL (then it has surely expired).
  bool extend_once() noexcept {
    const auto ttl = core->options.ttl;
    const auto sent = std::chrono::steady_clock::now();
    try {
      if (!core->extend(token, ttl)) {
        mark_lost();
        core->report("lock watchdog", "the lock expired or has another holder; stopped");
        return false;
      }
      last_extended = sent;
    } catch (const std::exception& e) {
      core->errors.add();
      core->report("lock watchdog: extend", e);
      if (std::chrono::steady_clock::now() - last_extended >= ttl) {
        mark_lost();
        core->report("lock watchdog", "no extension succeeded for a whole ttl; stopped");
        return false;
      }
    }
    return true;
  }

  std::shared_ptr<LockCore> core;
  std::string token;
  long long fence;
  bool owns = true;  // touched only by the thread that uses the guard
  std::atomic<bool> lost{false};

  std::chrono::steady_clock::time_point last_extended;  // touched only by the watchdog
  std::optional<BackgroundLoop> watchdog;               // last: stopped before the rest goes
};

}  // namespace detail

// --- LockGuard ---------------------------------------------------------------------------

LockGuard::LockGuard(std::unique_ptr<detail::LockGuardState> state) noexcept
    : state_(std::move(state)) {}

LockGuard::LockGuard(LockGuard&& other) noexcept = default;

LockGuard& LockGuard::operator=(LockGuard&& other) noexcept {
  if (this != &other) {
    release_noexcept();
    state_ = std::move(other.state_);
  }
  return *this;
}

LockGuard::~LockGuard() { release_noexcept(); }

void LockGuard::release_noexcept() noexcept {
  if (!state_) return;
  state_->stop_watchdog();
  if (state_->owns) {
    state_->owns = false;
    try {
      static_cast<void>(state_->core->release(state_->token));
    } catch (const std::exception& e) {
      state_->core->errors.add();
      state_->core->report("lock release (the lock expires by its ttl)", e);
    }
  }
  state_.reset();
}

const std::string& LockGuard::token() const noexcept {
  static const std::string kEmpty;
  return state_ ? state_->token : kEmpty;
}

long long LockGuard::fence() const noexcept { return state_ ? state_->fence : 0; }

bool LockGuard::owns() const noexcept { return state_ && state_->owns; }

bool LockGuard::lost() const noexcept { return state_ && state_->lost.load(); }

bool LockGuard::unlock() {
  if (!owns()) return false;
  state_->stop_watchdog();
  state_->owns = false;
  return state_->core->release(state_->token);
}

bool LockGuard::extend(std::chrono::milliseconds ttl) {
  if (!owns()) throw std::logic_error("LockGuard::extend: the guard does not own the lock");
  const bool extended = state_->core->extend(state_->token, ttl);
  if (!extended) state_->mark_lost();
  return extended;
}

// --- DistributedLock -----------------------------------------------------------------------

DistributedLock::DistributedLock(Client client, std::string name, LockOptions options,
                                 ErrorHandler on_error) {
  detail::require_non_empty(name, "DistributedLock name");
  options.validate();
  core_ = std::make_shared<detail::LockCore>(std::move(client), std::move(name), std::move(options),
                                             std::move(on_error));
}

std::optional<LockGuard> DistributedLock::attempt(long long* holder_pttl) {
  std::string token = random_token(16);
  const std::string ttl_arg = detail::to_arg(core_->options.ttl);
  const Reply reply =
      core_->client.eval(detail::lock_acquire_script(), {core_->key, core_->fence_key},
                         {token, ttl_arg, core_->options.fencing ? "1" : "0"});
  detail::expect_integers(reply, 2, detail::Call{core_->client.endpoint(), "lock acquire script"});
  if (reply.elements[0].integer != 1) {
    core_->failed_attempts.add();
    if (holder_pttl != nullptr) *holder_pttl = reply.elements[1].integer;
    return std::nullopt;
  }
  core_->acquisitions.add();
  // From here the guard owns the lock: if starting the watchdog throws, its destructor
  // releases the lock again.
  LockGuard guard(
      std::make_unique<detail::LockGuardState>(core_, std::move(token), reply.elements[1].integer));
  if (core_->options.watchdog) guard.state_->start_watchdog();
  return guard;
}

std::optional<LockGuard> DistributedLock::try_lock() { return attempt(nullptr); }

std::optional<LockGuard> DistributedLock::lock(std::chrono::milliseconds wait_timeout) {
  detail::require_non_negative(wait_timeout, "DistributedLock::lock wait_timeout");
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = detail::saturating_deadline(start, wait_timeout);
  detail::Backoff backoff(core_->options.retry_min, core_->options.retry_max);
  for (;;) {
    long long holder_pttl = -1;
    auto guard = attempt(&holder_pttl);
    const auto now = std::chrono::steady_clock::now();
    if (guard) {
      core_->wait.record(now - start);
      return guard;
    }
    if (now >= deadline) {
      core_->timeouts.add();
      core_->wait.record(now - start);
      return std::nullopt;
    }
    std::chrono::steady_clock::duration pause = backoff.next();
    // No point sleeping past the holder's expiry: wake up just after it.
    if (holder_pttl >= 0) {
      pause = std::min(
          pause, std::chrono::steady_clock::duration(std::chrono::milliseconds(holder_pttl + 1)));
    }
    detail::sleep_before(pause, deadline);
  }
}

bool DistributedLock::unlock(std::string_view token) { return core_->release(token); }

bool DistributedLock::extend(std::string_view token, std::chrono::milliseconds ttl) {
  return core_->extend(token, ttl);
}

bool DistributedLock::is_locked() { return core_->client.exists({core_->key}) > 0; }

const std::string& DistributedLock::name() const noexcept { return core_->name; }
const std::string& DistributedLock::key() const noexcept { return core_->key; }
const std::string& DistributedLock::fence_key() const noexcept { return core_->fence_key; }
const LockOptions& DistributedLock::options() const noexcept { return core_->options; }

LockStats DistributedLock::stats() const {
  const detail::LockCore& from = *core_;
  LockStats to;
  REDISCACHE_LOCK_COUNTERS(REDISCACHE_COPY_COUNTER)
  to.wait = from.wait.summary();
  return to;
}

}  // namespace rediscache
