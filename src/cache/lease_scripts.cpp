#include "cache/lease_scripts.hpp"

namespace rediscache::detail {

const Script& store_script() {
  // One MGET for every lock and one DEL for the used ones: each redis.call from Lua costs about
  // a microsecond of marshalling, more than the GET or DEL itself.
  static const Script kScript(R"lua(
local count = #KEYS / 2
local locks = {}
for n = 1, count do
  locks[n] = KEYS[2 * n]
end
local held = redis.call('MGET', unpack(locks))
local done, used = {}, {}
for n = 1, count do
  if held[n] == ARGV[1] then
    local px = ARGV[2 * n + 1]
    if px == '0' then
      redis.call('SET', KEYS[2 * n - 1], ARGV[2 * n])
    elseif px ~= '-' then
      redis.call('SET', KEYS[2 * n - 1], ARGV[2 * n], 'PX', px)
    end
    used[#used + 1] = locks[n]
    done[n] = 1
  else
    done[n] = 0
  end
end
if #used > 0 then
  redis.call('DEL', unpack(used))
end
return done
)lua");
  return kScript;
}

const Script& release_script() {
  // allow-oom: giving a lease back frees memory, and must work when the store that preceded it
  // failed because Redis is out of memory.
  static const Script kScript(R"lua(#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return kScript;
}

}  // namespace rediscache::detail
