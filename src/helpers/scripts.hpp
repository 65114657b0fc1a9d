// The Lua scripts of the helpers (lock, rate limiters, sessions). Each is built once, on first
// use, so no Script is constructed during static initialisation.
#pragma once

#include "rediscache/client/script.hpp"

namespace rediscache::detail {

/// KEYS: lock, fence counter. ARGV: token, ttl ms, "1" to hand out a fencing token.
/// Returns {1, fence} when acquired, {0, holder's PTTL} otherwise.
const Script& lock_acquire_script();
/// KEYS: lock. ARGV: token. Returns 1 when our lock was deleted, 0 otherwise.
const Script& lock_release_script();
/// KEYS: lock. ARGV: token, ttl ms. Returns 1 when our lock was extended, 0 otherwise.
const Script& lock_extend_script();

/// Rate limiters. KEYS: the state key. ARGV: limit (or emission interval), window (or burst)
/// and cost, plus a unique request id for the log. Each returns {allowed (0/1), remaining,
/// retry_after ms, reset_after ms}.
const Script& sliding_log_script();
const Script& sliding_counter_script();
const Script& gcra_script();

/// Sessions; see session_store.cpp for their arguments.
const Script& session_create_script();
const Script& session_update_script();
const Script& session_regenerate_script();

}  // namespace rediscache::detail
