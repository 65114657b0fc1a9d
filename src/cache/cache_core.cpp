// CacheCore::Impl: construction, reading and classifying entries, building and storing them,
// get_or_load, the explicit writes and stats. The stampede lock (stampede_lock.cpp), refresh-ahead
// (refresh_ahead.cpp), the batch path (cache_core_batch.cpp) and its leased write-back
// (lease_writes.cpp) live beside it.
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "cache/cache_core_impl.hpp"
#include "cache/lease_scripts.hpp"
#include "net/connection.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

double uniform01() {  // in (0, 1]
  thread_local std::mt19937_64 engine(random_u64());
  return 1.0 - std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

void throw_if_error(const Reply& reply, const std::string& endpoint, const char* command) {
  // The client's own check: "redis host:port: CMD: <message>", with echoed arguments cut.
  if (reply.is_error()) throw_reply_error(endpoint, command, reply);
}

std::uint32_t saturating_us(std::chrono::steady_clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX));
}

namespace {

// Decompressed payloads may be larger than stored entries, but never without bound: a damaged
// or hostile frame must not allocate gigabytes.
std::size_t decode_limit_for(const CacheOptions& options) {
  constexpr std::size_t kFloor = std::size_t{16} << 20;
  constexpr std::size_t kCeiling = std::size_t{512} << 20;
  const std::size_t scaled =
      options.max_value_bytes > kCeiling / 64 ? kCeiling : options.max_value_bytes * 64;
  return std::clamp(scaled, kFloor, kCeiling);
}

CacheOptions validated(CacheOptions options) {
  options.validate();
  return options;
}

bool timeouts_on(const CacheOptions& options) {
  return options.load_soft_timeout.count() > 0 || options.load_hard_timeout.count() > 0;
}

const std::vector<std::string>& no_tags() {
  static const std::vector<std::string> kNone;
  return kNone;
}

// A tag's stamp must outlive every entry written before it: the longest an entry of this cache
// can live (0: for ever, with allow_no_ttl). Caches sharing a tag namespace should agree on it.
std::chrono::milliseconds stamp_ttl_for(const CacheOptions& options) {
  if (options.allow_no_ttl) return std::chrono::milliseconds(0);
  std::chrono::milliseconds longest = options.max_ttl;
  if (options.ttl) longest = std::max(longest, *options.ttl);
  if (options.negative_ttl) longest = std::max(longest, *options.negative_ttl);
  return longest + options.stale_window;  // each at most kMaxDuration: no overflow
}

}  // namespace

// --- Impl: construction, helpers ------------------------------------------------------------

CacheCore::Impl::Impl(Client client, CacheOptions options, TypeOps ops)
    : client_(std::move(client)),
      options_(validated(std::move(options))),
      ops_(ops),
      compression_{options_.compress_above, options_.compression_level},
      decode_limit_(decode_limit_for(options_)),
      decoder_(options_.entry_format, ops_, decode_limit_),
      keys_(client_, options_.name,
            KeySpaceOptions{options_.version_check_interval, KeySpaceOptions{}.version_key_ttl,
                            options_.key_layout}),
      breaker_(options_.breaker) {
  if (options_.near_cache) near_ = std::make_unique<NearTier>(client_, options_, decoder_);
  if (options_.tags) tags_ = std::make_unique<TagSpace>(*options_.tags, stamp_ttl_for(options_));
  if (options_.refresh.mode == RefreshMode::kThreshold) {
    executor_ =
        std::make_unique<RefreshExecutor>(options_.refresh.threads, options_.refresh.max_queue);
  }
  if (options_.recovery.enabled) {
    recovery_ = std::make_unique<RecoveryQueue>(options_.recovery.max_operations,
                                                options_.recovery.max_bytes);
  }
  if (timeouts_on(options_)) {
    // One thread per background load; the queue only holds loads between two threads' turns.
    load_executor_ = std::make_unique<RefreshExecutor>(options_.max_background_loads,
                                                       options_.max_background_loads);
  }
}

CacheCore::Impl::~Impl() {
  if (load_executor_) {
    // Loads still running get up to the longest load timeout to finish and store; then their
    // threads are detached, and lifeline_ makes them drop their results untouched.
    const std::chrono::milliseconds bound =
        std::max(options_.load_soft_timeout, options_.load_hard_timeout);
    load_executor_->shutdown(bound);
    lifeline_->close();
    load_executor_.reset();
  }
  executor_.reset();
  if (recovery_) drain_missed();  // nothing else of this cache runs any more
}

bool CacheCore::Impl::Lifeline::enter() {
  const std::lock_guard<std::mutex> lock(mu);
  if (!alive) return false;
  ++inside;
  return true;
}

void CacheCore::Impl::Lifeline::leave() {
  {
    const std::lock_guard<std::mutex> lock(mu);
    --inside;
  }
  cv.notify_all();
}

void CacheCore::Impl::Lifeline::close() {
  std::unique_lock<std::mutex> lock(mu);
  alive = false;
  cv.wait(lock, [this] { return inside == 0; });
}

bool CacheCore::Impl::on_redis_error(const Error& e) {
  counters_.redis_errors.add();
  switch (e.code()) {
    case Errc::kIo:
    case Errc::kTimeout:
    case Errc::kProtocol:
      if (breaker_.record_failure()) counters_.breaker_opens.add();
      return true;
    case Errc::kReply:
      breaker_.record_success();  // Redis answered: it is up
      return false;
    default:
      breaker_.record_neutral();  // pool exhausted: says nothing about Redis itself
      return true;
  }
}

void CacheCore::Impl::report(std::string_view context, const std::exception& e) const noexcept {
  report_error(options_.on_error, context, e);
}

std::int64_t CacheCore::Impl::now_ms() const {
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

std::chrono::milliseconds CacheCore::Impl::jittered(std::chrono::milliseconds base) const {
  if (options_.ttl_jitter <= 0.0) return base;
  const double factor = 1.0 + options_.ttl_jitter * (2.0 * uniform01() - 1.0);
  const auto ms = static_cast<long long>(std::llround(static_cast<double>(base.count()) * factor));
  return std::chrono::milliseconds(std::max<long long>(ms, 1));
}

bool CacheCore::Impl::stale_usable(const Lookup& lookup) const {
  return lookup.state == Freshness::kStale &&
         now_ms() < saturating_add(lookup.meta.expires_at_ms, options_.stale_window.count());
}

CacheCore::Impl::Lookup CacheCore::Impl::inspect(Call& call, const std::string& key,
                                                 const std::optional<std::string>& raw) {
  if (raw) counters_.bytes_read.add(raw->size());
  return inspect(call, key, raw, now_ms(), nullptr);
}

CacheCore::Impl::Lookup CacheCore::Impl::inspect(Call& call, const std::string& key,
                                                 const std::optional<std::string>& raw,
                                                 std::int64_t now,
                                                 std::vector<std::string>* corrupt,
                                                 const DecodedEntry* decoded) {
  Lookup lookup =
      decoded != nullptr ? lookup_of(*decoded, now) : decode_lookup(call, key, raw, now, corrupt);
  if (lookup.state != Freshness::kFresh && lookup.state != Freshness::kStale) return lookup;
  // An invalidation of this entry that Redis missed is still queued: this process knows the
  // entry is outdated, so it is a miss (and never served stale).
  if (recovery_ && recovery_->outdates(key, lookup.meta.tags)) return Lookup{};
  if (lookup.meta.tags.empty()) {
    // Stamps were read for tags this entry no longer has: stop reading them for it.
    if (tags_ && !call.stamps.empty()) tags_->remember(key, no_tags());
    return lookup;
  }
  if (tags_) tags_->remember(key, lookup.meta.tags);
  if (tags_valid(call, lookup.meta)) return lookup;
  // Invalidated by a tag: a miss from then on, never served stale. Not deleted: the next load
  // overwrites it under its lease.
  if (call.tag_missed != key) {
    counters_.tag_misses.add();
    call.tag_missed = key;
  }
  return Lookup{};
}

namespace {

const Reply* stamp_in(const std::vector<std::pair<std::string, Reply>>& stamps,
                      const std::string& tag) {
  for (const auto& [name, reply] : stamps) {
    if (name == tag) return &reply;
  }
  return nullptr;
}

}  // namespace

bool CacheCore::Impl::fetch_stamps(Call& call, const std::vector<std::string>& tags) {
  std::vector<std::string> missing;
  for (const std::string& tag : tags) {
    if (stamp_in(call.stamps, tag) == nullptr &&
        std::find(missing.begin(), missing.end(), tag) == missing.end()) {
      missing.push_back(tag);
    }
  }
  if (missing.empty()) return true;
  return try_redis(call, "MGET tag stamps", [&] {
    std::vector<std::string> argv{"MGET"};
    for (const std::string& tag : missing) argv.push_back(tags_->stamp_key(tag));
    Reply reply = client_.command(argv);
    throw_if_error(reply, client_.endpoint(), "MGET");
    if (!reply.is_array() || reply.elements.size() != missing.size()) {
      throw ProtocolError("redis " + client_.endpoint() + " MGET: unexpected reply shape");
    }
    for (std::size_t i = 0; i < missing.size(); ++i) {
      call.stamps.emplace_back(std::move(missing[i]), std::move(reply.elements[i]));
    }
  });
}

bool CacheCore::Impl::tags_valid(Call& call, const EntryMeta& meta) {
  if (!tags_ || !fetch_stamps(call, meta.tags)) return false;
  std::vector<const Reply*> stamps;
  stamps.reserve(meta.tags.size());
  for (const std::string& tag : meta.tags) stamps.push_back(stamp_in(call.stamps, tag));
  return TagSpace::still_valid(meta.tag_clock, stamps);
}

std::optional<std::uint64_t> CacheCore::Impl::read_tag_clock(Call& call) {
  if (!tags_) return std::nullopt;
  std::optional<std::uint64_t> clock;
  try_redis(call, "GET tag clock", [&] {
    const Reply reply = client_.command({"GET", tags_->clock_key()});
    throw_if_error(reply, client_.endpoint(), "GET");
    clock = TagSpace::parse_counter(reply);
  });
  return clock;
}

EntryRead CacheCore::Impl::read_entry(Call& call, const std::string& key) {
  if (near_) return near_->read(key);
  EntryRead read;
  const std::vector<std::string> known =
      tags_ ? tags_->remembered(key) : std::vector<std::string>{};
  if (known.empty()) {
    read.raw = client_.get(key);
    return read;
  }
  // The entry and its tags' stamps in one round trip (on a cluster, both batches are sent
  // before either reply is read).
  Pipeline pipeline = client_.pipeline();
  pipeline.get(key);
  std::vector<std::string> argv{"MGET"};
  for (const std::string& tag : known) argv.push_back(tags_->stamp_key(tag));
  pipeline.command(argv);
  std::vector<Reply> replies = pipeline.exec();
  throw_if_error(replies.at(0), client_.endpoint(), "GET");
  Reply& stamps = replies.at(1);
  if (stamps.is_array() && stamps.elements.size() == known.size()) {
    for (std::size_t i = 0; i < known.size(); ++i) {
      call.stamps.emplace_back(known[i], std::move(stamps.elements[i]));
    }
  }  // else: the tag check reads them again, and reports what it finds
  if (replies[0].is_string()) read.raw = std::move(replies[0].str);
  return read;
}

CacheCore::Impl::Lookup CacheCore::Impl::lookup_of(const DecodedEntry& entry,
                                                   std::int64_t now) const {
  Lookup lookup;
  lookup.meta = entry.meta;
  const std::int64_t expiry = lookup.meta.expires_at_ms;
  // A plain entry has no header (expiry 0): Redis's TTL is its only expiry, so it is fresh.
  if (expiry == 0 || now < expiry) {
    lookup.state = Freshness::kFresh;
  } else if (now < saturating_add(expiry, options_.stale_window.count())) {
    lookup.state = Freshness::kStale;
  } else {
    lookup.state = Freshness::kExpired;
    return lookup;
  }
  lookup.value = entry.value;
  return lookup;
}

CacheCore::Impl::Lookup CacheCore::Impl::decode_lookup(Call& call, const std::string& key,
                                                       const std::optional<std::string>& raw,
                                                       std::int64_t now,
                                                       std::vector<std::string>* corrupt) {
  if (!raw) return Lookup{};
  try {
    DecodedEntry entry;
    entry.meta = decoder_.header(*raw);
    Lookup lookup = lookup_of(entry, now);
    // An expired entry's payload is never decoded.
    if (lookup.state != Freshness::kExpired) lookup.value = decoder_.value(*raw, lookup.meta);
    return lookup;
  } catch (const std::exception& e) {
    // Corrupt, damaged, or written with another schema: never a crash, never garbage. Delete it
    // so the next reader does not pay for it again.
    counters_.decode_errors.add();
    report("decode cached value", e);
    // A plain entry may be another service's: never deleted (two services would delete each
    // other's entries on every read). It is a miss, and the load overwrites it.
    if (options_.entry_format == EntryFormat::kPlain) return Lookup{};
    if (corrupt != nullptr) {
      corrupt->push_back(key);
    } else {
      try_redis(call, "DEL corrupt entry", [&] { client_.del({key}); });
    }
    return Lookup{};
  }
}

// --- Writing entries ----------------------------------------------------------------------

CacheCore::Impl::Prepared CacheCore::Impl::build(
    std::string_view payload, bool negative, std::uint32_t load_us,
    std::optional<std::chrono::milliseconds> ttl_override, const std::vector<std::string>& tags,
    std::uint64_t tag_clock) const {
  if (payload.size() > decode_limit_) {
    throw std::length_error("rediscache: value of " + std::to_string(payload.size()) +
                            " bytes exceeds the decode limit derived from "
                            "CacheOptions::max_value_bytes");
  }
  const std::optional<std::chrono::milliseconds> base =
      negative ? options_.negative_ttl : options_.ttl;
  EntryMeta meta;
  meta.negative = negative;
  meta.load_time_us = load_us;
  meta.tags = tags;
  meta.tag_clock = tag_clock;
  Prepared prepared;
  if (ttl_override || base) {
    const std::chrono::milliseconds ttl = ttl_override ? *ttl_override : jittered(*base);
    meta.expires_at_ms = now_ms() + ttl.count();
    // Positive entries outlive their logical TTL by the stale window, for fail-safe reads.
    prepared.px = negative ? ttl : ttl + options_.stale_window;
  }
  // kPlain: the payload alone (validate() keeps negative entries and the stale window out).
  prepared.entry = options_.entry_format == EntryFormat::kPlain
                       ? std::string(payload)
                       : encode_entry(meta, payload, compression_);
  if (prepared.entry.size() > options_.max_value_bytes) {
    throw std::length_error("rediscache: cache entry of " + std::to_string(prepared.entry.size()) +
                            " bytes exceeds CacheOptions::max_value_bytes (" +
                            std::to_string(options_.max_value_bytes) + ")");
  }
  return prepared;
}

std::optional<CacheCore::Impl::Prepared> CacheCore::Impl::prepare(const Object& value,
                                                                  std::uint32_t load_us,
                                                                  const LoadRequest* request) {
  const LoadDecision* decision = request != nullptr ? &request->decision : nullptr;
  const bool negative = value == nullptr;
  const std::optional<std::chrono::milliseconds> ttl =
      decision != nullptr ? decision->ttl : std::nullopt;
  if (decision != nullptr && decision->do_not_cache) return std::nullopt;
  if (negative && !options_.negative_ttl && !ttl) return std::nullopt;
  const std::vector<std::string>& tags = decision != nullptr ? decision->tags : no_tags();
  // A tagged value whose load began at an unknown tag clock could outlive an invalidation that
  // raced it: returned, not cached.
  if (!tags.empty() && !request->tag_clock) return std::nullopt;
  std::string payload;
  if (!negative) {
    try {
      payload = ops_.encode(value.get());
    } catch (const std::exception& e) {
      counters_.encode_errors.add();
      report("encode value", e);
      return std::nullopt;
    }
  }
  try {
    return build(payload, negative, load_us, ttl, tags, tags.empty() ? 0 : *request->tag_clock);
  } catch (const std::length_error& e) {
    counters_.oversize.add();
    report("cache value", e);
    return std::nullopt;
  }
}

void CacheCore::Impl::store(Call& call, const std::string& key, const std::string& lock_key,
                            const std::string* token, const Object& value, std::uint32_t load_us,
                            const LoadRequest* request) {
  const std::optional<Prepared> prepared = prepare(value, load_us, request);
  if (!prepared) {
    if (token != nullptr) release(call, lock_key, *token);
    return;
  }
  bool stored = true;
  const ScopedTimer timer(counters_.write_latency);
  const bool ok = try_redis(call, "store entry", [&] {
    if (token != nullptr) {
      const std::string px = prepared->px ? std::to_string(prepared->px->count()) : "0";
      const Reply reply =
          client_.eval(store_script(), {key, lock_key}, {*token, prepared->entry, px});
      stored = reply.is_array() && !reply.elements.empty() && reply.elements[0].is_integer() &&
               reply.elements[0].integer == 1;
    } else {
      SetOptions set_options;
      set_options.ttl = prepared->px;
      client_.set(key, prepared->entry, set_options);
    }
  });
  if (!ok) {
    // The store failed (an error reply, or the connection lost mid-command: outcome unknown).
    // Give the lease back at once so readers polling for it do not sit out lock.max_wait: one
    // attempt, on a fresh call so that an I/O error of the store does not skip it (the breaker
    // still does). If the store did land, the release deletes only our token; the value stays.
    if (token != nullptr) {
      Call again;
      release(again, lock_key, *token);
    }
    return;
  }
  if (!stored) {
    counters_.lease_lost.add();
    return;
  }
  counters_.writes.add();
  counters_.bytes_written.add(prepared->entry.size());
  if (tags_) tags_->remember(key, request != nullptr ? request->decision.tags : no_tags());
  announce(key);
}

// --- get_or_load --------------------------------------------------------------------------

Found CacheCore::Impl::get_or_load(std::string_view id, const ErasedLoader& loader) {
  const ScopedTimer timer(counters_.get_latency);
  Call call;
  long long version = 0;
  std::string key;
  EntryRead read;
  bool wrong_type = false;
  const bool reached = try_redis(call, "GET", [&] {
    version = keys_.version();
    key = keys_.key_for(id, version);
    try {
      read = read_entry(call, key);
    } catch (const ReplyError& e) {
      // Another type under the entry's key (a list, a hash): Redis is up, the entry is corrupt.
      if (e.server_code() != "WRONGTYPE") throw;
      counters_.decode_errors.add();
      report("decode cached value", e);
      wrong_type = true;
    }
  });
  if (wrong_type && options_.entry_format != EntryFormat::kPlain) {
    try_redis(call, "DEL corrupt entry", [&] { client_.del({key}); });
  }
  if (!reached) {
    // Redis is out of this call. The flight key still needs a name: the last known version.
    call.redis_down = true;
    version = keys_.cached_version().value_or(0);
    key = keys_.key_for(id, version);
  }
  // bytes_read counts what came from Redis, not near-tier hits.
  if (read.raw) counters_.bytes_read.add(read.raw->size());
  Lookup found = inspect(call, key, read.raw, now_ms(), nullptr, read.decoded.get());
  if (found.state == Freshness::kFresh) {
    if (found.meta.negative) {
      counters_.negative_hits.add();
      return Found{};
    }
    counters_.hits.add();
    // Decoded just now for this caller, unless it is the near tier's copy, which every reader
    // shares; a refresh's new value is not shared either (store() only encodes it).
    const bool exclusive = !read.from_memory;
    if (options_.refresh.mode == RefreshMode::kNone) {
      return Found{std::move(found.value), exclusive};
    }
    Object value = refresh_ahead(call, id, key, keys_.lock_key_for(id, version), found, loader);
    const bool refreshed = value != found.value;
    return Found{std::move(value), exclusive || refreshed};
  }
  counters_.misses.add();
  const std::string lock_key = keys_.lock_key_for(id, version);

  const SingleFlight::Joined joined = flights_.join(key);
  if (load_executor_) return await_bounded(id, key, lock_key, loader, joined, found);
  if (!joined.leader) {
    counters_.stampede_waits.add();
    FlightResult result = joined.flight->wait();
    if (result.error) std::rethrow_exception(result.error);
    return Found{std::move(result.value), false};
  }
  try {
    Object value = lead_load(call, id, key, lock_key, loader, std::move(found));
    flights_.finish(key, joined.flight, FlightResult{value, nullptr});
    return Found{std::move(value), false};
  } catch (...) {
    flights_.finish(key, joined.flight, FlightResult{nullptr, std::current_exception()});
    throw;
  }
}

std::optional<CacheCore::Impl::Bound> CacheCore::Impl::bound_for(
    const Lookup& stale, std::chrono::steady_clock::time_point start) const {
  if (options_.load_soft_timeout.count() > 0 && stale_usable(stale)) {
    return Bound{saturating_deadline(start, options_.load_soft_timeout), true};
  }
  if (options_.load_hard_timeout.count() > 0) {
    return Bound{saturating_deadline(start, options_.load_hard_timeout), false};
  }
  return std::nullopt;
}

Object CacheCore::Impl::give_up(const Bound& bound, const Lookup& stale) {
  (bound.soft ? counters_.soft_timeouts : counters_.hard_timeouts).add();
  if (stale_usable(stale)) {
    counters_.stale_served.add();
    return stale.value;  // nullptr for a stale "not found"
  }
  throw LoadTimeout(
      "rediscache: cache load did not finish within CacheOptions::load_hard_timeout (" +
      describe(options_.load_hard_timeout) + "; redis " + client_.endpoint() +
      "); it goes on in the background");
}

void CacheCore::Impl::run_background(const std::shared_ptr<Lifeline>& life,
                                     const std::shared_ptr<BackgroundLoad>& job) {
  // `life`, not lifeline_: until enter() succeeds, this cache may already be gone.
  if (!life->enter()) return;
  try {
    Call call;
    Object value = lead_load(call, job->id, job->key, job->lock_key, *job->loader,
                             std::move(job->stale), life.get());
    flights_.finish(job->key, job->flight, FlightResult{std::move(value), nullptr});
  } catch (const Abandoned&) {
    return;  // not inside any more: touch nothing
  } catch (...) {
    flights_.finish(job->key, job->flight, FlightResult{nullptr, std::current_exception()});
  }
  life->leave();
}

Found CacheCore::Impl::await_bounded(std::string_view id, const std::string& key,
                                     const std::string& lock_key, const ErasedLoader& loader,
                                     const SingleFlight::Joined& joined, const Lookup& found) {
  const std::optional<Bound> bound = bound_for(found, std::chrono::steady_clock::now());
  if (joined.leader) {
    auto job = std::make_shared<BackgroundLoad>(
        BackgroundLoad{std::string(id), key, lock_key, loader.clone(), joined.flight, found});
    // The task holds the lifeline, not just `this`: see ~Impl.
    auto task = [this, life = lifeline_, job] { run_background(life, job); };
    const bool queued =
        bound ? load_executor_->submit_until(task, bound->at) : load_executor_->try_submit(task);
    if (!queued) {
      counters_.background_loads_rejected.add();
      if (!bound) {
        // No bound was promised (a soft timeout without a stale copy): load here, as without
        // timeouts.
        try {
          Call call;
          Object value = lead_load(call, id, key, lock_key, loader, found);
          flights_.finish(key, joined.flight, FlightResult{value, nullptr});
          return Found{std::move(value), false};
        } catch (...) {
          flights_.finish(key, joined.flight, FlightResult{nullptr, std::current_exception()});
          throw;
        }
      }
      // Every background slot stayed busy up to our bound: nobody loads this time. The flight
      // ends with our outcome, so its followers do not wait for a load that never started.
      try {
        Object value = give_up(*bound, found);
        flights_.finish(key, joined.flight, FlightResult{value, nullptr});
        return Found{std::move(value), false};
      } catch (...) {
        flights_.finish(key, joined.flight, FlightResult{nullptr, std::current_exception()});
        throw;
      }
    }
  } else {
    counters_.stampede_waits.add();
  }
  FlightResult result;
  if (bound) {
    std::optional<FlightResult> done = joined.flight->wait_until(bound->at);
    if (!done) return Found{give_up(*bound, found), false};
    result = std::move(*done);
  } else {
    result = joined.flight->wait();
  }
  if (result.error) std::rethrow_exception(result.error);
  return Found{std::move(result.value), false};
}

Object CacheCore::Impl::call_loader(const ErasedLoader& loader, LoadRequest& request,
                                    Lifeline* outside) {
  if (outside == nullptr) return loader.load(request);
  outside->leave();
  Object value;
  std::exception_ptr error;
  try {
    value = loader.load(request);
  } catch (...) {
    error = std::current_exception();
  }
  if (!outside->enter()) throw Abandoned{};
  if (error) std::rethrow_exception(error);
  return value;
}

Object CacheCore::Impl::decided_value(Object loaded, const LoadRequest& request) {
  if (!request.decision.keep_stale) return loaded;
  counters_.stale_kept.add();
  return request.stale;  // LoadContext::keep_stale checked that a stale copy exists
}

Object CacheCore::Impl::lead_load(Call& call, std::string_view id, const std::string& key,
                                  const std::string& lock_key, const ErasedLoader& loader,
                                  Lookup stale, Lifeline* outside) {
  std::string token;
  bool leased = false;
  LoadRequest request;
  if (options_.lock.enabled && !call.redis_down) {
    token = random_token();
    Acquire acquired = acquire_or_wait(call, key, lock_key, token, stale, &request.tag_clock);
    if (acquired.have_value) return acquired.value;
    leased = acquired.leased;
  } else {
    request.tag_clock = read_tag_clock(call);
  }

  Object value;
  request.tags_enabled = tags_ != nullptr;
  request.id = id;
  request.has_stale = stale.state == Freshness::kStale;
  if (request.has_stale) request.stale = stale.value;
  request.max_ttl = options_.max_ttl;
  const auto started = std::chrono::steady_clock::now();
  counters_.loads.add();
  try {
    value = decided_value(call_loader(loader, request, outside), request);
  } catch (const Abandoned&) {
    throw;  // the cache is gone: not a load error, and nothing here may be touched
  } catch (...) {
    counters_.load_latency.record(std::chrono::steady_clock::now() - started);
    counters_.load_errors.add();
    if (leased) release(call, lock_key, token);
    if (stale_usable(stale)) {
      counters_.stale_served.add();
      return stale.value;  // nullptr for a stale "not found"
    }
    throw;  // the loader's exception, unchanged
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  counters_.load_latency.record(elapsed);

  // Without the lease we only write when locking is off; a process that gave up waiting leaves
  // the write to the lock holder.
  if (leased || !options_.lock.enabled) {
    store(call, key, lock_key, leased ? &token : nullptr, value, saturating_us(elapsed), &request);
  }
  return value;
}

// --- Explicit writes ----------------------------------------------------------------------

WriteResult CacheCore::Impl::set(std::string_view id, const std::string& payload,
                                 const std::vector<std::string>& tags) {
  std::vector<std::string> entry_tags;
  if (!tags.empty()) {
    check_entry_tags(tags, options_, "CacheAside::set tags");
    entry_tags = TagSpace::normalized(tags);
  }
  const ScopedTimer timer(counters_.write_latency);
  // Redis unreachable: the entry's invalidation is queued instead of the value (see
  // RecoveryQueue: a late write could overwrite a newer one).
  const auto missed = [&] { queue_invalidation(id); };
  std::uint64_t tag_clock = 0;
  if (!entry_tags.empty()) {
    // The clock before the write: an invalidation of one of these tags from now on wins.
    const WriteResult read = write_or_queue(
        true, "set",
        [&] {
          const Reply reply = client_.command({"GET", tags_->clock_key()});
          throw_if_error(reply, client_.endpoint(), "GET");
          const std::optional<std::uint64_t> clock = TagSpace::parse_counter(reply);
          if (!clock) {
            throw ProtocolError("redis " + client_.endpoint() + " GET: tag clock is not a number");
          }
          tag_clock = *clock;
        },
        missed);
    if (read == WriteResult::kQueued) return read;
  }
  const Prepared prepared = build(payload, false, 0, std::nullopt, entry_tags, tag_clock);
  std::string key;
  const WriteResult result = write_or_queue(
      true, "set",
      [&] {
        const long long version = keys_.version();
        key = keys_.key_for(id, version);
        Pipeline pipeline = client_.pipeline();
        SetOptions set_options;
        set_options.ttl = prepared.px;
        // MULTI: a lease holder's store script must not run between the SET and the DEL, or it
        // would overwrite this value with its older load (write-behind relies on it).
        pipeline.command({"MULTI"});
        pipeline.set(key, prepared.entry, set_options);
        pipeline.del({keys_.lock_key_for(id, version)});  // cancel the lease of an older load
        pipeline.command({"EXEC"});
        const std::vector<Reply> replies = pipeline.exec();
        for (const Reply& reply : replies) throw_if_error(reply, client_.endpoint(), "SET");
      },
      missed);
  if (result == WriteResult::kQueued) return result;
  // This write is newer than any invalidation of the entry still queued.
  if (recovery_) recovery_->cancel_entry(std::string(id));
  counters_.writes.add();
  counters_.bytes_written.add(prepared.entry.size());
  if (tags_) tags_->remember(key, entry_tags);
  flights_.forget(key);
  announce(key);
  return result;
}

WriteResult CacheCore::Impl::invalidate_tags(const std::vector<std::string>& tags) {
  if (!tags_) {
    throw std::logic_error("rediscache: CacheAside::invalidate_tag needs CacheOptions::tags");
  }
  TagSpace::check_tags(tags, "CacheAside::invalidate_tags tags");
  if (tags.empty()) return WriteResult::kApplied;
  const std::vector<std::string> normalized = TagSpace::normalized(tags);
  const WriteResult result = write_or_queue(
      true, "invalidate_tags", [&] { tags_->invalidate(client_, normalized); },
      [&] {
        for (const std::string& tag : normalized) queue_missed(RecoveryQueue::Kind::kTag, tag);
      });
  // Read-your-invalidation, as invalidate(): a read from now on starts its own load. Any load
  // in flight may carry one of the tags (its loader decides), so none is joined.
  flights_.forget_all();
  if (result == WriteResult::kApplied) counters_.tag_invalidations.add();
  return result;
}

void CacheCore::Impl::queue_invalidation(std::string_view id) {
  const long long version = keys_.cached_version().value_or(0);
  std::string key = keys_.key_for(id, version);
  flights_.forget(key);
  if (near_) near_->forget_locally(key);
  queue_missed(RecoveryQueue::Kind::kDelete, std::string(id), std::move(key));
}

WriteResult CacheCore::Impl::invalidate(std::string_view id, bool may_queue) {
  std::string key;
  const WriteResult result = write_or_queue(
      may_queue, "invalidate",
      [&] {
        // Re-read the version: deleting under a version another instance has just replaced
        // would leave the new entry in place.
        const long long version = keys_.refresh();
        key = keys_.key_for(id, version);
        client_.del({key, keys_.lock_key_for(id, version)});
      },
      [&] { queue_invalidation(id); });
  if (result == WriteResult::kQueued) return result;
  if (recovery_) recovery_->cancel_entry(std::string(id));
  // Read-your-invalidation: a get_or_load that starts after this returns must not join a load
  // that began before it (that load's store already fails: its lease was deleted above).
  flights_.forget(key);
  counters_.invalidations.add();
  announce(key);
  return result;
}

WriteResult CacheCore::Impl::invalidate_all() {
  if (!keys_.versioned()) keys_.bump();  // throws its std::logic_error before anything queues
  const WriteResult result = write_or_queue(
      true, "invalidate_all", [&] { keys_.bump(); },
      [&] {
        if (near_) near_->forget_prefix_locally(keys_.entry_prefix());
        queue_missed(RecoveryQueue::Kind::kBump, {});
      });
  if (result == WriteResult::kQueued) return result;
  counters_.invalidations.add();
  if (near_) near_->dropped_prefix(keys_.entry_prefix());
  return result;
}

std::string CacheCore::Impl::key_for(std::string_view id) { return keys_.key_for(id); }

CacheStats CacheCore::Impl::stats() const {
  const CacheCounters& c = counters_;
  CacheStats s;
#define REDISCACHE_CACHE_STAT(field, metric, help) s.field = c.field.value();
  REDISCACHE_CACHE_COUNTERS(REDISCACHE_CACHE_STAT)
#undef REDISCACHE_CACHE_STAT
  s.get_latency = c.get_latency.summary();
  s.load_latency = c.load_latency.summary();
  s.write_latency = c.write_latency.summary();
  if (near_) s.near = near_->stats();
  if (recovery_) s.recovery_pending = recovery_->size();
  return s;
}

// --- CacheCore: the public face -----------------------------------------------------------

CacheCore::CacheCore(Client client, CacheOptions options, TypeOps ops)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(options), ops)) {}
CacheCore::~CacheCore() = default;

Found CacheCore::get_or_load(std::string_view id, const ErasedLoader& loader) {
  return impl_->get_or_load(id, loader);
}
std::vector<Found> CacheCore::get_many(const std::vector<std::string>& ids,
                                       const ErasedBatchLoader& loader) {
  return impl_->get_many(ids, loader);
}
WriteResult CacheCore::set(std::string_view id, const std::string& payload,
                           const std::vector<std::string>& tags) {
  return impl_->set(id, payload, tags);
}
WriteResult CacheCore::invalidate_tags(const std::vector<std::string>& tags) {
  return impl_->invalidate_tags(tags);
}
WriteResult CacheCore::invalidate(std::string_view id) { return impl_->invalidate(id); }
void CacheCore::invalidate_now(std::string_view id) { (void)impl_->invalidate(id, false); }
WriteResult CacheCore::invalidate_all() { return impl_->invalidate_all(); }
std::string CacheCore::key_for(std::string_view id) const { return impl_->key_for(id); }
const Client& CacheCore::client() const noexcept { return impl_->client(); }
const CacheOptions& CacheCore::options() const noexcept { return impl_->options(); }
CacheStats CacheCore::stats() const { return impl_->stats(); }

}  // namespace rediscache::detail
