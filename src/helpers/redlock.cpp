#include "rediscache/helpers/redlock.hpp"

#include <stdexcept>
#include <thread>
#include <utility>

#include "helpers/common.hpp"
#include "helpers/scripts.hpp"
#include "rediscache/util/errors.hpp"
#include "rediscache/util/stats.hpp"
#include "util/backoff.hpp"
#include "util/counter_list.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

void RedlockOptions::validate() const {
  detail::require(key_prefix.find_first_of("{}") == std::string::npos, "RedlockOptions::key_prefix",
                  "must not contain '{' or '}'");
  detail::require_positive(ttl, "RedlockOptions::ttl");
  detail::require(clock_drift_factor >= 0.0 && clock_drift_factor < 1.0,
                  "RedlockOptions::clock_drift_factor", "must be in [0, 1)");
  detail::require_non_negative(clock_drift_min, "RedlockOptions::clock_drift_min");
  detail::require_backoff(retry_min, retry_max, "RedlockOptions::retry_min",
                          "RedlockOptions::retry_max");
}

namespace detail {

class RedlockCore {
 public:
  RedlockCore(std::vector<Client> servers, RedlockOptions options)
      : servers(std::move(servers)),
        options(std::move(options)),
        quorum(this->servers.size() / 2 + 1) {}

  [[nodiscard]] std::string key(std::string_view name) const {
    return options.key_prefix + "{" + std::string(name) + "}";
  }

  // The drift allowance of the Redlock paper: ttl * factor + a constant.
  [[nodiscard]] std::chrono::steady_clock::duration drift(std::chrono::milliseconds ttl) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(ttl * options.clock_drift_factor) +
           options.clock_drift_min;
  }

  // Counts servers that granted; a server that fails counts as a refusal.
  std::size_t acquire_all(const std::string& key, const std::string& token) {
    std::size_t granted = 0;
    SetOptions set;
    set.ttl = options.ttl;
    set.condition = SetCondition::kIfNotExists;
    for (Client& server : servers) {
      try {
        if (server.set(key, token, set)) ++granted;
      } catch (const Error&) {
        server_errors.add();
      }
    }
    return granted;
  }

  // Runs a token-comparing script on every server (even those that failed to grant: their SET
  // may have been applied with the reply lost) and counts those that answered 1.
  std::size_t on_all(const Script& script, const std::string& key, ArgList args) noexcept {
    std::size_t count = 0;
    for (Client& server : servers) {
      try {
        const Reply reply = server.eval(script, {key}, args);
        if (to_integer(reply, Call{server.endpoint(), "redlock script"}) == 1) ++count;
      } catch (const std::exception&) {
        server_errors.add();
      }
    }
    return count;
  }

  std::size_t release_all(const std::string& key, const std::string& token) noexcept {
    releases.add();
    return on_all(lock_release_script(), key, {token});
  }

  std::vector<Client> servers;
  RedlockOptions options;
  std::size_t quorum;
  REDISCACHE_REDLOCK_COUNTERS(REDISCACHE_DECLARE_COUNTER)
};

}  // namespace detail

// --- RedlockGuard ---------------------------------------------------------------------------

RedlockGuard::RedlockGuard(std::shared_ptr<detail::RedlockCore> core, std::string name,
                           std::string token,
                           std::chrono::steady_clock::time_point valid_until) noexcept
    : core_(std::move(core)),
      name_(std::move(name)),
      token_(std::move(token)),
      valid_until_(valid_until) {}

RedlockGuard::RedlockGuard(RedlockGuard&& other) noexcept = default;

RedlockGuard& RedlockGuard::operator=(RedlockGuard&& other) noexcept {
  if (this != &other) {
    release_noexcept();
    core_ = std::move(other.core_);
    name_ = std::move(other.name_);
    token_ = std::move(other.token_);
    valid_until_ = other.valid_until_;
  }
  return *this;
}

RedlockGuard::~RedlockGuard() { release_noexcept(); }

void RedlockGuard::release_noexcept() noexcept {
  if (!core_) return;
  try {
    static_cast<void>(core_->release_all(core_->key(name_), token_));
  } catch (...) {  // NOLINT(bugprone-empty-catch): only allocation can fail here; keys expire
    core_->server_errors.add();
  }
  core_.reset();
}

const std::string& RedlockGuard::name() const noexcept { return name_; }
const std::string& RedlockGuard::token() const noexcept { return token_; }
std::chrono::steady_clock::time_point RedlockGuard::valid_until() const noexcept {
  return valid_until_;
}
bool RedlockGuard::owns() const noexcept { return core_ != nullptr; }
bool RedlockGuard::valid() const noexcept {
  return owns() && std::chrono::steady_clock::now() < valid_until_;
}

bool RedlockGuard::unlock() {
  if (!core_) return false;
  auto core = std::move(core_);
  return core->release_all(core->key(name_), token_) >= core->quorum;
}

bool RedlockGuard::extend(std::chrono::milliseconds ttl) {
  detail::require_positive(ttl, "RedlockGuard::extend ttl");
  if (!core_) return false;
  const auto start = std::chrono::steady_clock::now();
  const std::string ttl_arg = detail::to_arg(ttl);
  const std::size_t extended =
      core_->on_all(detail::lock_extend_script(), core_->key(name_), {token_, ttl_arg});
  const auto valid_until = start + ttl - core_->drift(ttl);
  if (extended < core_->quorum || std::chrono::steady_clock::now() >= valid_until) return false;
  valid_until_ = valid_until;
  return true;
}

// --- Redlock --------------------------------------------------------------------------------

Redlock::Redlock(std::vector<Client> servers, RedlockOptions options) {
  detail::require(!servers.empty(), "Redlock servers", "must not be empty");
  options.validate();
  core_ = std::make_shared<detail::RedlockCore>(std::move(servers), std::move(options));
}

std::optional<RedlockGuard> Redlock::try_lock(std::string_view name) {
  detail::require_non_empty(name, "Redlock::try_lock name");
  const std::string key = core_->key(name);
  std::string token = random_token(16);
  const auto start = std::chrono::steady_clock::now();
  const std::size_t granted = core_->acquire_all(key, token);
  // Every server's copy expires no earlier than start + ttl by its own clock; drift covers the
  // clocks running at different rates.
  const auto valid_until = start + core_->options.ttl - core_->drift(core_->options.ttl);
  if (granted >= core_->quorum && std::chrono::steady_clock::now() < valid_until) {
    core_->acquisitions.add();
    return RedlockGuard(core_, std::string(name), std::move(token), valid_until);
  }
  core_->failed_rounds.add();
  static_cast<void>(core_->release_all(key, token));
  return std::nullopt;
}

std::optional<RedlockGuard> Redlock::lock(std::string_view name,
                                          std::chrono::milliseconds wait_timeout) {
  detail::require_non_negative(wait_timeout, "Redlock::lock wait_timeout");
  const auto deadline = detail::saturating_deadline(std::chrono::steady_clock::now(), wait_timeout);
  detail::Backoff backoff(core_->options.retry_min, core_->options.retry_max);
  for (;;) {
    auto guard = try_lock(name);
    if (guard) return guard;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    detail::sleep_before(backoff.next(), deadline);
  }
}

std::size_t Redlock::quorum() const noexcept { return core_->quorum; }
const RedlockOptions& Redlock::options() const noexcept { return core_->options; }

RedlockStats Redlock::stats() const {
  const detail::RedlockCore& from = *core_;
  RedlockStats to;
  REDISCACHE_REDLOCK_COUNTERS(REDISCACHE_COPY_COUNTER)
  return to;
}

}  // namespace rediscache
