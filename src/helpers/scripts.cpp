#include "helpers/scripts.hpp"

namespace rediscache::detail {

// The acquisition and the fencing INCR run in one script so that a fencing token is handed out
// exactly when the lock is granted; SET NX PX sets value and expiry in one step (the seed's
// SETNX-then-EXPIRE leaves an immortal lock if the client dies in between).
const Script& lock_acquire_script() {
  static const Script kScript(R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = 0
  if ARGV[3] == '1' then fence = redis.call('INCR', KEYS[2]) end
  return {1, fence}
end
return {0, redis.call('PTTL', KEYS[1])}
)lua");
  return kScript;
}

const Script& lock_release_script() {
  static const Script kScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return kScript;
}

const Script& lock_extend_script() {
  static const Script kScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return kScript;
}

// Time is the server's TIME in microseconds (exact in a double until the year 2255). Numbers
// handed back to redis.call are formatted with %.0f: Lua's default conversion prints large
// numbers in exponent form and would lose digits. A script that reads TIME and then writes is
// fine on Redis >= 5 with effects replication, the only mode of Redis 7.

// The head of every rate-limit script: ARGV[3] is the cost, `now` the server's time (us), ms()
// rounds microseconds up to milliseconds. ARGV[1] and ARGV[2] are each algorithm's own.
constexpr const char* kRateHead = R"lua(
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function ms(us) if us <= 0 then return 0 end return math.ceil(us / 1000) end
)lua";

// Sorted set of one entry per counted unit, scored by its time. Members are a per-request
// unique id (never the timestamp, which two requests can share) plus the unit's index.
const Script& sliding_log_script() {
  static const Script kScript(std::string(kRateHead) + R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', key)
if count + cost <= limit then
  local score = string.format('%.0f', now)
  local args = {}
  for i = 1, cost do
    args[#args + 1] = score
    args[#args + 1] = ARGV[4] .. ':' .. i
    if #args >= 1000 or i == cost then
      redis.call('ZADD', key, unpack(args))
      args = {}
    end
  end
  redis.call('PEXPIRE', key, ms(window))
  return {1, limit - count - cost, 0, ms(window)}
end
local k = count + cost - limit - 1
local oldest = redis.call('ZRANGE', key, k, k, 'WITHSCORES')
local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
local retry = math.max(1, ms(tonumber(oldest[2]) + window - now))
return {0, limit - count, retry, ms(tonumber(newest[2]) + window - now)}
)lua");
  return kScript;
}

// Hash {s: start of the current window (us), c: its count, p: the previous window's count}.
// Windows start at the key's first request rather than at multiples of the window, so a burst
// from a fresh key is never split across a boundary it did not cause.
const Script& sliding_counter_script() {
  static const Script kScript(std::string(kRateHead) + R"lua(
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local key = KEYS[1]
local h = redis.call('HMGET', key, 's', 'c', 'p')
local s = tonumber(h[1])
local cur = tonumber(h[2]) or 0
local prev = tonumber(h[3]) or 0
if s == nil or now - s >= 2 * window then
  s = now
  cur = 0
  prev = 0
elseif now - s >= window then
  s = s + window
  prev = cur
  cur = 0
elseif now < s then
  now = s
end
local elapsed = now - s
local used = prev * (window - elapsed) / window + cur
if used + cost <= limit then
  cur = cur + cost
  redis.call('HSET', key, 's', string.format('%.0f', s), 'c', cur, 'p', prev)
  redis.call('PEXPIRE', key, ms(s + 2 * window - now))
  return {1, math.floor(limit - used - cost), 0, ms(s + 2 * window - now)}
end
local retry
local room = limit - cost - cur
if room >= 0 then
  retry = window * (1 - room / prev) - elapsed
else
  retry = window - elapsed + math.max(0, window * (1 - (limit - cost) / cur))
end
local reset = 0
if cur > 0 then reset = s + 2 * window - now elseif prev > 0 then reset = s + window - now end
return {0, math.max(0, math.floor(limit - used)), math.max(1, ms(retry)), ms(reset)}
)lua");
  return kScript;
}

// GCRA: one number per key, the theoretical arrival time (TAT) in microseconds. A request of
// `cost` units passes when now >= TAT + cost*T - burst*T, T being the emission interval.
const Script& gcra_script() {
  static const Script kScript(std::string(kRateHead) + R"lua(
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local tolerance = interval * burst
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
  local remaining = math.max(0, math.floor((now - tat + tolerance) / interval))
  return {0, remaining, math.max(1, ms(allow_at - now)), ms(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ms(new_tat - now))
return {1, math.floor((now - allow_at) / interval), 0, ms(new_tat - now)}
)lua");
  return kScript;
}

// KEYS: session. ARGV: ttl ms, then field/value pairs. Refuses (0) to overwrite an existing key
// so that an id collision can never merge two sessions. Scripts do not roll back, so the TTL is
// checked before anything is written, and a PEXPIRE that still fails deletes the new hash: a
// session never exists without a TTL.
const Script& session_create_script() {
  static const Script kScript(R"lua(
local ttl = tonumber(ARGV[1])
if not ttl or ttl < 1 or ttl > 1e15 or ttl ~= math.floor(ttl) then
  return redis.error_reply('ERR session ttl out of range')
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
local set = redis.pcall('PEXPIRE', KEYS[1], ARGV[1])
if type(set) == 'table' and set.err then
  redis.call('DEL', KEYS[1])
  return set
end
return 1
)lua");
  return kScript;
}

// KEYS: session. ARGV: max fields, number r of names to delete, those r names, then
// field/value pairs to set. Counts the resulting fields before writing anything: returns 0 when
// the session is absent, -1 when it would exceed max fields, -2 when it would become empty,
// 1 when written. HSET and HDEL keep the key's TTL.
const Script& session_update_script() {
  static const Script kScript(R"lua(
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local r = tonumber(ARGV[2])
local n = redis.call('HLEN', key)
local removed = {}
for i = 3, 2 + r do
  local f = ARGV[i]
  if not removed[f] and redis.call('HEXISTS', key, f) == 1 then
    removed[f] = true
    n = n - 1
  end
end
for i = 3 + r, #ARGV, 2 do
  local f = ARGV[i]
  if removed[f] or redis.call('HEXISTS', key, f) == 0 then n = n + 1 end
end
if n > tonumber(ARGV[1]) then return -1 end
if n < 1 then return -2 end
if r > 0 then redis.call('HDEL', key, unpack(ARGV, 3, 2 + r)) end
if #ARGV >= 3 + r then redis.call('HSET', key, unpack(ARGV, 3 + r)) end
return 1
)lua");
  return kScript;
}

// KEYS: old session, new session. ARGV: new ttl ms or "" to keep. RENAMENX moves fields and
// TTL in one step. Returns 0 when the old session is absent, -1 when the new id is taken. The
// TTL is checked before the rename, and a PEXPIRE that still fails renames the session back:
// a failed regenerate never loses the old id.
const Script& session_regenerate_script() {
  static const Script kScript(R"lua(
if ARGV[1] ~= '' then
  local ttl = tonumber(ARGV[1])
  if not ttl or ttl < 1 or ttl > 1e15 or ttl ~= math.floor(ttl) then
    return redis.error_reply('ERR session ttl out of range')
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return -1 end
if ARGV[1] ~= '' then
  local set = redis.pcall('PEXPIRE', KEYS[2], ARGV[1])
  if type(set) == 'table' and set.err then
    redis.call('RENAME', KEYS[2], KEYS[1])
    return set
  end
end
return 1
)lua");
  return kScript;
}

}  // namespace rediscache::detail
