// The Lua scripts behind the cache's leases: a load stores its value, or gives its lock back,
// only while the lock still holds the load's token.
#pragma once

#include "rediscache/script.hpp"

namespace rediscache::detail {

/// Stores an entry only while the caller still holds the lease (lock token), then deletes the
/// lock. invalidate() and set() delete the lock, so a load that began before them cannot write
/// an older value after them (the memcache "lease" idea, Nishtala et al., NSDI 2013).
/// KEYS: entry, lock. ARGV: token, entry bytes, expiry in ms ("0": none). Returns 1 if stored.
const Script& store_script();

/// Releases a lock only if it is still ours (it may have expired and been taken by another).
/// KEYS: lock. ARGV: token.
const Script& release_script();

}  // namespace rediscache::detail
