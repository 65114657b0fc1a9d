// The Lua scripts behind the cache's leases: a load stores its value, or gives its lock back,
// only while the lock still holds the load's token.
#pragma once

#include "rediscache/client/script.hpp"

namespace rediscache::detail {

/// Stores entries only while the caller still holds their leases (lock token), deleting each
/// lock it used. invalidate() and set() delete the lock, so a load that began before them
/// cannot write an older value after them (the memcache "lease" idea, Nishtala et al., NSDI
/// 2013). One run takes any number of ids (get_many stores a batch in one).
/// KEYS: entry 1, lock 1, entry 2, lock 2, ...  ARGV: token, then per id its entry bytes and
/// its expiry in ms ("0": none; "-": store nothing, only give the lease back).
/// Returns an array: per id 1 if done under the lease, 0 if the lease was gone.
const Script& store_script();

/// Releases a lock only if it is still ours (it may have expired and been taken by another).
/// KEYS: lock. ARGV: token.
const Script& release_script();

}  // namespace rediscache::detail
