// The write-behind engine: a Redis Stream with one consumer group, one leased flusher per queue,
// batch coalescing, retries with backoff, a dead-letter stream, and takeover after a crash.
#include "rediscache/cache/detail/write_behind_queue.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "cache/write_behind_entries.hpp"
#include "cache/write_behind_options.hpp"
#include "cache/write_behind_scripts.hpp"
#include "client/client_core.hpp"
#include "net/connection.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/util/errors.hpp"
#include "rediscache/util/stats.hpp"
#include "util/backoff.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kGroup[] = "flushers";
// How long the "latest entry of an id" marker lives. It only has to outlive the race between
// concurrent write()s of one id and the flush of a remove; a missing marker means "no newer
// write known", which is the safe reading for both uses.
constexpr milliseconds kMarkerTtl = std::chrono::minutes(10);

std::string ms_text(milliseconds d) { return std::to_string(d.count()); }

bool is_nogroup(const ReplyError& e) {
  return e.server_code() == "NOGROUP" ||
         std::string_view(e.what()).find("NOGROUP") != std::string_view::npos;
}

std::string make_consumer_name() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + ":" + std::to_string(getpid()) + ":" + random_token(6);
}

}  // namespace

namespace detail {

struct WriteBehindQueue::State {
  State(Client c, const std::string& name, BatchWriter w, const WriteBehindOptions& o)
      : client(std::move(c)),
        writer(std::move(w)),
        options(o),
        stream("{" + name + "}:wb:stream"),
        dead("{" + name + "}:wb:dead"),
        lease("{" + name + "}:wb:lease"),
        marker_prefix("{" + name + "}:wb:last:"),
        consumer(make_consumer_name()),
        token(random_token()) {}

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
  Counter enqueued, batches, written, coalesced, retries, writer_failures, dead_letters, claimed,
      replayed, redis_errors, cache_errors;

  // --- Flusher-thread state (only the flusher touches these) ---
  bool adopted = false;
  std::string retry_head;  // first entry id of the batch being retried
  std::size_t attempt = 0;
  Clock::time_point drain_deadline{};

  void report(std::string_view context, const std::exception& e) noexcept {
    report_error(options.on_error, context, e);
  }

  void ensure_group() {
    try {
      client.command({"XGROUP", "CREATE", stream, kGroup, "0", "MKSTREAM"});
    } catch (const ReplyError& e) {
      if (e.server_code() != "BUSYGROUP") throw;
    }
    client.pexpire(stream, options.queue_ttl);
  }

  bool stopping() {
    const std::lock_guard<std::mutex> lock(mu);
    return stop;
  }

  // Sleeps up to `d`, or less when stopped or woken by flush(). While draining, never past the
  // drain deadline.
  void pause(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    const std::uint64_t seq = wake_seq;
    auto until = detail::saturating_deadline(Clock::now(), d);
    if (stop) until = std::min(until, drain_deadline);
    cv.wait_until(lock, until, [&] { return wake_seq != seq; });
  }

  // Like pause, but a flush() request does not cut it short (backoff between retries).
  void backoff(milliseconds d) {
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

  long long acquire() {
    return client.eval(wb::scripts().acquire, {lease}, {token, ms_text(options.flusher_lease)})
        .integer;
  }

  // Claims what stopped flushers left pending. True once no other consumer holds entries (they
  // are older than anything not yet delivered, so they must be written first).
  bool adopt() {
    std::string cursor = "0-0";
    do {
      const Reply r =
          client.command({"XAUTOCLAIM", stream, kGroup, consumer, ms_text(options.claim_min_idle),
                          cursor, "COUNT", "1000", "JUSTID"});
      if (!r.is_array() || r.elements.size() < 2) break;
      cursor = r.elements[0].str;
      claimed.add(r.elements[1].elements.size());
    } while (cursor != "0-0");
    const Reply summary = client.command({"XPENDING", stream, kGroup});
    if (summary.is_array() && summary.elements.size() >= 4 && summary.elements[3].is_array()) {
      for (const Reply& row : summary.elements[3].elements) {
        if (row.is_array() && !row.elements.empty() && row.elements[0].str != consumer) {
          return false;
        }
      }
    }
    forget_idle_consumers();
    return true;
  }

  void forget_idle_consumers() {
    const Reply list = client.command({"XINFO", "CONSUMERS", stream, kGroup});
    for (const Reply& row : list.elements) {
      std::string name;
      long long pending = -1;
      long long idle = 0;
      for (std::size_t i = 0; i + 1 < row.elements.size(); i += 2) {
        const std::string& field = row.elements[i].str;
        if (field == "name") name = row.elements[i + 1].str;
        if (field == "pending") pending = row.elements[i + 1].integer;
        if (field == "idle") idle = row.elements[i + 1].integer;
      }
      if (!name.empty() && name != consumer && pending == 0 &&
          idle > options.claim_min_idle.count()) {
        client.eval(wb::scripts().delete_consumer, {stream}, {kGroup, name});
      }
    }
  }

  // nullopt: the lease is lost.
  std::optional<std::pair<bool, std::vector<Entry>>> read(std::size_t count,
                                                          const std::string& pending_after) {
    const Reply r =
        client.eval(wb::scripts().read, {stream, lease},
                    {kGroup, consumer, token, std::to_string(count), ms_text(options.flusher_lease),
                     pending_after, ms_text(options.queue_ttl)});
    if (!r.is_array() || r.elements.size() < 2) return std::nullopt;
    return std::make_pair(r.elements[0].integer == 1, parse_entries(r.elements[1]));
  }

  // The next batch: this consumer's pending entries (a retry) alone, else new entries gathered
  // for up to max_delay or until max_batch. Empty when there is nothing or the lease is lost.
  std::vector<Entry> collect() {
    auto first = read(options.max_batch, "0");
    if (!first) {
      leader = false;
      return {};
    }
    std::vector<Entry> entries = std::move(first->second);
    if (first->first) return entries;
    if (entries.empty()) {
      if (!stopping()) pause(options.poll_interval);
      return entries;
    }
    const auto deadline = detail::saturating_deadline(Clock::now(), options.max_delay);
    std::uint64_t seq = 0;
    {
      const std::lock_guard<std::mutex> lock(mu);
      seq = wake_seq;
    }
    while (entries.size() < options.max_batch) {
      {
        std::unique_lock<std::mutex> lock(mu);
        if (stop || wake_seq != seq) break;
        const auto now = Clock::now();
        if (now >= deadline) break;
        cv.wait_until(lock,
                      std::min(deadline, detail::saturating_deadline(now, options.poll_interval)),
                      [&] { return stop || wake_seq != seq; });
      }
      auto more = read(options.max_batch - entries.size(), entries.back().stream_id);
      if (!more) {
        leader = false;  // they stay pending here; the next holder of the lease claims them
        return {};
      }
      for (Entry& e : more->second) entries.push_back(std::move(e));
    }
    return entries;
  }

  void ack(const std::vector<std::string>& ids) {
    for (std::size_t start = 0; start < ids.size(); start += 1000) {
      std::vector<std::string> args{kGroup};
      const std::size_t end = std::min(ids.size(), start + 1000);
      args.insert(args.end(), ids.begin() + static_cast<std::ptrdiff_t>(start),
                  ids.begin() + static_cast<std::ptrdiff_t>(end));
      client.eval(wb::scripts().ack, {stream}, args);
    }
  }

  void dead_letter(const Entry& e, std::string_view error, std::size_t attempts) {
    const char* kind = !e.valid ? "?" : (e.op.kind == WriteKind::kRemove ? "r" : "u");
    client.eval(wb::scripts().dead_letter, {stream, dead},
                {kGroup, e.stream_id, kind, e.op.id, e.op.payload, std::string(error),
                 std::to_string(attempts), ms_text(options.queue_ttl)});
    dead_letters.add();
  }

  milliseconds backoff_for(std::size_t failures) const {
    return std::chrono::duration_cast<milliseconds>(Backoff::step_for(
        options.initial_backoff, options.max_backoff, failures == 0 ? 0 : failures - 1));
  }

  static std::vector<std::string> ids_of(const std::vector<const Entry*>& entries) {
    std::vector<std::string> ids;
    ids.reserve(entries.size());
    for (const Entry* e : entries) ids.push_back(e->stream_id);
    return ids;
  }

  // Writes one batch. Entries left unacknowledged stay pending here and come back first.
  void process(const std::vector<Entry>& entries) {
    std::vector<std::string> done;  // deleted entries: nothing to write
    for (const Entry& e : entries) {
      if (e.deleted) {
        done.push_back(e.stream_id);
      } else if (!e.valid) {
        dead_letter(e, "malformed queue entry (missing k, id or v)", 0);
      }
    }
    Batch batch = coalesce(entries);
    if (batch.ops.empty()) {
      if (!done.empty()) ack(done);
      return;
    }
    if (entries.front().stream_id != retry_head) {
      retry_head = entries.front().stream_id;
      attempt = 0;
    }
    try {
      writer(batch.ops);
    } catch (const UndecodableEntry& e) {
      // That entry alone is bad: park it; the rest is re-read (and re-coalesced) at once.
      dead_letter(*batch.covers.at(e.index()).back(), e.what(), 1);
      return;
    } catch (const std::exception& e) {
      failed(batch, e);
      return;
    } catch (...) {
      const std::runtime_error unknown("batch writer threw a non-standard exception");
      failed(batch, unknown);
      return;
    }
    for (const auto& cover : batch.covers) {
      for (const Entry* e : cover) done.push_back(e->stream_id);
    }
    ack(done);
    batches.add();
    written.add(batch.ops.size());
    std::size_t valid = 0;
    for (const auto& cover : batch.covers) valid += cover.size();
    coalesced.add(valid - batch.ops.size());
    retry_head.clear();
    attempt = 0;
  }

  void failed(const Batch& batch, const std::exception& e) {
    writer_failures.add();
    report("write-behind batch writer", e);
    ++attempt;
    if (attempt < options.max_attempts) {
      retries.add();
      backoff(backoff_for(attempt));
      return;
    }
    // Out of attempts: one call per operation, so a single bad record cannot hold back or
    // dead-letter the others.
    for (std::size_t i = 0; i < batch.ops.size(); ++i) {
      if (past_drain_deadline()) return;  // the rest stays pending for the next flusher
      const std::vector<const Entry*>& cover = batch.covers[i];
      try {
        writer({batch.ops[i]});
        batches.add();
        written.add();
        coalesced.add(cover.size() - 1);
        ack(ids_of(cover));
      } catch (const UndecodableEntry& u) {
        dead_letter(*cover.back(), u.what(), attempt + 1);
        ack(ids_of({cover.begin(), cover.end() - 1}));
      } catch (const std::exception& single) {
        writer_failures.add();
        report("write-behind batch writer", single);
        dead_letter(*cover.back(), single.what(), attempt + 1);
        // Older writes of the id are superseded by the parked one: replaying it restores the
        // intended final state.
        ack(ids_of({cover.begin(), cover.end() - 1}));
      } catch (...) {
        writer_failures.add();
        dead_letter(*cover.back(), "batch writer threw a non-standard exception", attempt + 1);
        ack(ids_of({cover.begin(), cover.end() - 1}));
      }
    }
    retry_head.clear();
    attempt = 0;
  }

  void run() noexcept {
    while (true) {
      bool stopping_now = false;
      {
        const std::lock_guard<std::mutex> lock(mu);
        stopping_now = stop;
        if (stop && Clock::now() >= drain_deadline) break;
      }
      try {
        if (!leader) {
          if (acquire() == 0) {
            if (stopping_now) break;
            pause(std::min(options.flusher_lease / 4, milliseconds(500)));
            continue;
          }
          leader = true;
          adopted = false;
        }
        if (!adopted) {
          if (acquire() == 0) {
            leader = false;
            continue;
          }
          adopted = adopt();
          if (!adopted) {
            if (stopping_now) break;
            pause(std::min(options.claim_min_idle / 4, milliseconds(200)));
            continue;
          }
        }
        const std::vector<Entry> entries = collect();
        if (entries.empty()) {
          if (stopping_now) break;  // else read once more: entries may have come before stop
          continue;
        }
        process(entries);
      } catch (const ReplyError& e) {
        redis_errors.add();
        report("write-behind flusher", e);
        if (is_nogroup(e)) {
          try {
            ensure_group();  // the stream expired or was deleted; entries added since are kept
          } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): retried next loop
          }
        }
        pause(options.initial_backoff);
      } catch (const std::exception& e) {
        redis_errors.add();
        report("write-behind flusher", e);
        pause(options.initial_backoff);
      }
    }
    try {
      if (leader) client.eval(wb::scripts().release, {lease}, {token});
      leader = false;
      client.eval(wb::scripts().delete_consumer, {stream}, {kGroup, consumer});
    } catch (const std::exception& e) {
      report("write-behind flusher shutdown", e);
    }
  }
};

WriteBehindQueue::WriteBehindQueue(Client client, const std::string& queue_name, BatchWriter writer,
                                   const WriteBehindOptions& options) {
  options.validate();
  if (!valid_queue_name(queue_name)) {
    throw std::invalid_argument(
        "WriteBehindOptions::queue must be 1..128 characters of [A-Za-z0-9_.-]");
  }
  if (!writer) throw std::invalid_argument("WriteBehind writer must not be empty");
  state_ = std::make_unique<State>(std::move(client), queue_name, std::move(writer), options);
  state_->ensure_group();
  if (options.run_flusher) {
    State* s = state_.get();
    state_->flusher = std::thread([s] { s->run(); });
  }
}

WriteBehindQueue::~WriteBehindQueue() {
  if (!state_ || !state_->flusher.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
    state_->drain_deadline =
        detail::saturating_deadline(Clock::now(), state_->options.drain_timeout);
    ++state_->wake_seq;
  }
  state_->cv.notify_all();
  state_->flusher.join();
}

WriteBehindQueue::Enqueued WriteBehindQueue::enqueue(WriteKind kind, std::string_view id,
                                                     std::string_view payload) {
  State& s = *state_;
  const std::string marker = s.marker_prefix + std::string(id);
  const std::string queue_ttl = ms_text(s.options.queue_ttl);
  const std::string marker_ttl = ms_text(kMarkerTtl);
  const std::string_view kind_text = kind == WriteKind::kRemove ? "r" : "u";
  Enqueued out;
  if (s.options.wait_replicas == 0) {
    out.entry_id = s.client
                       .eval(wb::scripts().enqueue, {s.stream, marker},
                             {kind_text, id, payload, queue_ttl, marker_ttl})
                       .str;
    s.enqueued.add();
    return out;
  }

  // WAIT counts the replicas that have reached the replication offset of its own connection, so
  // it must follow the script on the connection that ran it: one lease of the stream's master,
  // both commands in one round trip.
  ClientCore& core = ClientAccess::core(s.client);
  const std::string replicas = std::to_string(s.options.wait_replicas);
  const std::string timeout = ms_text(s.options.wait_timeout);
  const auto run = [&](std::string_view verb, std::string_view script) {
    return core.run_followed(
        s.stream,
        {verb, script, "2", s.stream, marker, kind_text, id, payload, queue_ttl, marker_ttl},
        {"WAIT", replicas, timeout}, s.options.wait_timeout);
  };
  ClientCore::FollowedReplies r = run("EVALSHA", wb::scripts().enqueue.sha1());
  if (r.reply.is_error() && r.reply.str.compare(0, 8, "NOSCRIPT") == 0) {
    r = run("EVAL",
            wb::scripts().enqueue.source());  // the server lost the script (restart, failover)
  }
  if (r.reply.is_error()) throw_reply_error(r.endpoint, "EVALSHA", r.reply);
  if (!r.reply.is_string()) throw_unexpected(Call{r.endpoint, "EVALSHA"}, r.reply);
  s.enqueued.add();
  out.entry_id = std::move(r.reply.str);

  const long long required = static_cast<long long>(s.options.wait_replicas);
  if (r.follow_up.is_integer() && r.follow_up.integer >= required) return out;
  const long long acknowledged = r.follow_up.is_integer() ? r.follow_up.integer : -1;
  std::string what = "redis " + r.endpoint + ": WAIT: ";
  if (r.follow_up.is_error()) {
    what += "failed (" + r.follow_up.str.substr(0, r.follow_up.str.find(' ')) + ")";
  } else {
    what += std::to_string(acknowledged) + " of " + replicas + " replicas acknowledged within " +
            timeout + " ms";
  }
  what +=
      "; the write-behind entry is queued on the master but would be lost if it failed over now";
  out.not_replicated = std::make_exception_ptr(NotReplicated(what, required, acknowledged));
  return out;
}

std::optional<WriteBehindQueue::Latest> WriteBehindQueue::latest_if_not(std::string_view id,
                                                                        std::string_view entry_id) {
  State& s = *state_;
  const std::string marker = s.marker_prefix + std::string(id);
  const Reply r = s.client.eval(wb::scripts().latest, {s.stream, marker}, {entry_id});
  if (!r.is_array() || r.elements.empty()) return std::nullopt;
  Latest latest;
  latest.entry_id = r.elements[0].str;
  if (r.elements.size() >= 2) {
    Reply entry;
    entry.type = ReplyType::kArray;
    entry.elements = {r.elements[0], r.elements[1]};
    Entry parsed = parse_entry(entry);
    if (parsed.valid) latest.op = std::move(parsed.op);
  }
  return latest;
}

void WriteBehindQueue::count_cache_error() noexcept { state_->cache_errors.add(); }

void WriteBehindQueue::cache_failed(std::string_view context,
                                    const std::exception& error) noexcept {
  count_cache_error();
  report_error(state_->options.on_error, context, error);
}

void WriteBehindQueue::settle(std::string_view id, std::string applied,
                              const CacheUpdates& cache) noexcept {
  constexpr int kMaxSettleRounds = 16;
  for (int round = 0; round < kMaxSettleRounds; ++round) {
    try {
      const std::optional<Latest> latest = latest_if_not(id, applied);
      if (!latest) return;
      if (latest->op && latest->op->kind == WriteKind::kUpsert) {
        cache.set(id, latest->op->payload);
      } else {
        // A remove, or an entry already written and deleted from the queue: the database holds
        // the latest state, so a miss reads it.
        cache.invalidate(id);
      }
      applied = latest->entry_id;
    } catch (const std::exception& e) {
      cache_failed("write-behind settle", e);
      return;
    }
  }
}

void WriteBehindQueue::invalidate_removed(const std::vector<RawWriteOp>& written,
                                          const CacheUpdates& cache) noexcept {
  for (const RawWriteOp& op : written) {
    if (op.kind != WriteKind::kRemove) continue;
    try {
      if (!latest_if_not(op.id, op.entry_id)) cache.invalidate(op.id);
    } catch (const std::exception& e) {
      cache_failed("write-behind invalidation after remove", e);
    }
  }
}

bool WriteBehindQueue::flush(std::chrono::milliseconds timeout) {
  detail::require_non_negative(timeout, "WriteBehind::flush timeout");
  State& s = *state_;
  const auto deadline = detail::saturating_deadline(Clock::now(), timeout);
  const Reply last = s.client.command({"XREVRANGE", s.stream, "+", "-", "COUNT", "1"});
  if (!last.is_array() || last.elements.empty()) return true;
  const std::string mark = last.elements[0].elements.at(0).str;
  {
    const std::lock_guard<std::mutex> lock(s.mu);
    ++s.wake_seq;
  }
  s.cv.notify_all();
  milliseconds wait(1);
  while (true) {
    const Reply left = s.client.command({"XRANGE", s.stream, "-", mark, "COUNT", "1"});
    if (!left.is_array() || left.elements.empty()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(wait, deadline - now));
    wait = std::min(wait * 2, milliseconds(50));
  }
}

std::size_t WriteBehindQueue::replay_dead_letters(std::size_t max_entries) {
  State& s = *state_;
  std::size_t moved = 0;
  while (moved < max_entries) {
    const std::size_t chunk = std::min<std::size_t>(max_entries - moved, 500);
    const Reply r = s.client.eval(wb::scripts().replay, {s.stream, s.dead},
                                  {std::to_string(chunk), ms_text(s.options.queue_ttl)});
    moved += static_cast<std::size_t>(r.integer);
    if (static_cast<std::size_t>(r.integer) < chunk) break;
  }
  s.replayed.add(moved);
  {
    const std::lock_guard<std::mutex> lock(s.mu);
    ++s.wake_seq;
  }
  s.cv.notify_all();
  return moved;
}

std::vector<DeadLetter> WriteBehindQueue::dead_letters(std::size_t max_entries) {
  State& s = *state_;
  const Reply r = s.client.command(
      {"XRANGE", s.dead, "-", "+", "COUNT", std::to_string(std::max<std::size_t>(max_entries, 1))});
  std::vector<DeadLetter> out;
  if (max_entries == 0 || !r.is_array()) return out;
  for (const Reply& item : r.elements) {
    if (!item.is_array() || item.elements.size() < 2) continue;
    DeadLetter d;
    d.entry_id = item.elements[0].str;
    const Reply& f = item.elements[1];
    for (std::size_t i = 0; i + 1 < f.elements.size(); i += 2) {
      const std::string& name = f.elements[i].str;
      const std::string& value = f.elements[i + 1].str;
      if (name == "k") d.kind = value == "r" ? WriteKind::kRemove : WriteKind::kUpsert;
      if (name == "id") d.id = value;
      if (name == "error") d.error = value;
      if (name == "attempts") d.attempts = std::strtoull(value.c_str(), nullptr, 10);
    }
    out.push_back(std::move(d));
  }
  return out;
}

WriteBehindStats WriteBehindQueue::stats() {
  State& s = *state_;
  Pipeline p = s.client.pipeline();
  p.command({"XLEN", s.stream});
  p.command({"XRANGE", s.stream, "-", "+", "COUNT", "1"});
  p.command({"XLEN", s.dead});
  p.command({"TIME"});
  const std::vector<Reply> r = p.exec();
  WriteBehindStats st;
  st.queue_depth = static_cast<std::uint64_t>(std::max(0LL, r.at(0).integer));
  st.dead_letter_depth = static_cast<std::uint64_t>(std::max(0LL, r.at(2).integer));
  if (r.at(1).is_array() && !r.at(1).elements.empty() && r.at(3).is_array() &&
      r.at(3).elements.size() == 2) {
    const long long now_ms =
        std::stoll(r[3].elements[0].str) * 1000 + std::stoll(r[3].elements[1].str) / 1000;
    const long long oldest = id_millis(r[1].elements[0].elements.at(0).str);
    st.oldest_pending_age = milliseconds(std::max(0LL, now_ms - oldest));
  }
  st.enqueued = s.enqueued.value();
  st.batches = s.batches.value();
  st.written = s.written.value();
  st.coalesced = s.coalesced.value();
  st.retries = s.retries.value();
  st.writer_failures = s.writer_failures.value();
  st.dead_letters = s.dead_letters.value();
  st.claimed = s.claimed.value();
  st.replayed = s.replayed.value();
  st.redis_errors = s.redis_errors.value();
  st.cache_errors = s.cache_errors.value();
  st.flusher_active = s.leader.load();
  return st;
}

const std::string& WriteBehindQueue::stream_key() const noexcept { return state_->stream; }
const std::string& WriteBehindQueue::dead_letter_key() const noexcept { return state_->dead; }
const std::string& WriteBehindQueue::lease_key() const noexcept { return state_->lease; }
const std::string& WriteBehindQueue::consumer_name() const noexcept { return state_->consumer; }

}  // namespace detail
}  // namespace rediscache
