// The auto-recovery queue without a server: coalescing per target and its order, bounds by count
// and bytes, settling only what was not replaced meanwhile, the read-side check, concurrent use,
// and the options' bounds.
#include "cache/recovery_queue.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/cache/cache_options.hpp"

namespace {

using rediscache::CacheOptions;
using rediscache::detail::RecoveryQueue;
using Kind = RecoveryQueue::Kind;
using Pushed = RecoveryQueue::Pushed;
using namespace std::chrono_literals;

std::vector<std::string> targets(const std::vector<RecoveryQueue::Op>& ops) {
  std::vector<std::string> out;
  out.reserve(ops.size());
  for (const RecoveryQueue::Op& op : ops) out.push_back(op.target);
  return out;
}

TEST(RecoveryQueue, SameTarget_CoalescesAndMovesToTheBack) {
  RecoveryQueue q(100, 1 << 20);
  EXPECT_EQ(q.push(Kind::kDelete, "a", "ns:v1:a"), Pushed::kQueued);
  EXPECT_EQ(q.push(Kind::kDelete, "b", "ns:v1:b"), Pushed::kQueued);
  EXPECT_EQ(q.push(Kind::kTag, "t", ""), Pushed::kQueued);
  EXPECT_EQ(q.push(Kind::kDelete, "a", "ns:v1:a"), Pushed::kCoalesced);
  EXPECT_EQ(q.size(), 3U);
  EXPECT_EQ(targets(q.front(10)), (std::vector<std::string>{"b", "t", "a"}));
  // One tag and one entry of the same name are different targets, as are kinds.
  EXPECT_EQ(q.push(Kind::kTag, "a", ""), Pushed::kQueued);
  EXPECT_EQ(q.push(Kind::kBump, "", ""), Pushed::kQueued);
  EXPECT_EQ(q.push(Kind::kBump, "", ""), Pushed::kCoalesced);
  EXPECT_EQ(q.push(Kind::kAnnounce, "ns:v1:a", ""), Pushed::kQueued);
  EXPECT_EQ(q.size(), 6U);
  EXPECT_EQ(targets(q.front(2)), (std::vector<std::string>{"b", "t"}));
}

TEST(RecoveryQueue, Settle_RemovesOnlyWhatWasNotReplacedMeanwhile) {
  RecoveryQueue q(100, 1 << 20);
  q.push(Kind::kDelete, "a", "k:a");
  q.push(Kind::kDelete, "b", "k:b");
  const std::vector<RecoveryQueue::Op> taken = q.front(10);
  // A newer invalidation of "a" arrives while the replay of the old one is in flight: it must
  // stay, since the replayed DEL may have run before the write it stands for.
  q.push(Kind::kDelete, "a", "k:a");
  EXPECT_EQ(q.settle(taken), 1U);
  EXPECT_EQ(targets(q.front(10)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(q.settle(taken), 0U) << "settling twice removes nothing";
  EXPECT_EQ(q.settle(q.front(10)), 1U);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0U);
}

TEST(RecoveryQueue, Bounds_CountAndBytes_FullLeavesTheQueueAsItWas) {
  RecoveryQueue by_count(2, 1 << 20);
  EXPECT_EQ(by_count.push(Kind::kDelete, "a", "k:a"), Pushed::kQueued);
  EXPECT_EQ(by_count.push(Kind::kDelete, "b", "k:b"), Pushed::kQueued);
  EXPECT_EQ(by_count.push(Kind::kDelete, "c", "k:c"), Pushed::kFull);
  EXPECT_EQ(by_count.push(Kind::kDelete, "a", "k:a"), Pushed::kCoalesced) << "no growth";
  EXPECT_EQ(targets(by_count.front(10)), (std::vector<std::string>{"b", "a"}));

  const std::size_t one =
      RecoveryQueue::kOverheadBytes + std::size_t{2} + 3;  // target "x", key "k:x"
  RecoveryQueue by_bytes(100, 2 * one);
  EXPECT_EQ(by_bytes.push(Kind::kDelete, "a", "k:a"), Pushed::kQueued);
  EXPECT_EQ(by_bytes.push(Kind::kDelete, "b", "k:b"), Pushed::kQueued);
  EXPECT_EQ(by_bytes.bytes(), 2 * one);
  EXPECT_EQ(by_bytes.push(Kind::kDelete, "c", "k:c"), Pushed::kFull);
  EXPECT_EQ(by_bytes.push(Kind::kDelete, "b", std::string(100, 'k')), Pushed::kFull)
      << "a replacement that grows past the bound is refused too";
  EXPECT_EQ(by_bytes.size(), 2U);
  EXPECT_EQ(by_bytes.bytes(), 2 * one);
}

TEST(RecoveryQueue, Outdates_PendingDeleteTagOrBump) {
  RecoveryQueue q(100, 1 << 20);
  EXPECT_FALSE(q.outdates("k:a", {"t"}));
  q.push(Kind::kDelete, "a", "k:a");
  EXPECT_TRUE(q.outdates("k:a", {}));
  EXPECT_FALSE(q.outdates("k:b", {}));
  q.push(Kind::kAnnounce, "k:b", "");
  EXPECT_FALSE(q.outdates("k:b", {})) << "its DEL reached Redis: the entry there is current";
  q.push(Kind::kTag, "t", "");
  EXPECT_TRUE(q.outdates("k:b", {"u", "t"}));
  EXPECT_FALSE(q.outdates("k:b", {"u"}));
  q.push(Kind::kBump, "", "");
  EXPECT_TRUE(q.outdates("k:z", {}));
  q.cancel_entry("a");
  q.settle(q.front(10));
  EXPECT_FALSE(q.outdates("k:a", {"t"}));
}

TEST(RecoveryQueue, TakeAll_EmptiesIt) {
  RecoveryQueue q(100, 1 << 20);
  q.push(Kind::kDelete, "a", "k:a");
  q.push(Kind::kTag, "t", "");
  EXPECT_EQ(q.take_all().size(), 2U);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0U);
  EXPECT_FALSE(q.outdates("k:a", {"t"}));
}

TEST(RecoveryQueue, ManyThreads_PushSettleAndRead_StayConsistent) {
  RecoveryQueue q(64, 1 << 20);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string id = std::to_string((t * 31 + i) % 100);
        q.push(i % 7 == 0 ? Kind::kTag : Kind::kDelete, id, "k:" + id);
        (void)q.outdates("k:" + id, {id});
      }
    });
  }
  std::thread replayer([&] {
    while (!stop) q.settle(q.front(16));
  });
  for (std::thread& th : threads) th.join();
  stop = true;
  replayer.join();
  EXPECT_LE(q.size(), 64U);
  q.settle(q.front(1000));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0U);
}

TEST(RecoveryOptions, OutOfBounds_ThrowNamingTheField) {
  const auto rejects = [](const std::function<void(CacheOptions&)>& change, const char* field) {
    CacheOptions o;
    o.name = "ns";
    o.ttl = 1s;
    change(o);
    try {
      o.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  rejects([](CacheOptions& o) { o.recovery.max_operations = 0; },
          "CacheOptions::recovery.max_operations");
  rejects([](CacheOptions& o) { o.recovery.max_operations = (std::size_t{1} << 24) + 1; },
          "CacheOptions::recovery.max_operations");
  rejects([](CacheOptions& o) { o.recovery.max_bytes = 1023; }, "CacheOptions::recovery.max_bytes");
  rejects([](CacheOptions& o) { o.recovery.max_bytes = (std::size_t{1} << 30) + 1; },
          "CacheOptions::recovery.max_bytes");
  rejects([](CacheOptions& o) { o.recovery.retry_interval = 0ms; },
          "CacheOptions::recovery.retry_interval");
  rejects([](CacheOptions& o) { o.recovery.retry_interval = std::chrono::milliseconds::max(); },
          "CacheOptions::recovery.retry_interval");
  rejects([](CacheOptions& o) { o.recovery.drain_timeout = -1ms; },
          "CacheOptions::recovery.drain_timeout");
  rejects([](CacheOptions& o) { o.recovery.drain_timeout = 61s; },
          "CacheOptions::recovery.drain_timeout");
}

}  // namespace
