// WriteBehind against real Redis and PostgreSQL: batching, coalescing, per-id order, crash
// takeover (SIGKILL mid-batch), database outages, dead letters, TTLs and option validation.
#include "rediscache/cache/write_behind.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_env.hpp"
#include "write_policy_support.hpp"

namespace rediscache::test {
namespace {

using std::chrono::milliseconds;
using Ops = std::vector<WriteOp<std::string>>;

// Short timings so failures and takeovers happen within a test's few seconds.
WriteBehindOptions fast_options() {
  WriteBehindOptions options;
  options.max_delay = milliseconds(20);
  options.poll_interval = milliseconds(10);
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(100);
  options.flusher_lease = std::chrono::seconds(1);
  options.claim_min_idle = milliseconds(300);
  return options;
}

std::string key_of(int i, int keys) { return "k" + std::to_string(i % keys); }
std::string value_of(int i) { return "v" + std::to_string(i); }

// The value each key ends with after writes 0..last (none for keys never written).
std::map<std::string, std::string> expected_after(int last, int keys) {
  std::map<std::string, std::string> rows;
  for (int i = 0; i <= last; ++i) rows[key_of(i, keys)] = value_of(i);
  return rows;
}

long long pttl(const Endpoint& ep, const std::string& key) {
  return std::stoll(raw_key_command(ep, {"PTTL", key}));
}

TEST(WriteBehind, Write_CachesAtOnceAndReachesDatabaseCoalesced) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  std::atomic<int> batches{0};
  // The database holds the first batch until every write is queued: the rest then wait in the
  // stream together and coalesce however slowly the writes arrive (on a loaded machine a flusher
  // that keeps up would otherwise take them one at a time).
  std::atomic<bool> hold{true};
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops& ops) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (hold && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(milliseconds(5));
        }
        PgTable::write_batch(db, name, ops);
        ++batches;
      },
      fast_options());

  constexpr int kWrites = 500;
  constexpr int kKeys = 20;
  for (int i = 0; i < kWrites; ++i) wb.write(key_of(i, kKeys), value_of(i));
  hold = false;

  // Reads see the latest value from the cache at once, without touching the database.
  int loads = 0;
  const auto loader = [&](std::string_view) -> std::optional<std::string> {
    ++loads;
    return std::nullopt;
  };
  for (const auto& [key, value] : expected_after(kWrites - 1, kKeys)) {
    EXPECT_EQ(cache.get_or_load(key, loader), value) << key;
  }
  EXPECT_EQ(loads, 0);

  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), expected_after(kWrites - 1, kKeys));
  const WriteBehindStats stats = wb.stats();
  EXPECT_EQ(stats.queue_depth, 0U);
  EXPECT_EQ(stats.enqueued, static_cast<std::uint64_t>(kWrites));
  EXPECT_EQ(stats.written + stats.coalesced, static_cast<std::uint64_t>(kWrites));
  EXPECT_GT(stats.coalesced, 0U);
  EXPECT_LT(batches.load(), kWrites);
  EXPECT_EQ(stats.dead_letter_depth, 0U);
}

TEST(WriteBehind, EveryKeyWritten_HasTtl) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string name = unique_name("wb");
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  std::atomic<bool> fail{true};
  WriteBehindOptions options = fast_options();
  options.max_attempts = 1;
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops&) {
        if (fail) throw std::runtime_error("refused");
      },
      options);
  wb.write("a", "1");
  wb.remove("b");
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));  // both dead-lettered
  const std::vector<std::string> keys = {cache.key_for("a"),         wb.stream_key(),
                                         wb.dead_letter_key(),       "{" + name + "}:wb:last:a",
                                         "{" + name + "}:wb:last:b", "{" + name + "}:wb:lease"};
  for (const std::string& key : keys) EXPECT_GT(pttl(ep, key), 0) << key;
}

TEST(WriteBehind, WriteThenRemove_ReachesDatabaseInQueueOrder) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  std::mutex mu;
  std::vector<std::string> log;  // what the database saw for id "a", in order
  WriteBehindOptions options = fast_options();
  options.max_batch = 1;  // no coalescing: every operation reaches the writer
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops& ops) {
        PgTable::write_batch(db, name, ops);
        const std::lock_guard<std::mutex> lock(mu);
        for (const auto& op : ops) {
          if (op.id == "a") log.push_back(op.kind == WriteKind::kRemove ? "remove" : *op.value);
        }
      },
      options);
  wb.write("a", "a1");
  wb.write("b", "b1");
  wb.remove("a");
  wb.write("b", "b2");
  wb.write("a", "a2");
  wb.remove("b");
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "remove", "a2"}));
  EXPECT_EQ(table.rows(), (std::map<std::string, std::string>{{"a", "a2"}}));

  // Coalesced within one batch, a write followed by a remove is a remove.
  options.max_batch = 100;
  options.max_delay = milliseconds(200);
  WriteBehind<std::string> batched(
      cache, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, options);
  batched.write("c", "c1");
  batched.remove("c");
  batched.remove("a");
  batched.write("a", "a3");
  ASSERT_TRUE(batched.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), (std::map<std::string, std::string>{{"a", "a3"}}));
}

TEST(WriteBehind, Remove_ReadBeforeFlushDoesNotResurrectTheRow) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  table.upsert("a", "old");
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  std::atomic<bool> hold{true};
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops& ops) {
        while (hold) std::this_thread::sleep_for(milliseconds(5));
        PgTable::write_batch(db, name, ops);
      },
      fast_options());
  wb.remove("a");
  // A miss before the delete reached the database loads and caches the old row...
  std::mutex table_mu;
  const auto loader = [&](std::string_view id) {
    const std::lock_guard<std::mutex> lock(table_mu);
    return table.get(std::string(id));
  };
  EXPECT_EQ(cache.get_or_load("a", loader), "old");
  hold = false;
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  // ...but once the delete is written, the cached copy is gone.
  EXPECT_EQ(cache.get_or_load("a", loader), std::nullopt);
}

TEST(WriteBehind, ConcurrentWritesOfOneId_CacheEndsWithTheDatabaseValue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  // Two "processes": separate clients and caches; only the first runs a flusher.
  CacheAside<std::string> cache1(make_client(ep), policy_cache_options(name));
  CacheAside<std::string> cache2(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  WriteBehind<std::string> wb1(
      cache1, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, fast_options());
  WriteBehindOptions producer = fast_options();
  producer.run_flusher = false;
  WriteBehind<std::string> wb2(
      cache2, [](const Ops&) {}, producer);

  constexpr int kThreads = 4;
  constexpr int kWrites = 150;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteBehind<std::string>& wb = t % 2 == 0 ? wb1 : wb2;
      for (int i = 0; i < kWrites; ++i) {
        wb.write("k" + std::to_string(i % 3), "t" + std::to_string(t) + "-" + std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(wb1.flush(std::chrono::seconds(10)));
  const auto rows = table.rows();
  ASSERT_EQ(rows.size(), 3U);
  std::mutex table_mu;
  for (const auto& [id, value] : rows) {
    const auto cached = cache1.get_or_load(id, [&](std::string_view key) {
      const std::lock_guard<std::mutex> lock(table_mu);
      return table.get(std::string(key));
    });
    EXPECT_EQ(cached, value) << id;
  }
}

TEST(WriteBehind, WriterFailsForAWhile_RetriesAndLosesNothing) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  std::atomic<bool> down{true};
  std::atomic<int> errors{0};
  WriteBehindOptions options = fast_options();
  options.max_attempts = 1000;
  options.on_error = [&](std::string_view, const std::exception&) { ++errors; };
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops& ops) {
        if (down) throw std::runtime_error("connection refused");
        PgTable::write_batch(db, name, ops);
      },
      options);
  constexpr int kWrites = 300;
  for (int i = 0; i < kWrites; ++i) wb.write(key_of(i, 40), value_of(i));
  EXPECT_FALSE(wb.flush(milliseconds(800)));
  EXPECT_TRUE(table.rows().empty());
  WriteBehindStats stats = wb.stats();
  EXPECT_GT(stats.retries, 0U);
  EXPECT_GT(stats.queue_depth, 0U);
  EXPECT_GT(stats.oldest_pending_age.count(), 0);
  EXPECT_GT(errors.load(), 0);

  down = false;
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), expected_after(kWrites - 1, 40));
  stats = wb.stats();
  EXPECT_EQ(stats.queue_depth, 0U);
  EXPECT_EQ(stats.dead_letter_depth, 0U);
}

TEST(WriteBehind, PostgresTableLocked_EntriesRetryAndQueueDrainsWhenReleased) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));

  // Another session takes the table away: every write of the flusher times out in PostgreSQL.
  pqxx::connection locker(conninfo);
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec0("LOCK TABLE " + lock->quote_name(name) + " IN ACCESS EXCLUSIVE MODE");

  pqxx::connection db(conninfo);
  {
    pqxx::nontransaction setup(db);
    setup.exec0("SET lock_timeout = '100ms'");
  }
  WriteBehindOptions options = fast_options();
  options.max_attempts = 1000;
  WriteBehind<std::string> wb(
      cache, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, options);
  constexpr int kWrites = 200;
  for (int i = 0; i < kWrites; ++i) wb.write(key_of(i, 30), value_of(i));
  EXPECT_FALSE(wb.flush(milliseconds(1000)));
  const WriteBehindStats during = wb.stats();
  EXPECT_GT(during.writer_failures, 0U);
  EXPECT_GT(during.queue_depth, 0U);

  lock->commit();  // the database is back
  lock.reset();
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), expected_after(kWrites - 1, 30));
  EXPECT_EQ(wb.stats().dead_letter_depth, 0U);
}

TEST(WriteBehind, WriterAlwaysFails_EntriesGoToDeadLetterAndReplay) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  WriteBehindOptions options = fast_options();
  options.max_attempts = 2;
  {
    WriteBehind<std::string> wb(
        cache, [](const Ops&) { throw std::runtime_error("database says no"); }, options);
    wb.write("a", "a1");
    wb.write("b", "b1");
    wb.write("a", "a2");
    wb.remove("c");
    ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
    const WriteBehindStats stats = wb.stats();
    EXPECT_EQ(stats.queue_depth, 0U);
    EXPECT_EQ(stats.dead_letter_depth, 3U);  // a2 (a1 superseded), b1, remove c
    const std::vector<DeadLetter> dead = wb.dead_letters();
    ASSERT_EQ(dead.size(), 3U);
    std::map<std::string, DeadLetter> by_id;
    for (const DeadLetter& d : dead) by_id[d.id] = d;
    EXPECT_EQ(by_id["c"].kind, WriteKind::kRemove);
    for (const DeadLetter& d : dead) {
      EXPECT_EQ(d.error, "database says no");
      EXPECT_EQ(d.attempts, 3U);  // two batch calls, then one call of its own
    }
  }
  table.upsert("c", "doomed");
  pqxx::connection db(conninfo);
  WriteBehind<std::string> fixed(
      cache, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, options);
  EXPECT_EQ(fixed.replay_dead_letters(), 3U);
  ASSERT_TRUE(fixed.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), (std::map<std::string, std::string>{{"a", "a2"}, {"b", "b1"}}));
  EXPECT_EQ(fixed.stats().dead_letter_depth, 0U);
}

TEST(WriteBehind, OnePoisonRecord_OnlyItIsDeadLettered) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  WriteBehindOptions options = fast_options();
  options.max_attempts = 2;
  options.max_delay = milliseconds(200);
  WriteBehind<std::string> wb(
      cache,
      [&](const Ops& ops) {
        for (const auto& op : ops) {
          if (op.id == "poison") throw std::runtime_error("value too long for column");
        }
        PgTable::write_batch(db, name, ops);
      },
      options);
  for (int i = 0; i < 20; ++i) wb.write(key_of(i, 20), value_of(i));
  wb.write("poison", "x");
  ASSERT_TRUE(wb.flush(std::chrono::seconds(10)));
  EXPECT_EQ(table.rows(), expected_after(19, 20));
  const auto dead = wb.dead_letters();
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].id, "poison");
  EXPECT_EQ(dead[0].error, "value too long for column");
}

TEST(WriteBehind, Destructor_DrainsTheQueue) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  {
    WriteBehindOptions options = fast_options();
    options.max_delay = std::chrono::seconds(5);  // only the drain writes before the end
    WriteBehind<std::string> wb(
        cache, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, options);
    for (int i = 0; i < 50; ++i) wb.write(key_of(i, 10), value_of(i));
  }
  EXPECT_EQ(table.rows(), expected_after(49, 10));
}

// A writing process is killed with SIGKILL while its flusher is inside a batch (after the
// database commit, before the acknowledgement). A new flusher takes over the queue: every write
// the dead process acknowledged reaches PostgreSQL, and each row holds the last write of its id.
TEST(WriteBehind, ProcessKilledMidBatch_NewFlusherWritesEveryAcknowledgedWrite) {
  REDISCACHE_REQUIRE_REDIS(ep);
  REDISCACHE_REQUIRE_POSTGRES(conninfo);
  const std::string name = unique_name("wb");
  PgTable table(conninfo, name);
  constexpr int kKeys = 50;
  constexpr int kWrites = 100000;  // more than it can do before the kill
  constexpr std::uint32_t kAckedBeforeKill = 400;

  int acks[2];
  int batches[2];
  ASSERT_EQ(pipe(acks), 0);
  ASSERT_EQ(pipe(batches), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    close(batches[0]);
    try {
      CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
      pqxx::connection db(conninfo);
      WriteBehindOptions options = fast_options();
      options.max_batch = 25;
      options.drain_timeout = milliseconds(0);
      WriteBehind<std::string> wb(
          cache,
          [&](const Ops& ops) {
            PgTable::write_batch(db, name, ops);
            const char b = 'b';
            (void)!write(batches[1], &b, 1);
            std::this_thread::sleep_for(milliseconds(20));  // committed, not yet acknowledged
          },
          options);
      for (int i = 0; i < kWrites; ++i) {
        wb.write(key_of(i, kKeys), value_of(i));
        const auto n = static_cast<std::uint32_t>(i);
        if (write(acks[1], &n, sizeof n) != static_cast<ssize_t>(sizeof n)) break;
      }
    } catch (...) {  // NOLINT(bugprone-empty-catch): the parent checks the outcome
    }
    _exit(0);
  }
  close(acks[1]);
  close(batches[1]);
  std::uint32_t last_ack = 0;
  bool have_ack = false;
  while (!have_ack || last_ack < kAckedBeforeKill) {
    std::uint32_t n = 0;
    if (read(acks[0], &n, sizeof n) != static_cast<ssize_t>(sizeof n)) break;
    last_ack = n;
    have_ack = true;
  }
  ASSERT_GE(last_ack, kAckedBeforeKill) << "the writing process stopped early";
  // Wait for the next batch to commit, so the kill lands inside it (before its XACK).
  ASSERT_EQ(fcntl(batches[0], F_SETFL, O_NONBLOCK), 0);
  char b = 0;
  while (read(batches[0], &b, 1) == 1) {
  }
  pollfd next{batches[0], POLLIN, 0};
  ASSERT_EQ(poll(&next, 1, 10000), 1) << "the writing process wrote no batch";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  while (true) {  // every acknowledgement written before the kill
    std::uint32_t n = 0;
    if (read(acks[0], &n, sizeof n) != static_cast<ssize_t>(sizeof n)) break;
    last_ack = n;
  }
  close(acks[0]);
  close(batches[0]);

  CacheAside<std::string> cache(make_client(ep), policy_cache_options(name));
  pqxx::connection db(conninfo);
  WriteBehind<std::string> successor(
      cache, [&](const Ops& ops) { PgTable::write_batch(db, name, ops); }, fast_options());
  ASSERT_TRUE(successor.flush(std::chrono::seconds(15)));
  const auto rows = table.rows();
  // The write after the last acknowledgement may or may not have been queued.
  const int last = static_cast<int>(last_ack);
  EXPECT_TRUE(rows == expected_after(last, kKeys) || rows == expected_after(last + 1, kKeys))
      << "last acknowledged write " << last << ", rows " << rows.size();
  EXPECT_GT(successor.stats().claimed, 0U);
}

TEST(WriteBehind, BadOptions_ThrowInvalidArgumentNamingTheOption) {
  REDISCACHE_REQUIRE_REDIS(ep);
  CacheAside<std::string> cache(make_client(ep), policy_cache_options(unique_name("wb")));
  const auto expect_rejected = [&](const WriteBehindOptions& options, const std::string& field) {
    try {
      WriteBehind<std::string> wb(
          cache, [](const Ops&) {}, options);
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  WriteBehindOptions o;
  o.max_batch = 0;
  expect_rejected(o, "WriteBehindOptions::max_batch");
  o = {};
  o.max_batch = 20000;
  expect_rejected(o, "WriteBehindOptions::max_batch");
  o = {};
  o.max_delay = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::max_delay");
  o = {};
  o.poll_interval = milliseconds(-1);
  expect_rejected(o, "WriteBehindOptions::poll_interval");
  o = {};
  o.max_attempts = 0;
  expect_rejected(o, "WriteBehindOptions::max_attempts");
  o = {};
  o.initial_backoff = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::initial_backoff");
  o = {};
  o.max_backoff = milliseconds(1);
  expect_rejected(o, "WriteBehindOptions::max_backoff");
  o = {};
  o.flusher_lease = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::flusher_lease");
  o = {};
  o.claim_min_idle = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::claim_min_idle");
  o = {};
  o.drain_timeout = milliseconds(-5);
  expect_rejected(o, "WriteBehindOptions::drain_timeout");
  o = {};
  o.queue_ttl = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::queue_ttl");
  o = {};
  o.wait_replicas = 1;
  o.wait_timeout = milliseconds(0);
  expect_rejected(o, "WriteBehindOptions::wait_timeout");
  o = {};
  o.wait_timeout = milliseconds(-1);
  expect_rejected(o, "WriteBehindOptions::wait_timeout");
  o = {};
  o.queue = "has space";
  expect_rejected(o, "WriteBehindOptions::queue");
  EXPECT_THROW(WriteBehind<std::string>(cache, nullptr, WriteBehindOptions{}),
               std::invalid_argument);
}

}  // namespace
}  // namespace rediscache::test
