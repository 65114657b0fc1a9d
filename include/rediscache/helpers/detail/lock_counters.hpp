// The one list of DistributedLock's and of Redlock's counters: each entry is (stats field,
// Prometheus metric name, metric help). LockStats's / RedlockStats's counter fields, the internal
// counters, stats() and the metrics writer all expand them, so a new counter is one new line here.
#pragma once

// NOLINTBEGIN(cppcoreguidelines-macro-usage): an X-macro is the point
#define REDISCACHE_LOCK_COUNTERS(X)                                                                \
  /* Successful acquisitions. */                                                                   \
  X(acquisitions, "rediscache_lock_acquisitions_total", "Successful acquisitions")                 \
  /* Attempts that found the lock held (contention). */                                            \
  X(failed_attempts, "rediscache_lock_failed_attempts_total", "Attempts that found the lock held") \
  /* `lock()` calls that gave up after their wait timeout. */                                      \
  X(timeouts, "rediscache_lock_timeouts_total", "lock() calls that gave up")                       \
  /* Releases that deleted our own lock. */                                                        \
  X(releases, "rediscache_lock_releases_total", "Releases of a lock we held")                      \
  /* Releases that found the lock expired or taken. */                                             \
  X(releases_not_held, "rediscache_lock_releases_not_held_total",                                  \
    "Releases that found the lock expired or taken")                                               \
  /* Extensions (user or watchdog) of a lock we held. */                                           \
  X(extensions, "rediscache_lock_extensions_total", "Extensions of a lock we held")                \
  /* Extensions refused: the lock was not ours. */                                                 \
  X(extensions_not_held, "rediscache_lock_extensions_not_held_total",                              \
    "Extensions refused: not our lock")                                                            \
  /* Locks the watchdog found gone while the guard lived. */                                       \
  X(lost, "rediscache_lock_lost_total", "Locks the watchdog found gone")                           \
  /* I/O errors swallowed by destructors and the watchdog. */                                      \
  X(errors, "rediscache_lock_errors_total", "I/O errors swallowed by destructors and the watchdog")

#define REDISCACHE_REDLOCK_COUNTERS(X)                                                             \
  /* Rounds that reached a quorum in time. */                                                      \
  X(acquisitions, "rediscache_redlock_acquisitions_total", "Rounds that reached a quorum in time") \
  /* Rounds without a quorum (or without validity left). */                                        \
  X(failed_rounds, "rediscache_redlock_failed_rounds_total", "Rounds without a quorum")            \
  /* Per-server I/O or reply errors (counted as "no"). */                                          \
  X(server_errors, "rediscache_redlock_server_errors_total", "Per-server errors")                  \
  /* Guards released, or rounds rolled back, on all servers. */                                    \
  X(releases, "rediscache_redlock_releases_total", "Releases on all servers")
// NOLINTEND(cppcoreguidelines-macro-usage)
