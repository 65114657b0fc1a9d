// The write-behind queue's Lua scripts: enqueue, latest, the flusher's lease (acquire,
// release), read, ack, dead letter, replay, and delete consumer.
#include "cache/write_behind_scripts.hpp"

namespace rediscache::detail::wb {

const Scripts& scripts() {
  static const Scripts all{
      // enqueue:
      // KEYS: stream, marker. ARGV: kind, id, payload, queue ttl ms, marker ttl ms.
      Script(R"lua(
local e
if ARGV[1] == 'r' then
  e = redis.call('XADD', KEYS[1], '*', 'k', 'r', 'id', ARGV[2])
else
  e = redis.call('XADD', KEYS[1], '*', 'k', 'u', 'id', ARGV[2], 'v', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], e, 'PX', ARGV[5])
return e
)lua"),
      // latest:
      // KEYS: stream, marker. ARGV: entry id the caller applied.
      // Returns nil when the marker is missing or equals the entry, else {latest id, fields or
      // nil}.
      Script(R"lua(
local m = redis.call('GET', KEYS[2])
if not m or m == ARGV[1] then return false end
local r = redis.call('XRANGE', KEYS[1], m, m)
if #r == 0 then return {m} end
return {m, r[1][2]}
)lua"),
      // acquire:
      // KEYS: lease. ARGV: token, lease ms. 0: held by another, 1: renewed, 2: newly acquired.
      Script(R"lua(
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
)lua"),
      // release:
      // KEYS: lease. ARGV: token.
      Script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua"),
      // read:
      // Reads only while holding the lease, so a flusher that lost it (paused, partitioned) cannot
      // take entries out of order. Own pending entries after ARGV[6] come first (a retried batch),
      // then new ones. KEYS: stream, lease. ARGV: group, consumer, token, count, lease ms, pending
      // start id, queue ttl ms. Returns nil without the lease, else {1 if pending, entries}.
      Script(R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return false end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4],
                     'STREAMS', KEYS[1], ARGV[6])
if r and r[1] and #r[1][2] > 0 then return {1, r[1][2]} end
r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')
if not r then return {0, {}} end
return {0, r[1][2]}
)lua"),
      // ack:
      // KEYS: stream. ARGV: group, ids...
      Script(R"lua(
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
return redis.call('XDEL', KEYS[1], unpack(ids))
)lua"),
      // dead_letter:
      // Moves one entry to the dead-letter stream atomically. KEYS: stream, dead. ARGV: group,
      // entry
      // id, kind, id, payload, error, attempts, ttl ms.
      Script(R"lua(
local f = {'k', ARGV[3], 'id', ARGV[4]}
if ARGV[3] == 'u' then f[#f + 1] = 'v'; f[#f + 1] = ARGV[5] end
f[#f + 1] = 'error'; f[#f + 1] = ARGV[6]
f[#f + 1] = 'source'; f[#f + 1] = ARGV[2]
f[#f + 1] = 'attempts'; f[#f + 1] = ARGV[7]
redis.call('XADD', KEYS[2], '*', unpack(f))
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
)lua"),
      // replay:
      // Moves the oldest dead letters back to the queue. KEYS: stream, dead. ARGV: count, ttl ms.
      Script(R"lua(
local r = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[1])
for _, e in ipairs(r) do
  local f = e[2]
  local k, id, v
  for i = 1, #f, 2 do
    if f[i] == 'k' then k = f[i + 1] elseif f[i] == 'id' then id = f[i + 1]
    elseif f[i] == 'v' then v = f[i + 1] end
  end
  if k == 'r' then
    redis.call('XADD', KEYS[1], '*', 'k', 'r', 'id', id)
  elseif k == 'u' and id and v then
    redis.call('XADD', KEYS[1], '*', 'k', 'u', 'id', id, 'v', v)
  end
  redis.call('XDEL', KEYS[2], e[1])
end
if #r > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return #r
)lua"),
      // delete_consumer:
      // Deletes a consumer only when it has nothing pending (DELCONSUMER would drop pending entries
      // from the group, and they would never be delivered again). KEYS: stream. ARGV: group, name.
      Script(R"lua(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
)lua"),
  };
  return all;
}

}  // namespace rediscache::detail::wb
