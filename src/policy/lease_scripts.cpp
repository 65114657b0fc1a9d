#include "policy/lease_scripts.hpp"

namespace rediscache::detail {

const Script& store_script() {
  static const Script kScript(R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('DEL', KEYS[2])
return 1
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
