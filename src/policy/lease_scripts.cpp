#include "policy/lease_scripts.hpp"

namespace rediscache::detail {

const Script& store_script() {
  static const Script kScript(R"lua(
local done = {}
for n = 1, #KEYS / 2 do
  local entry, lock = KEYS[2 * n - 1], KEYS[2 * n]
  if redis.call('GET', lock) == ARGV[1] then
    local px = ARGV[2 * n + 1]
    if px == '0' then
      redis.call('SET', entry, ARGV[2 * n])
    elseif px ~= '-' then
      redis.call('SET', entry, ARGV[2 * n], 'PX', px)
    end
    redis.call('DEL', lock)
    done[n] = 1
  else
    done[n] = 0
  end
end
return done
)lua");
  return kScript;
}

const Script& release_script() {
  static const Script kScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return kScript;
}

}  // namespace rediscache::detail
