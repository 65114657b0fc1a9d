// Random tokens from the operating system's CSPRNG, for lock tokens and session ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rediscache/export.hpp"

namespace rediscache {

/// `bytes` random bytes from getrandom(2), encoded as unpadded URL-safe base64 (so 16 bytes,
/// 128 bits, give 22 characters). Thread-safe. Throws std::system_error if the kernel refuses.
[[nodiscard]] REDISCACHE_EXPORT std::string random_token(std::size_t bytes = 16);

/// A random 64-bit value from the same source (for jitter seeds, not for secrets).
[[nodiscard]] REDISCACHE_EXPORT std::uint64_t random_u64();

}  // namespace rediscache
