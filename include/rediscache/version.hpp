// rediscache version: compile-time macros and the version of the library actually linked.
// Compare the two to detect a header/library mismatch.
#pragma once

#include <string_view>

#include "rediscache/export.hpp"

/// Major version: incremented for incompatible API or ABI changes.
#define REDISCACHE_VERSION_MAJOR 0
/// Minor version: incremented for backward-compatible additions.
#define REDISCACHE_VERSION_MINOR 1
/// Patch version: incremented for backward-compatible fixes.
#define REDISCACHE_VERSION_PATCH 0

namespace rediscache {

/// The version of the linked library as "MAJOR.MINOR.PATCH". No round trips, never throws.
/// Thread-safe.
REDISCACHE_EXPORT std::string_view version() noexcept;

}  // namespace rediscache
