// The per-id write lock of WriteThrough: SET NX PX with a random token, released and checked by
// compare-and-delete scripts so a write never releases a lock it no longer holds.
#include "rediscache/cache/detail/write_through_core.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <utility>

#include "rediscache/cache/write_through.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"
#include "rediscache/util/stats.hpp"
#include "util/backoff.hpp"
#include "util/counter_list.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// KEYS: lock. ARGV: token.
const Script kUnlock(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");

}  // namespace

void WriteThroughOptions::validate() const {
  detail::require_positive(lock_ttl, "WriteThroughOptions::lock_ttl");
  detail::require_positive(lock_wait, "WriteThroughOptions::lock_wait");
  detail::require_backoff(initial_backoff, max_backoff, "WriteThroughOptions::initial_backoff",
                          "WriteThroughOptions::max_backoff");
}

namespace detail {

struct WriteThroughCore::State {
  State(Client c, std::string p, const WriteThroughOptions& o)
      : client(std::move(c)), prefix(std::move(p)), options(o) {}

  Client client;
  std::string prefix;  // "<ns>:wlock:"
  WriteThroughOptions options;
  REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_DECLARE_COUNTER)
};

WriteThroughCore::WriteThroughCore(Client client, std::string cache_name,
                                   const WriteThroughOptions& options) {
  options.validate();
  // The cache's namespace allows only [A-Za-z0-9_.-], so "<ns>:wlock:" never meets its entry
  // ("<ns>:v<N>:"), lock ("<ns>:lock:") or version keys.
  state_ = std::make_unique<State>(std::move(client), std::move(cache_name) + ":wlock:", options);
}

WriteThroughCore::~WriteThroughCore() = default;

std::string WriteThroughCore::new_token() { return random_token(); }

std::string WriteThroughCore::lock_key(std::string_view id) const {
  return state_->prefix + std::string(id);
}

WriteThroughCore::Lock WriteThroughCore::lock(std::string_view id, const std::string& token) {
  State& s = *state_;
  const std::string key = lock_key(id);
  SetOptions set;
  set.ttl = s.options.lock_ttl;
  set.condition = SetCondition::kIfNotExists;
  const auto deadline = detail::saturating_deadline(Clock::now(), s.options.lock_wait);
  Backoff backoff(s.options.initial_backoff, s.options.max_backoff, Backoff::Jitter::kNone);
  while (true) {
    try {
      if (s.client.set(key, token, set)) return Lock::kHeld;
    } catch (const Error& e) {
      s.lock_unavailable.add();
      report("write-through lock", e);
      return Lock::kUnavailable;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      s.lock_busy.add();
      return Lock::kBusy;
    }
    sleep_before(backoff.next(), deadline);
  }
}

bool WriteThroughCore::holds(std::string_view id, const std::string& token) noexcept {
  try {
    const std::optional<std::string> value = state_->client.get(lock_key(id));
    return value && *value == token;
  } catch (const std::exception& e) {
    report("write-through lock check", e);
    return false;
  }
}

void WriteThroughCore::unlock(std::string_view id, const std::string& token) noexcept {
  try {
    state_->client.eval(kUnlock, {lock_key(id)}, {token});
  } catch (const std::exception& e) {
    // The lock expires by itself after lock_ttl.
    report("write-through unlock", e);
  }
}

void WriteThroughCore::count(Event event) noexcept {
  State& s = *state_;
  switch (event) {
#define REDISCACHE_WRITE_THROUGH_COUNT(field, event, metric, help) \
  case Event::event:                                               \
    s.field.add();                                                 \
    break;
    REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_WRITE_THROUGH_COUNT)
#undef REDISCACHE_WRITE_THROUGH_COUNT
  }
}

void WriteThroughCore::report(std::string_view context, const std::exception& error) noexcept {
  report_error(state_->options.on_error, context, error);
}

WriteThroughStats WriteThroughCore::stats() const {
  const State& from = *state_;
  WriteThroughStats to;
  REDISCACHE_WRITE_THROUGH_COUNTERS(REDISCACHE_COPY_COUNTER)
  return to;
}

}  // namespace detail
}  // namespace rediscache
