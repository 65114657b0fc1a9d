// The one list of InvalidationListener's counters: each entry is (InvalidationStats field, what
// it counts). InvalidationStats's counter fields, the listener's internal counters and stats()
// all expand it, so a new counter is one new line here.
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): an X-macro is the point
#define REDISCACHE_INVALIDATION_COUNTERS(X)                                \
  X(connects, "Successful (re)connects")                                   \
  X(connect_failures, "Connect attempts that failed")                      \
  X(connection_losses, "Times a live connection was lost (cache flushed)") \
  X(messages, "Invalidation messages received")                            \
  X(keys_invalidated, "Keys named by those messages")                      \
  X(flushes, "Flush-everything messages (FLUSHDB, or published)")          \
  X(malformed, "Messages on the channel that were not understood")         \
  X(errors, "Errors reported to on_error")
// NOLINTEND(cppcoreguidelines-macro-usage)
