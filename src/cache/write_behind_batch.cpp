// The write-behind flusher's batches: reading one (this consumer's pending entries first, else
// new ones gathered for up to max_delay), calling the batch writer, acknowledging what it wrote,
// retrying with backoff, and, out of attempts, writing each operation alone so that only the bad
// ones go to the dead-letter stream.
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/write_behind_flusher.hpp"
#include "cache/write_behind_scripts.hpp"
#include "rediscache/client/script.hpp"
#include "util/backoff.hpp"

namespace rediscache::detail {

std::chrono::milliseconds wb::retry_backoff(const WriteBehindOptions& options,
                                            std::size_t failures) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Backoff::step_for(
      options.initial_backoff, options.max_backoff, failures == 0 ? 0 : failures - 1));
}

std::vector<std::string> wb::stream_ids(const std::vector<const Entry*>& entries) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const Entry* e : entries) ids.push_back(e->stream_id);
  return ids;
}

const char* wb::dead_letter_kind(const Entry& entry) {
  if (!entry.valid) return "?";
  return entry.op.kind == WriteKind::kRemove ? "r" : "u";
}

std::vector<DeadLetter> wb::parse_dead_letters(const Reply& reply) {
  std::vector<DeadLetter> out;
  if (!reply.is_array()) return out;
  for (const Reply& item : reply.elements) {
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

std::optional<std::pair<bool, std::vector<Entry>>> WriteBehindQueue::State::read(
    std::size_t count, const std::string& pending_after) {
  const Reply r =
      client.eval(wb::scripts().read, {stream, lease},
                  {kGroup, consumer, token, std::to_string(count), ms_text(options.flusher_lease),
                   pending_after, ms_text(options.queue_ttl)});
  if (!r.is_array() || r.elements.size() < 2) return std::nullopt;
  return std::make_pair(r.elements[0].integer == 1, parse_entries(r.elements[1]));
}

std::vector<Entry> WriteBehindQueue::State::collect() {
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

void WriteBehindQueue::State::ack(const std::vector<std::string>& ids) {
  for (std::size_t start = 0; start < ids.size(); start += 1000) {
    std::vector<std::string> args{kGroup};
    const std::size_t end = std::min(ids.size(), start + 1000);
    args.insert(args.end(), ids.begin() + static_cast<std::ptrdiff_t>(start),
                ids.begin() + static_cast<std::ptrdiff_t>(end));
    client.eval(wb::scripts().ack, {stream}, args);
  }
}

void WriteBehindQueue::State::dead_letter(const Entry& e, std::string_view error,
                                          std::size_t attempts) {
  client.eval(wb::scripts().dead_letter, {stream, dead},
              {kGroup, e.stream_id, wb::dead_letter_kind(e), e.op.id, e.op.payload,
               std::string(error), std::to_string(attempts), ms_text(options.queue_ttl)});
  dead_letters.add();
}

void WriteBehindQueue::State::process(const std::vector<Entry>& entries) {
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

void WriteBehindQueue::State::failed(const Batch& batch, const std::exception& e) {
  writer_failures.add();
  report("write-behind batch writer", e);
  ++attempt;
  if (attempt < options.max_attempts) {
    retries.add();
    backoff(wb::retry_backoff(options, attempt));
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
      ack(wb::stream_ids(cover));
    } catch (const UndecodableEntry& u) {
      dead_letter(*cover.back(), u.what(), attempt + 1);
      ack(wb::stream_ids({cover.begin(), cover.end() - 1}));
    } catch (const std::exception& single) {
      writer_failures.add();
      report("write-behind batch writer", single);
      dead_letter(*cover.back(), single.what(), attempt + 1);
      // Older writes of the id are superseded by the parked one: replaying it restores the
      // intended final state.
      ack(wb::stream_ids({cover.begin(), cover.end() - 1}));
    } catch (...) {
      writer_failures.add();
      dead_letter(*cover.back(), "batch writer threw a non-standard exception", attempt + 1);
      ack(wb::stream_ids({cover.begin(), cover.end() - 1}));
    }
  }
  retry_head.clear();
  attempt = 0;
}

}  // namespace rediscache::detail
