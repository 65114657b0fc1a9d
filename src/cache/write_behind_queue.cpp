// The write-behind engine: a Redis Stream with one consumer group, one leased flusher per queue,
// batch coalescing, retries with backoff, a dead-letter stream, and takeover after a crash. This
// file holds the queue's API and the flusher's loop; the lease and adoption are in
// write_behind_lease.cpp, batches, retries and dead letters in write_behind_batch.cpp.
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
#include "cache/write_behind_flusher.hpp"
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
#include "util/counter_list.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the "latest entry of an id" marker lives. It only has to outlive the race between
// concurrent write()s of one id and the flush of a remove; a missing marker means "no newer
// write known", which is the safe reading for both uses.
constexpr milliseconds kMarkerTtl = std::chrono::minutes(10);

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

std::string wb::ms_text(milliseconds d) { return std::to_string(d.count()); }

WriteBehindQueue::State::State(Client c, const std::string& name, BatchWriter w,
                               const WriteBehindOptions& o)
    : client(std::move(c)),
      writer(std::move(w)),
      options(o),
      stream("{" + name + "}:wb:stream"),
      dead("{" + name + "}:wb:dead"),
      lease("{" + name + "}:wb:lease"),
      marker_prefix("{" + name + "}:wb:last:"),
      consumer(make_consumer_name()),
      token(random_token()) {}

void WriteBehindQueue::State::ensure_group() {
  try {
    client.command({"XGROUP", "CREATE", stream, kGroup, "0", "MKSTREAM"});
  } catch (const ReplyError& e) {
    if (e.server_code() != "BUSYGROUP") throw;
  }
  client.pexpire(stream, options.queue_ttl);
}

void WriteBehindQueue::State::run() noexcept {
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
  release();
}

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
  if (max_entries == 0) return {};
  return wb::parse_dead_letters(r);
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
  const State& from = s;
  WriteBehindStats& to = st;
  REDISCACHE_WRITE_BEHIND_COUNTERS(REDISCACHE_COPY_COUNTER)
  st.flusher_active = s.leader.load();
  return st;
}

const std::string& WriteBehindQueue::stream_key() const noexcept { return state_->stream; }
const std::string& WriteBehindQueue::dead_letter_key() const noexcept { return state_->dead; }
const std::string& WriteBehindQueue::lease_key() const noexcept { return state_->lease; }
const std::string& WriteBehindQueue::consumer_name() const noexcept { return state_->consumer; }

}  // namespace detail
}  // namespace rediscache
