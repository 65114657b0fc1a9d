// Expansions shared by the components' X-macro counter lists (REDISCACHE_LOCK_COUNTERS and the
// like: each entry starts with the stats field, then what that list carries). With them a
// component's internal counters are `LIST(REDISCACHE_DECLARE_COUNTER)` and its stats() copies them
// with `LIST(REDISCACHE_COPY_COUNTER)`, `to` and `from` being the snapshot and the counters.
#pragma once

#include "rediscache/util/stats.hpp"

// NOLINTBEGIN(cppcoreguidelines-macro-usage): X-macro expansions
#define REDISCACHE_DECLARE_COUNTER(field, ...) Counter field;
#define REDISCACHE_COPY_COUNTER(field, ...) to.field = from.field.value();
// NOLINTEND(cppcoreguidelines-macro-usage)
