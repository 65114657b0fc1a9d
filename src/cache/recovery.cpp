// CacheCore::Impl, auto-recovery: the invalidations Redis missed are queued (RecoveryQueue) and
// replayed by a background loop as soon as Redis answers again, in order, a batch per round trip.
#include <algorithm>
#include <string>
#include <thread>

#include "cache/cache_core_impl.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

namespace {

using Kind = RecoveryQueue::Kind;
using Op = RecoveryQueue::Op;

// Operations replayed per round trip: enough to drain a long outage's queue quickly, small
// enough that one pipeline's replies stay a few kilobytes.
constexpr std::size_t kReplayBatch = 256;
// TagSpace::invalidate takes at most this many tags per call.
constexpr std::size_t kTagsPerScript = 32;
// While nothing is pending the loop sleeps until queue_missed wakes it.
constexpr std::chrono::milliseconds kIdleInterval = std::chrono::hours(1);
// The destructor's drain tries this often at most.
constexpr std::chrono::milliseconds kDrainPoll{20};

}  // namespace

void CacheCore::Impl::queue_missed(Kind kind, std::string target, std::string key) {
  if (recovery_->push(kind, std::move(target), std::move(key)) == RecoveryQueue::Pushed::kFull) {
    counters_.recovery_dropped.add();
    if (!overflow_reported_.exchange(true)) {
      report_error(options_.on_error, "recovery queue",
                   "full (CacheOptions::recovery.max_operations / max_bytes): an invalidation "
                   "Redis missed was dropped, its entries may be served until their TTL");
    }
    return;
  }
  counters_.recovery_queued.add();
  const std::lock_guard<std::mutex> lock(recovery_mu_);
  if (recovery_closed_) return;  // the destructor's drain takes it
  if (!recovery_loop_) {
    recovery_loop_ = std::make_unique<BackgroundLoop>(
        [this] { return recovery_->empty() ? kIdleInterval : options_.recovery.retry_interval; },
        [this] { return replay_missed(); });
  } else {
    recovery_loop_->wake();  // it may be idle for kIdleInterval: let it pick the shorter wait
  }
}

void CacheCore::Impl::wake_recovery() noexcept {
  const std::lock_guard<std::mutex> lock(recovery_mu_);
  if (recovery_loop_) recovery_loop_->wake();
}

void CacheCore::Impl::announce(const std::string& key) {
  if (near_ && !near_->wrote(key) && recovery_) queue_missed(Kind::kAnnounce, key);
}

bool CacheCore::Impl::replay_missed() noexcept {
  while (!recovery_->empty()) {
    if (!breaker_.allow()) return true;  // open: the next try comes after retry_interval
    try {
      replay(recovery_->front(kReplayBatch));
      breaker_.record_success();
    } catch (const Error& e) {
      // Unreachable again, or an error reply outside the runs (reading the version): the
      // operations stay queued for the next try, reported once until the queue drains.
      on_redis_error(e);
      if (!outage_reported_.exchange(true)) report("replay invalidations Redis missed", e);
      return true;
    } catch (const std::exception& e) {  // bad_alloc: says nothing about Redis
      breaker_.record_neutral();
      report("replay invalidations Redis missed", e);
      return true;
    }
  }
  outage_reported_ = false;
  overflow_reported_ = false;
  return true;
}

void CacheCore::Impl::replay(const std::vector<Op>& ops) {
  // One run per stretch of operations of one kind, in queue order. Every one is an
  // invalidation, so a run that Redis refused with an error reply is dropped (reported) rather
  // than retried for ever; a connection failure leaves the rest queued.
  const auto drop = [&](const std::vector<Op>& run, const std::exception& e) {
    counters_.recovery_dropped.add(recovery_->settle(run));
    report("replay invalidations Redis missed (dropped)", e);
  };
  std::size_t begin = 0;
  while (begin < ops.size()) {
    const Kind kind = ops[begin].kind;
    std::size_t end = begin + 1;
    const std::size_t limit = kind == Kind::kTag ? kTagsPerScript : ops.size();
    while (end < ops.size() && ops[end].kind == kind && end - begin < limit) ++end;
    const std::vector<Op> run(ops.begin() + static_cast<std::ptrdiff_t>(begin),
                              ops.begin() + static_cast<std::ptrdiff_t>(end));
    begin = end;
    switch (kind) {
      case Kind::kDelete: {
        // The keys under the version now: the entries to delete live there.
        const long long version = keys_.refresh();
        Pipeline pipeline = client_.pipeline();
        std::vector<std::string> keys;
        for (const Op& op : run) {
          keys.push_back(keys_.key_for(op.target, version));
          pipeline.del({keys.back(), keys_.lock_key_for(op.target, version)});
        }
        const std::vector<Reply> replies = pipeline.exec();
        std::vector<Op> taken;
        for (std::size_t i = 0; i < run.size(); ++i) {
          if (i < replies.size() && replies[i].is_error()) {
            try {
              throw_if_error(replies[i], client_.endpoint(), "DEL");
            } catch (const ReplyError& e) {
              drop({run[i]}, e);
            }
            continue;
          }
          taken.push_back(run[i]);
          flights_.forget(keys[i]);
          announce(keys[i]);
        }
        counters_.recovery_replayed.add(recovery_->settle(taken));
        break;
      }
      case Kind::kAnnounce: {
        std::vector<Op> taken;
        for (const Op& op : run) {
          if (near_ && !near_->wrote(op.target)) break;  // still unreachable: keep the rest
          taken.push_back(op);
        }
        counters_.recovery_replayed.add(recovery_->settle(taken));
        if (taken.size() < run.size()) {
          throw IoError("redis " + client_.endpoint() +
                        ": PUBLISH: near cache announcement failed");
        }
        break;
      }
      case Kind::kTag: {
        std::vector<std::string> tags;
        tags.reserve(run.size());
        for (const Op& op : run) tags.push_back(op.target);
        try {
          tags_->invalidate(client_, tags);
        } catch (const ReplyError& e) {
          drop(run, e);
          break;
        }
        flights_.forget_all();
        counters_.recovery_replayed.add(recovery_->settle(run));
        break;
      }
      case Kind::kBump:
        try {
          keys_.bump();
        } catch (const ReplyError& e) {
          drop(run, e);
          break;
        }
        if (near_) near_->dropped_prefix(keys_.entry_prefix());
        counters_.recovery_replayed.add(recovery_->settle(run));
        break;
    }
  }
}

void CacheCore::Impl::drain_missed() noexcept {
  std::unique_ptr<BackgroundLoop> loop;
  {
    const std::lock_guard<std::mutex> lock(recovery_mu_);
    recovery_closed_ = true;
    loop = std::move(recovery_loop_);
  }
  if (loop) loop->stop();
  using Clock = std::chrono::steady_clock;
  const auto deadline = saturating_deadline(Clock::now(), options_.recovery.drain_timeout);
  while (!recovery_->empty() && Clock::now() < deadline) {
    replay_missed();
    if (recovery_->empty()) break;
    // Polls faster than retry_interval: this is the last chance, and the caller is waiting.
    const auto left = deadline - Clock::now();
    std::this_thread::sleep_for(
        std::min<Clock::duration>({left, options_.recovery.retry_interval, kDrainPoll}));
  }
  const std::size_t lost = recovery_->take_all().size();
  if (lost == 0) return;
  counters_.recovery_dropped.add(lost);
  try {
    report_error(options_.on_error, "cache destroyed",
                 std::to_string(lost) +
                     " invalidations Redis missed were never replayed: their entries may be "
                     "served until their TTL (CacheOptions::recovery.drain_timeout)");
  } catch (...) {  // NOLINT(bugprone-empty-catch): building the message may throw bad_alloc
  }
}

}  // namespace rediscache::detail
