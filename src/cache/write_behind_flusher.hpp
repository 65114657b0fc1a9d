// The write-behind flusher's state, shared by the files that make it up: write_behind_queue.cpp
// (the queue's API and the flusher's loop), write_behind_lease.cpp (the flusher lease and adopting
// what stopped flushers left pending) and write_behind_batch.cpp (reading a batch, the writer
// call, retries and dead letters). Also the pure decisions those parts take, tested without a
// server (tests/unit/write_behind_flusher_test.cpp). Private.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cache/write_behind_entries.hpp"
#include "rediscache/cache/detail/write_behind_queue.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/net/reply.hpp"
#include "rediscache/util/error_handler.hpp"
#include "rediscache/util/stats.hpp"
#include "util/counter_list.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

namespace wb {

/// The consumer group of every queue.
inline constexpr char kGroup[] = "flushers";

/// A duration as the decimal milliseconds Redis takes.
[[nodiscard]] std::string ms_text(std::chrono::milliseconds d);

// --- Pure parts of the lease (write_behind_lease.cpp) ---

/// True when an XPENDING summary ([count, first, last, [[consumer, count], ...]]) shows entries
/// pending on a consumer other than `self`: they must be claimed before anything new is read.
[[nodiscard]] bool others_pending(const Reply& summary, std::string_view self);

/// The consumers of an XINFO CONSUMERS reply that may be forgotten: not `self`, nothing
/// pending, idle longer than `min_idle`.
[[nodiscard]] std::vector<std::string> idle_consumers(const Reply& list, std::string_view self,
                                                      std::chrono::milliseconds min_idle);

// --- Pure parts of the batch (write_behind_batch.cpp) ---

/// The pause before retry number `failures` (1 for the first retry): initial_backoff doubling
/// up to max_backoff, without jitter.
[[nodiscard]] std::chrono::milliseconds retry_backoff(const WriteBehindOptions& options,
                                                      std::size_t failures);

/// The stream ids of `entries`, in order.
[[nodiscard]] std::vector<std::string> stream_ids(const std::vector<const Entry*>& entries);

/// The k field of a dead letter: "u", "r", or "?" for an entry that could not be parsed.
[[nodiscard]] const char* dead_letter_kind(const Entry& entry);

/// The entries of an XRANGE reply over the dead-letter stream.
[[nodiscard]] std::vector<DeadLetter> parse_dead_letters(const Reply& reply);

}  // namespace wb

using wb::kGroup;
using wb::ms_text;

struct WriteBehindQueue::State {
  using Clock = std::chrono::steady_clock;

  State(Client c, const std::string& name, BatchWriter w, const WriteBehindOptions& o);

  Client client;
  BatchWriter writer;
  WriteBehindOptions options;
  std::string stream;
  std::string dead;
  std::string lease;
  std::string marker_prefix;
  std::string consumer;
  std::string token;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;           // guarded by mu
  std::uint64_t wake_seq = 0;  // guarded by mu; bumped by flush() and stop
  std::thread flusher;

  std::atomic<bool> leader{false};
  REDISCACHE_WRITE_BEHIND_COUNTERS(REDISCACHE_DECLARE_COUNTER)

  // --- Flusher-thread state (only the flusher touches these) ---
  bool adopted = false;
  std::string retry_head;  // first entry id of the batch being retried
  std::size_t attempt = 0;
  std::chrono::steady_clock::time_point drain_deadline{};

  void report(std::string_view context, const std::exception& e) noexcept {
    report_error(options.on_error, context, e);
  }

  bool stopping() {
    const std::lock_guard<std::mutex> lock(mu);
    return stop;
  }

  // Sleeps up to `d`, or less when stopped or woken by flush(). While draining, never past the
  // drain deadline.
  void pause(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    const std::uint64_t seq = wake_seq;
    auto until = detail::saturating_deadline(Clock::now(), d);
    if (stop) until = std::min(until, drain_deadline);
    cv.wait_until(lock, until, [&] { return wake_seq != seq; });
  }

  // Like pause, but a flush() request does not cut it short (backoff between retries).
  void backoff(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    const bool was_stopping = stop;
    auto until = detail::saturating_deadline(Clock::now(), d);
    if (stop) until = std::min(until, drain_deadline);
    cv.wait_until(lock, until, [&] { return stop != was_stopping; });
  }

  bool past_drain_deadline() {
    const std::lock_guard<std::mutex> lock(mu);
    return stop && Clock::now() >= drain_deadline;
  }

  // --- The loop (write_behind_queue.cpp) ---
  void ensure_group();
  void run() noexcept;

  // --- The lease (write_behind_lease.cpp) ---
  long long acquire();
  // Claims what stopped flushers left pending. True once no other consumer holds entries (they
  // are older than anything not yet delivered, so they must be written first).
  bool adopt();
  void forget_idle_consumers();
  // Gives the lease up and leaves the group (shutdown). Never throws.
  void release() noexcept;

  // --- The batch (write_behind_batch.cpp) ---
  // nullopt: the lease is lost.
  std::optional<std::pair<bool, std::vector<Entry>>> read(std::size_t count,
                                                          const std::string& pending_after);
  // The next batch: this consumer's pending entries (a retry) alone, else new entries gathered
  // for up to max_delay or until max_batch. Empty when there is nothing or the lease is lost.
  std::vector<Entry> collect();
  void ack(const std::vector<std::string>& ids);
  void dead_letter(const Entry& e, std::string_view error, std::size_t attempts);
  // Writes one batch. Entries left unacknowledged stay pending here and come back first.
  void process(const std::vector<Entry>& entries);
  void failed(const Batch& batch, const std::exception& e);
};

}  // namespace rediscache::detail
