#include "cache/tag_space.hpp"

#include <algorithm>
#include <limits>

#include "cache/entry.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {
namespace {

const Script& invalidate_script() {
  // KEYS[1] the clock, KEYS[2..] the stamps; ARGV[1] the stamps' PX ("0": none). Lua numbers are
  // doubles: exact up to 2^53, far beyond microseconds since 1970 for centuries. Values travel
  // as decimal text (%.0f), never through Lua's %.14g number formatting.
  static const Script kScript(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local c = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if now > c then c = now else c = c + 1 end
local s = string.format('%.0f', c)
redis.call('SET', KEYS[1], s)
for i = 2, #KEYS do
  if ARGV[1] == '0' then
    redis.call('SET', KEYS[i], s)
  else
    redis.call('SET', KEYS[i], s, 'PX', ARGV[1])
  end
end
return s
)lua");
  return kScript;
}

}  // namespace

TagSpace::TagSpace(const TagOptions& options, std::chrono::milliseconds stamp_ttl)
    : prefix_("{" + options.name_space + "}:t:"),
      clock_key_("{" + options.name_space + "}:clock"),
      stamp_px_(std::to_string(stamp_ttl.count())),
      max_remembered_(options.remembered_keys) {}

std::string TagSpace::stamp_key(std::string_view tag) const {
  std::string key;
  key.reserve(prefix_.size() + tag.size());
  key.append(prefix_).append(tag);
  return key;
}

void TagSpace::check_tags(const std::vector<std::string>& tags, const char* field) {
  require(tags.size() <= kMaxEntryTags, field,
          "holds at most " + std::to_string(kMaxEntryTags) + " tags");
  for (const std::string& tag : tags) {
    require(!tag.empty() && tag.size() <= kMaxTagBytes, field,
            "tags must be 1.." + std::to_string(kMaxTagBytes) + " bytes");
  }
}

std::vector<std::string> TagSpace::normalized(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

std::uint64_t TagSpace::invalidate(const Client& client,
                                   const std::vector<std::string>& tags) const {
  std::vector<std::string> keys;
  keys.reserve(tags.size() + 1);
  keys.push_back(clock_key_);
  for (const std::string& tag : tags) keys.push_back(stamp_key(tag));
  Client writer = client;
  const Reply reply = writer.eval(invalidate_script(), keys, {stamp_px_});
  const std::optional<std::uint64_t> clock = parse_counter(reply);
  if (!clock || reply.is_nil()) {
    throw ProtocolError("redis " + client.endpoint() + " EVALSHA: tag clock is not a number");
  }
  return *clock;
}

std::optional<std::uint64_t> TagSpace::parse_counter(const Reply& reply) {
  if (reply.is_nil()) return 0;
  if (reply.is_integer()) {
    if (reply.integer < 0) return std::nullopt;
    return static_cast<std::uint64_t>(reply.integer);
  }
  if (!reply.is_string() || reply.str.empty() || reply.str.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : reply.str) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');  // 19 digits cannot overflow
  }
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return value;
}

bool TagSpace::still_valid(std::uint64_t tag_clock, const std::vector<const Reply*>& stamps) {
  for (const Reply* stamp : stamps) {
    const std::optional<std::uint64_t> at = stamp == nullptr ? std::nullopt : parse_counter(*stamp);
    if (!at || *at > tag_clock) return false;
  }
  return true;
}

std::vector<std::string> TagSpace::remembered(const std::string& key) const {
  const std::lock_guard<std::mutex> lock(mu_);
  const auto it = remembered_.find(key);
  return it == remembered_.end() ? std::vector<std::string>{} : it->second;
}

void TagSpace::remember(const std::string& key, const std::vector<std::string>& tags) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (tags.empty()) {
    remembered_.erase(key);
    return;
  }
  const auto it = remembered_.find(key);
  if (it != remembered_.end()) {
    it->second = tags;
    return;
  }
  // Full: forget an arbitrary key. A forgotten key costs its next hit one more round trip.
  if (remembered_.size() >= max_remembered_) remembered_.erase(remembered_.begin());
  remembered_.emplace(key, tags);
}

}  // namespace rediscache::detail
