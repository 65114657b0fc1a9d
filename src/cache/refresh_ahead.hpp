// Refresh-ahead's decisions, pure functions of the clock and the entry: whether a fresh hit
// refreshes now. Private; CacheCore::Impl::refresh_ahead acts on them.
#pragma once

#include <chrono>
#include <cstdint>

namespace rediscache::detail {

/// XFetch (probabilistic early expiration): true when `now_ms - delta * beta * ln(u)` reaches
/// `expiry_ms`, where delta is the entry's load time in ms (at least 1) and `u` is uniform in
/// (0, 1]. u = 1 never refreshes before expiry; smaller u refreshes earlier.
[[nodiscard]] bool xfetch_due(std::int64_t now_ms, std::int64_t expiry_ms,
                              std::uint32_t load_time_us, double beta, double u);

/// Threshold mode: true when less than `threshold * ttl` of the entry's life is left.
[[nodiscard]] bool threshold_due(std::int64_t now_ms, std::int64_t expiry_ms,
                                 std::chrono::milliseconds ttl, double threshold);

}  // namespace rediscache::detail
