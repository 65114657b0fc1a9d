// CacheCore::Impl: the state of a cache and the steps its operations are built from. Private;
// its definitions are spread over cache_core.cpp, stampede_lock.cpp, refresh_ahead.cpp,
// cache_core_batch.cpp and lease_writes.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cache/circuit_breaker.hpp"
#include "cache/entry.hpp"
#include "cache/entry_decoder.hpp"
#include "cache/near_tier.hpp"
#include "cache/recovery_queue.hpp"
#include "cache/refresh_executor.hpp"
#include "cache/single_flight.hpp"
#include "cache/tag_space.hpp"
#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/detail/cache_core.hpp"
#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/util/errors.hpp"
#include "rediscache/util/stats.hpp"
#include "util/background_loop.hpp"

namespace rediscache::detail {

/// Uniform in (0, 1], from a per-thread engine seeded by the OS (for jitter, not secrets).
[[nodiscard]] double uniform01();
/// Throws ReplyError "redis <endpoint>: <command>: <server message>" (redacted, as the client
/// does) when `reply` is an error.
void throw_if_error(const Reply& reply, const std::string& endpoint, const char* command);
/// `d` in microseconds, clamped to [0, UINT32_MAX] (the entry header's load-time field).
[[nodiscard]] std::uint32_t saturating_us(std::chrono::steady_clock::duration d);

/// Thrown out of a background load whose cache was destroyed while its loader ran: the stack
/// unwinds to the task without touching the cache.
struct Abandoned {};

/// The counters and histograms behind CacheStats.
struct CacheCounters {
#define REDISCACHE_CACHE_COUNTER(field, metric, help) Counter field;
  REDISCACHE_CACHE_COUNTERS(REDISCACHE_CACHE_COUNTER)
#undef REDISCACHE_CACHE_COUNTER
  LatencyHistogram get_latency, load_latency, write_latency;
};

/// Records the time from construction to destruction into a histogram.
class ScopedTimer {
 public:
  explicit ScopedTimer(LatencyHistogram& histogram)
      : histogram_(histogram), start_(std::chrono::steady_clock::now()) {}
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;
  ~ScopedTimer() { histogram_.record(std::chrono::steady_clock::now() - start_); }

 private:
  LatencyHistogram& histogram_;
  std::chrono::steady_clock::time_point start_;
};

class CacheCore::Impl {
 public:
  Impl(Client client, CacheOptions options, TypeOps ops);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Found get_or_load(std::string_view id, const ErasedLoader& loader);
  std::vector<Found> get_many(const std::vector<std::string>& ids, const ErasedBatchLoader& loader);
  WriteResult set(std::string_view id, const std::string& payload,
                  const std::vector<std::string>& tags = {});
  /// With `may_queue` false (invalidate_now), Redis failures throw whatever the options say.
  WriteResult invalidate(std::string_view id, bool may_queue = true);
  WriteResult invalidate_tags(const std::vector<std::string>& tags);
  WriteResult invalidate_all();
  std::string key_for(std::string_view id);
  [[nodiscard]] CacheStats stats() const;
  [[nodiscard]] const Client& client() const noexcept { return client_; }
  [[nodiscard]] const CacheOptions& options() const noexcept { return options_; }

 private:
  /// One operation's view of Redis: after a connection failure, the rest of the call skips it.
  struct Call {
    bool redis_down = false;
    /// Tag stamps read so far in this call (tag, reply): a tagged entry's check reads only the
    /// ones missing here.
    std::vector<std::pair<std::string, Reply>> stamps;
    /// The last key counted in tag_misses: the lease's re-read of it does not count again.
    std::string tag_missed;
  };

  enum class Freshness { kMissing, kFresh, kStale, kExpired };

  /// What a read found under a key.
  struct Lookup {
    Freshness state = Freshness::kMissing;
    EntryMeta meta;
    Object value;  // decoded for kFresh and kStale positive entries
  };

  /// Outcome of taking the stampede lock or waiting for its holder's value.
  struct Acquire {
    bool leased = false;      // we hold the lock: load and store under it
    bool have_value = false;  // another process's value arrived: return `value`
    Object value;
  };

  /// An entry ready to write.
  struct Prepared {
    std::string entry;
    std::optional<std::chrono::milliseconds> px;  // Redis expiry; unset: none (allow_no_ttl)
  };

  /// Runs `fn` (Redis commands) unless the breaker or an earlier failure in this call says no.
  /// Connection failures feed the breaker and mark the call; error replies only count. Returns
  /// whether `fn` completed.
  template <class F>
  bool try_redis(Call& call, const char* context, F&& fn) {
    if (call.redis_down) return false;
    if (!breaker_.allow()) {
      counters_.breaker_rejections.add();
      call.redis_down = true;
      return false;
    }
    try {
      fn();
      breaker_.record_success();
      if (recovery_ && !recovery_->empty()) wake_recovery();
      return true;
    } catch (const Error& e) {
      if (on_redis_error(e)) call.redis_down = true;
      report(context, e);
      return false;
    }
  }

  /// Runs `fn` for an operation whose failure the caller must see: errors are counted, fed to
  /// the breaker and rethrown. Not gated by the breaker: an invalidation is worth a timeout.
  template <class F>
  void write_redis(F&& fn) {
    try {
      fn();
      breaker_.record_success();
    } catch (const Error& e) {
      on_redis_error(e);
      throw;
    }
  }

  /// An invalidation (or set) that auto-recovery may queue: with CacheOptions::recovery on and
  /// `may_queue`, an open breaker or a connection-level failure calls `queue` (which records
  /// what Redis missed) and returns kQueued, and an error reply still throws; otherwise this is
  /// write_redis.
  template <class F, class Q>
  WriteResult write_or_queue(bool may_queue, const char* context, F&& fn, Q&& queue) {
    if (!recovery_ || !may_queue) {
      write_redis(fn);
      return WriteResult::kApplied;
    }
    if (!breaker_.allow()) {
      counters_.breaker_rejections.add();
      queue();
      return WriteResult::kQueued;
    }
    try {
      fn();
      breaker_.record_success();
      if (!recovery_->empty()) wake_recovery();
      return WriteResult::kApplied;
    } catch (const Error& e) {
      if (!on_redis_error(e)) throw;
      report(context, e);
      queue();
      return WriteResult::kQueued;
    }
  }

  // --- Auto-recovery (recovery.cpp) ---
  /// Records an invalidation Redis missed: queued (counted), or dropped when the queue is full
  /// (counted, reported once until the queue next drains). Starts the replay loop.
  void queue_missed(RecoveryQueue::Kind kind, std::string target, std::string key = {});
  /// Wakes the replay loop (Redis just answered a call of this cache).
  void wake_recovery() noexcept;
  /// The replay loop's step: while operations are pending and the breaker allows, replays them
  /// in order, a batch at a time. Never throws; stops at the first connection failure.
  bool replay_missed() noexcept;
  /// Replays `ops` (a prefix of the queue), settling each run that Redis took; an error reply
  /// drops the run it concerns (counted, reported). Throws the Client's connection errors.
  void replay(const std::vector<RecoveryQueue::Op>& ops);
  /// The destructor's last attempts (RecoveryOptions::drain_timeout); what is left is counted
  /// as dropped and reported.
  void drain_missed() noexcept;
  /// Queues the DEL of `id`'s entry (its key under the last known version) and, in this
  /// process, forgets its flight and near copy at once.
  void queue_invalidation(std::string_view id);
  /// NearTier::wrote, queueing the announcement when it could not be published.
  void announce(const std::string& key);

  /// Counts a Redis error and feeds the breaker; true for connection-level failures.
  bool on_redis_error(const Error& e);
  /// Passes a swallowed error to options_.on_error, if any; never throws.
  void report(std::string_view context, const std::exception& e) const noexcept;

  [[nodiscard]] std::int64_t now_ms() const;
  [[nodiscard]] std::chrono::milliseconds jittered(std::chrono::milliseconds base) const;
  [[nodiscard]] bool stale_usable(const Lookup& lookup) const;

  /// Whether a tagged entry is still valid: its tags' stamps (from call.stamps, the missing ones
  /// read with one MGET) are all at most its tag clock. False when they cannot be read, or when
  /// this cache has no tags (it cannot check them): a miss is always safe.
  bool tags_valid(Call& call, const EntryMeta& meta);
  /// Reads the stamps of `tags` not yet in call.stamps, with one MGET. False when that failed.
  bool fetch_stamps(Call& call, const std::vector<std::string>& tags);
  /// The tag clock now (see TagSpace), for a load about to start; nullopt when Redis is out of
  /// the call. Without CacheOptions::tags: nullopt, no round trip.
  std::optional<std::uint64_t> read_tag_clock(Call& call);
  /// Reads `key` for get_or_load: a GET, or, when this process knows the entry's tags, GET and
  /// their stamps in one round trip (the stamps go to call.stamps). Throws the client's errors.
  EntryRead read_entry(Call& call, const std::string& key);

  /// Classifies and decodes one raw entry read just now, and counts its bytes. A corrupt entry
  /// is counted, deleted, and reported to the caller as kMissing.
  Lookup inspect(Call& call, const std::string& key, const std::optional<std::string>& raw);
  /// The same as of `now` (ms since the epoch), without counting bytes_read (a batch counts
  /// once for all its entries). Corrupt keys are appended to `corrupt` when given (for one
  /// batched DEL), else deleted at once.
  /// `decoded`: the near tier's decoded copy of the entry, used instead of `raw` (which is then
  /// empty) and not decoded again.
  Lookup inspect(Call& call, const std::string& key, const std::optional<std::string>& raw,
                 std::int64_t now, std::vector<std::string>* corrupt,
                 const DecodedEntry* decoded = nullptr);
  /// inspect() without the tag check.
  Lookup decode_lookup(Call& call, const std::string& key, const std::optional<std::string>& raw,
                       std::int64_t now, std::vector<std::string>* corrupt);
  /// The freshness of a decoded entry as of `now`, and its value unless it has expired.
  Lookup lookup_of(const DecodedEntry& entry, std::int64_t now) const;

  /// Lets the cache's destructor know which background loads are using it: a background load
  /// enters before it touches the cache, leaves while its loader runs, and finds the door
  /// closed when the cache is gone (then it drops its result without touching anything).
  struct Lifeline {
    std::mutex mu;
    std::condition_variable cv;
    bool alive = true;  // guarded by mu
    int inside = 0;     // guarded by mu
    bool enter();
    void leave();
    /// Bars entry and waits for those inside (they only do bounded Redis work there).
    void close();
  };

  /// A load that runs on load_executor_ for callers that wait for it with a bound.
  struct BackgroundLoad {
    std::string id;
    std::string key;
    std::string lock_key;
    std::shared_ptr<const ErasedLoader> loader;
    std::shared_ptr<Flight> flight;
    Lookup stale;
  };

  /// How long a caller waits for a load: until `at`; `soft` when a stale copy is served then.
  struct Bound {
    std::chrono::steady_clock::time_point at;
    bool soft = false;
  };
  /// The bound of a caller whose own read found `stale`, counted from `start`; none without
  /// load timeouts (or with only a soft one and no stale copy).
  [[nodiscard]] std::optional<Bound> bound_for(const Lookup& stale,
                                               std::chrono::steady_clock::time_point start) const;
  /// At a caller's bound: counts it and returns the stale copy, else throws LoadTimeout.
  Object give_up(const Bound& bound, const Lookup& stale);
  /// Runs `job` on the caller's behalf (on load_executor_), finishing its flight.
  void run_background(const std::shared_ptr<Lifeline>& life,
                      const std::shared_ptr<BackgroundLoad>& job);
  /// get_or_load's miss with load timeouts: the leader hands the load to the executor, then
  /// the leader and every follower wait for the flight up to their own bounds.
  Found await_bounded(std::string_view id, const std::string& key, const std::string& lock_key,
                      const ErasedLoader& loader, const SingleFlight::Joined& joined,
                      const Lookup& found);

  /// Calls the loader; with `outside` (a background load) it leaves the lifeline for the call
  /// and re-enters after it, throwing Abandoned when the cache is gone meanwhile.
  Object call_loader(const ErasedLoader& loader, LoadRequest& request, Lifeline* outside);

  /// The miss path behind single flight: lock (or wait), load, store. `outside`: see
  /// call_loader.
  Object lead_load(Call& call, std::string_view id, const std::string& key,
                   const std::string& lock_key, const ErasedLoader& loader, Lookup stale,
                   Lifeline* outside = nullptr);
  /// With CacheOptions::tags, the tag clock is read in the same round trip as the lock and
  /// left in `*tag_clock` (as of the last attempt).
  Acquire acquire_or_wait(Call& call, const std::string& key, const std::string& lock_key,
                          const std::string& token, Lookup& stale,
                          std::optional<std::uint64_t>* tag_clock);
  void release(Call& call, const std::string& lock_key, const std::string& token);

  /// Builds an entry; throws std::length_error above max_value_bytes (or the decode limit).
  /// `ttl`: the loader's TTL for it (LoadContext::set_ttl), used without jitter. `tags` (may be
  /// empty) and `tag_clock` go into the entry's tag section.
  Prepared build(std::string_view payload, bool negative, std::uint32_t load_us,
                 std::optional<std::chrono::milliseconds> ttl = std::nullopt,
                 const std::vector<std::string>& tags = {}, std::uint64_t tag_clock = 0) const;
  /// Encodes and builds for the read paths: failures are counted and reported, not thrown.
  /// nullopt also when "not found" is not to be cached, the loader said do_not_cache, or the
  /// loader tagged it and the tag clock before its load is unknown. `request`: the loader's call
  /// (its decision and tag clock), if any.
  std::optional<Prepared> prepare(const Object& value, std::uint32_t load_us,
                                  const LoadRequest* request = nullptr);
  /// Writes under the lease `token` (nullptr: unconditionally) and counts.
  void store(Call& call, const std::string& key, const std::string& lock_key,
             const std::string* token, const Object& value, std::uint32_t load_us,
             const LoadRequest* request = nullptr);
  /// Applies keep_stale: the value to return and store instead of the loader's.
  Object decided_value(Object loaded, const LoadRequest& request);

  /// get_many's leases on the ids it loads, taken in one pipeline: held[i] says whether the
  /// lock of ids[i] is now ours. Empty when leases are off or Redis is out of the call.
  struct BatchLeases {
    std::string token;
    std::vector<std::string> lock_keys;
    std::vector<bool> held;
    std::optional<std::uint64_t> tag_clock;  // with CacheOptions::tags: read with the leases
  };
  BatchLeases take_leases(Call& call, const std::vector<std::string>& ids, long long version);
  /// Gives back every lease held (one pipeline): after a failed batch load. `owned[i]` is the
  /// index in `keys` of the id of lease i.
  void release_leases(Call& call, const std::vector<std::string>& keys,
                      const std::vector<std::size_t>& owned, const BatchLeases& leases);
  /// One command of get_many's write-back: a plain SET (leases off), a store under the lease,
  /// or the lease given back.
  struct LeaseWrite {
    enum Kind { kSet, kStore, kRelease } kind;
    std::size_t lease;                             // index into BatchLeases (kStore, kRelease)
    std::size_t key;                               // index into the batch's keys
    std::string entry;                             // kSet, kStore
    std::optional<std::chrono::milliseconds> ttl;  // kSet, kStore
  };
  /// Sends the deletion of `corrupt` and then `writes` in one pipeline, the leased ones through
  /// the store script, many per run (scripts the server lost go again as EVAL in one more round
  /// trip), and counts writes, bytes and lost leases. With `give_back_on_failure`, the leases of
  /// runs that failed are given back in one more round trip (see give_back_failed).
  void send_lease_writes(Call& call, const std::vector<std::string>& keys,
                         const BatchLeases& leases, const std::vector<LeaseWrite>& writes,
                         const std::vector<std::string>& corrupt, bool give_back_on_failure = true);
  /// send_lease_writes's plan: which writes are plain SETs, how the leased ones group into
  /// script runs, and each leased write's expiry argument ("-": give the lease back).
  struct LeasePlan {
    std::vector<std::string> expiries;           // ARGV text per write, alive until sent
    std::vector<std::vector<std::size_t>> runs;  // indexes into writes, per script run
    std::vector<std::size_t> sets;               // indexes into writes: plain SETs
  };
  /// What one write-back sends, for its phases.
  struct LeaseBatch {
    const std::vector<std::string>& keys;
    const BatchLeases& leases;
    const std::vector<LeaseWrite>& writes;
    const LeasePlan& plan;
  };
  static LeasePlan plan_lease_writes(const std::vector<LeaseWrite>& writes, std::size_t per_run);
  /// Queues one run of the store script (EVALSHA, or EVAL when `by_source`).
  static void queue_store_run(Pipeline& pipeline, const LeaseBatch& batch,
                              const std::vector<std::size_t>& run, bool by_source);
  /// Runs the pipeline; runs the server answers NOSCRIPT go again as EVAL in one round trip.
  /// Returns `offset` replies (the DELs queued first), one per SET, then one per run.
  static std::vector<Reply> exec_reloading_scripts(Pipeline& pipeline, const LeaseBatch& batch,
                                                   std::size_t offset);
  /// Counts writes and bytes written, and the leases lost, from the write-back's replies (the
  /// first `offset` are not the batch's writes).
  void count_lease_replies(const LeaseBatch& batch, const std::vector<Reply>& replies,
                           std::size_t offset);
  /// After a write-back: gives back, in one round trip on a fresh call, the leases of every run
  /// whose reply is an error, or of every run when `replies` is null (the pipeline failed).
  void give_back_failed(const std::vector<std::string>& keys, const LeaseBatch& batch,
                        const std::vector<Reply>* replies, std::size_t offset);
  /// get_many's write-back in one pipeline: the loaded values of `owned` (indexes into
  /// keys/values; under their leases when `leases` holds any, else unconditionally) and the
  /// deletion of corrupt entries. Counts writes, bytes and lost leases.
  /// `decisions`, when given, runs parallel to `owned` (the loader's LoadContext decisions).
  void write_back(Call& call, const std::vector<std::string>& keys,
                  const std::vector<std::size_t>& owned, const std::vector<Object>& values,
                  const BatchLeases& leases, std::uint32_t load_us,
                  const std::vector<std::string>& corrupt,
                  const std::vector<LoadRequest>* decisions = nullptr);

  /// One get_many's state, phase to phase; index j is the j-th distinct id.
  struct Batch {
    std::vector<std::string_view> ids;
    long long version = 0;
    std::vector<std::string> keys;
    std::vector<EntryRead> reads;  // from Redis, or the near tier's decoded copies
    std::vector<Object> values;
    std::vector<bool> exclusive;  // decoded for this call alone (see Found::exclusive)
    std::vector<Lookup> stale;
    std::vector<std::string> corrupt;
    std::vector<std::size_t> owned;  // misses this caller loads
    std::vector<std::shared_ptr<Flight>> owned_flights;
    std::vector<std::pair<std::size_t, std::shared_ptr<Flight>>> awaited;  // loaded by others
  };
  /// Phase 1: the keys of `ids` and their entries, from the near tier and one MGET (or none,
  /// with Redis out of the call).
  Batch read_batch(Call& call, const std::vector<std::string_view>& ids);
  /// Phase 2: hits take their values; each miss joins its flight, as leader (owned) or not.
  void classify_batch(Call& call, Batch& batch);
  /// Phase 3: leases, one batch load and the write-back for the owned misses; completes every
  /// owned flight, also when the load throws (the loader's exception, unless stale serves all).
  void load_owned(Call& call, Batch& batch, const ErasedBatchLoader& loader,
                  Lifeline* outside = nullptr);
  /// Phases 3 and 4 with load timeouts: the owned misses load on load_executor_ (a copy of
  /// them, see BackgroundBatch), and this call waits for every miss up to its bound.
  void load_bounded(Call& call, Batch& batch, const ErasedBatchLoader& loader);
  /// get_many's owned misses, owned by a background load.
  struct BackgroundBatch {
    std::vector<std::string> id_store;  // what batch.ids point into
    Batch batch;
    ErasedBatchLoader loader;  // a copy that owns the user's loader (see CacheAside::get_many)
  };
  /// After a failed batch load: serves stale values where usable, fails the other flights with
  /// `error`. Advances `finished`; true when every owned id was served stale.
  bool serve_stale_or_fail(Batch& batch, std::size_t& finished, const std::exception_ptr& error);
  /// Phase 4: the values of the misses another caller of this cache was loading.
  void await_others(Batch& batch);

  /// Refresh-ahead on a fresh hit: XFetch in this call, threshold in the background. Returns
  /// the value to give the caller.
  Object refresh_ahead(Call& call, std::string_view id, const std::string& key,
                       const std::string& lock_key, const Lookup& hit, const ErasedLoader& loader);
  /// One early refresh of the entry read with logical expiry `seen_expiry_ms`: take the lock
  /// without waiting, load, store. When a newer entry is already there, returns it without
  /// loading. nullptr when it did not happen (lock held elsewhere, Redis down, loader failed:
  /// all reported, none thrown).
  Object refresh_now(Call& call, std::string_view id, const std::string& key,
                     const std::string& lock_key, std::int64_t seen_expiry_ms,
                     const ErasedLoader& loader);

  Client client_;
  const CacheOptions options_;
  TypeOps ops_;
  CompressionSettings compression_;
  std::size_t decode_limit_;
  EntryDecoder decoder_;  // before near_, which reads through it
  mutable KeySpace keys_;
  CircuitBreaker breaker_;
  SingleFlight flights_;
  mutable CacheCounters counters_;
  std::mutex refresh_mu_;
  std::unordered_set<std::string> refreshing_;  // guarded by refresh_mu_; keys queued or running
  std::unique_ptr<NearTier> near_;              // CacheOptions::near_cache; null when off
  std::unique_ptr<TagSpace> tags_;              // CacheOptions::tags; null when off
  // CacheOptions::recovery: what Redis missed; null when off.
  std::unique_ptr<RecoveryQueue> recovery_;
  std::mutex recovery_mu_;
  // Replays recovery_; started by the first queue_missed. Stopped first by the destructor.
  std::unique_ptr<BackgroundLoop> recovery_loop_;  // guarded by recovery_mu_
  bool recovery_closed_ = false;                   // guarded by recovery_mu_
  std::atomic<bool> outage_reported_{false};       // a replay failure reported this outage
  std::atomic<bool> overflow_reported_{false};     // a drop reported since the queue drained
  std::shared_ptr<Lifeline> lifeline_ = std::make_shared<Lifeline>();
  // With a load timeout: runs the loads callers wait for with a bound. The destructor waits for
  // it (bounded), then closes lifeline_.
  std::unique_ptr<RefreshExecutor> load_executor_;
  // Last member: destroyed (joined) first, while everything its tasks use still exists.
  std::unique_ptr<RefreshExecutor> executor_;
};

}  // namespace rediscache::detail
