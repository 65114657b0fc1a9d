#include "rediscache/cache/keys.hpp"

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "cache/key_layout.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache {
namespace {

// Reads (ARGV[2] == "0") or bumps (ARGV[2] == "1") the version, creating it from the server's
// clock when it is missing (first use, expiry, eviction), so a lost version key can never bring
// back a version used before. Renews the key's expiry either way.
const Script& version_script() {
  static const Script kScript(R"lua(
local v = tonumber(redis.call('GET', KEYS[1]))
if not v then
  local t = redis.call('TIME')
  v = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if ARGV[2] == '1' then v = v + 1 end
redis.call('SET', KEYS[1], string.format('%d', v), 'PX', ARGV[1])
return v
)lua");
  return kScript;
}

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

struct KeySpace::State {
  State(Client c, std::string n, KeySpaceOptions o)
      : client(std::move(c)), name(std::move(n)), options(std::move(o)) {
    if (options.layout) layout.emplace(*options.layout, name, "KeySpaceOptions::layout");
    entry_prefix = layout ? layout->prefix() : name + ":v";
  }

  Client client;
  const std::string name;
  const KeySpaceOptions options;
  std::optional<detail::KeyLayout> layout;  // options.layout, parsed; unset: the default
  std::string entry_prefix;
  [[nodiscard]] bool versioned() const noexcept { return !layout || layout->versioned(); }
  std::mutex mu;
  std::optional<long long> version;               // guarded by mu
  std::chrono::steady_clock::time_point read_at;  // guarded by mu
  bool refreshing = false;                        // guarded by mu

  long long run_script(bool bump) {
    const std::string key = name + ":version";
    const std::string ttl = std::to_string(options.version_key_ttl.count());
    const Reply reply = client.eval(version_script(), {key}, {ttl, bump ? "1" : "0"});
    if (!reply.is_integer()) {
      throw ProtocolError(client.endpoint() + " EVALSHA: namespace version is not an integer");
    }
    const std::lock_guard<std::mutex> lock(mu);
    // A concurrent bump may have stored a higher version meanwhile; versions only grow.
    if (!version || *version < reply.integer || bump) version = reply.integer;
    read_at = std::chrono::steady_clock::now();
    return reply.integer;
  }
};

KeySpace::KeySpace(Client client, std::string name, KeySpaceOptions options) {
  if (name.empty() || name.size() > 128) {
    throw std::invalid_argument("rediscache: KeySpace name must be 1..128 bytes");
  }
  for (const char c : name) {
    if (!valid_name_char(c)) {
      throw std::invalid_argument("rediscache: KeySpace name may contain only [A-Za-z0-9_.-]");
    }
  }
  detail::require_positive(options.version_check_interval,
                           "KeySpaceOptions::version_check_interval");
  detail::require_positive(options.version_key_ttl, "KeySpaceOptions::version_key_ttl");
  state_ = std::make_unique<State>(std::move(client), std::move(name), std::move(options));
}

KeySpace::~KeySpace() = default;

const std::string& KeySpace::name() const noexcept { return state_->name; }

std::string KeySpace::version_key() const { return state_->name + ":version"; }

long long KeySpace::version() {
  if (!state_->versioned()) return 0;  // the keys carry no version: nothing to read
  {
    const std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->version) {
      const bool fresh = std::chrono::steady_clock::now() - state_->read_at <
                         state_->options.version_check_interval;
      // While one thread re-reads, the others keep the version they have: one round trip per
      // interval, not one per caller.
      if (fresh || state_->refreshing) return *state_->version;
      state_->refreshing = true;
    }
  }
  // Only the thread that set `refreshing` (or a first reader, which did not) gets here; clearing
  // it unconditionally is right for both.
  struct Done {
    State* s;
    Done(const Done&) = delete;
    Done& operator=(const Done&) = delete;
    ~Done() {
      const std::lock_guard<std::mutex> lock(s->mu);
      s->refreshing = false;
    }
  } done{state_.get()};
  return state_->run_script(false);
}

std::optional<long long> KeySpace::cached_version() const {
  if (!state_->versioned()) return 0;
  const std::lock_guard<std::mutex> lock(state_->mu);
  return state_->version;
}

long long KeySpace::refresh() { return state_->versioned() ? state_->run_script(false) : 0; }

long long KeySpace::bump() {
  if (!state_->versioned()) {
    throw std::logic_error(
        "rediscache: KeySpaceOptions::layout has no \"{version}\": its keys "
        "cannot be invalidated by a version bump");
  }
  return state_->run_script(true);
}

bool KeySpace::versioned() const noexcept { return state_->versioned(); }

const std::string& KeySpace::entry_prefix() const noexcept { return state_->entry_prefix; }

std::string KeySpace::key_for(std::string_view id) { return key_for(id, version()); }

std::string KeySpace::key_for(std::string_view id, long long version) const {
  if (state_->layout) return state_->layout->expand(id, version);
  std::string key;
  key.reserve(state_->name.size() + id.size() + 24);
  key.append(state_->name).append(":v").append(std::to_string(version)).append("{:").append(id);
  key.push_back('}');
  return key;
}

std::vector<std::string> KeySpace::keys_for(const std::vector<std::string_view>& ids,
                                            long long version) const {
  if (state_->layout) {
    std::vector<std::string> keys;
    keys.reserve(ids.size());
    for (const std::string_view id : ids) keys.push_back(state_->layout->expand(id, version));
    return keys;
  }
  std::string prefix = state_->name;
  prefix.append(":v").append(std::to_string(version)).append("{:");
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const std::string_view id : ids) {
    std::string& key = keys.emplace_back();
    key.reserve(prefix.size() + id.size() + 1);
    key.append(prefix).append(id).push_back('}');
  }
  return keys;
}

std::string KeySpace::lock_key_for(std::string_view id, long long version) const {
  if (state_->layout) return detail::layout_lock_key(state_->layout->expand(id, version));
  std::string key;
  key.reserve(state_->name.size() + id.size() + 30);
  key.append(state_->name)
      .append(":lock:v")
      .append(std::to_string(version))
      .append("{:")
      .append(id);
  key.push_back('}');
  return key;
}

}  // namespace rediscache
