// ReliableQueue against the shared redis-server: order, acknowledgement, recovery of messages
// left by dead consumers (expired heartbeats, and a consumer process killed with SIGKILL), and
// concurrent consumers.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "recipes_test_util.hpp"
#include "test_env.hpp"
#include <rediscache/recipes/reliable_queue.hpp>

namespace {

using namespace std::chrono_literals;
using rediscache::Client;
using rediscache::recipes::QueueConsumer;
using rediscache::recipes::ReliableQueue;
using rediscache::recipes::ReliableQueueOptions;
using rediscache::test::KeyCleanup;
using rediscache::test::recipe_client;
using rediscache::test::unique_prefix;
using rediscache::test::wait_until;

ReliableQueueOptions queue_options(const std::string& prefix, std::chrono::milliseconds timeout) {
  ReliableQueueOptions options;
  options.prefix = prefix;
  options.consumer_timeout = timeout;
  return options;
}

// Waits until the consumer's heartbeat key has expired on the server.
bool heartbeat_expired(Client& client, const std::string& prefix, const std::string& id) {
  return wait_until([&] { return client.exists({prefix + "alive:" + id}) == 0; });
}

TEST(RecipesReliableQueue, Options_Invalid_ThrowNamingField) {
  Client client(rediscache::ConnectionOptions{});
  EXPECT_THROW(ReliableQueue(client, queue_options("", 1s)), std::invalid_argument);
  try {
    ReliableQueue queue(client, queue_options("p:", 0ms));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("consumer_timeout"), std::string::npos) << e.what();
  }
  ReliableQueue queue(client, queue_options("p:", 1s));
  QueueConsumer consumer = queue.consumer("c");
  EXPECT_THROW(consumer.pop(0ms), std::invalid_argument);
  EXPECT_THROW(consumer.pop(1s), std::invalid_argument);  // not shorter than consumer_timeout
  ReliableQueueOptions no_deliveries = queue_options("p:", 1s);
  no_deliveries.max_deliveries = 0;
  try {
    ReliableQueue never(client, no_deliveries);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_deliveries"), std::string::npos) << e.what();
  }
}

// Takes the oldest message with a consumer that then "dies" (its heartbeat expires unrenewed)
// and runs recovery. Returns what recover_stale() requeued.
std::size_t take_and_die(ReliableQueue& queue, Client& client, const std::string& prefix,
                         const std::string& id, const std::string& expected) {
  QueueConsumer doomed = queue.consumer(id);
  EXPECT_EQ(doomed.pop(100ms), expected);
  EXPECT_TRUE(heartbeat_expired(client, prefix, id));
  return queue.recover_stale();
}

TEST(RecipesReliableQueue, PoisonMessage_DeadLetteredAfterMaxDeliveries_OthersFlow) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueueOptions options = queue_options(prefix, 300ms);
  options.max_deliveries = 2;
  ReliableQueue queue(client, options);
  queue.push({"poison", "fine"});

  EXPECT_EQ(take_and_die(queue, client, prefix, "first", "poison"), 1u);  // death 1: requeued
  EXPECT_TRUE(queue.dead_letters().empty());
  EXPECT_EQ(take_and_die(queue, client, prefix, "second", "poison"), 0u);  // death 2: dead
  EXPECT_EQ(queue.dead_letters(), std::vector<std::string>{"poison"});
  EXPECT_EQ(queue.size(), 1);
  EXPECT_EQ(client.exists({prefix + "deaths"}), 0);  // its count went with it

  QueueConsumer worker = queue.consumer("worker");
  EXPECT_EQ(worker.pop(100ms), "fine");
  EXPECT_TRUE(worker.ack("fine"));
  EXPECT_EQ(worker.pop(50ms), std::nullopt);  // the poison message is not delivered again

  EXPECT_EQ(queue.requeue_dead_letters(), 1u);  // after the fix: back, with a fresh count
  EXPECT_TRUE(queue.dead_letters().empty());
  EXPECT_EQ(take_and_die(queue, client, prefix, "third", "poison"), 1u);
}

TEST(RecipesReliableQueue, DeadLetters_RequeuedOldestFirst_AckForgetsDeathCount) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueueOptions options = queue_options(prefix, 300ms);
  options.max_deliveries = 1;
  ReliableQueue queue(client, options);
  queue.push({"p1", "p2"});
  QueueConsumer doomed = queue.consumer("doomed");
  ASSERT_EQ(doomed.pop(100ms), "p1");
  ASSERT_EQ(doomed.pop(100ms), "p2");
  ASSERT_TRUE(heartbeat_expired(client, prefix, "doomed"));
  EXPECT_EQ(queue.recover_stale(), 0u);
  EXPECT_EQ(queue.dead_letters(), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(queue.requeue_dead_letters(), 2u);
  QueueConsumer worker = queue.consumer("worker");
  EXPECT_EQ(worker.pop(100ms), "p1");
  EXPECT_EQ(worker.pop(100ms), "p2");
  EXPECT_TRUE(worker.ack("p1"));
  EXPECT_TRUE(worker.ack("p2"));

  // A message that survives a death and is then processed leaves no count behind.
  ReliableQueueOptions lenient = queue_options(prefix, 300ms);
  lenient.max_deliveries = 3;
  ReliableQueue patient(client, lenient);
  patient.push("m");
  EXPECT_EQ(take_and_die(patient, client, prefix, "once", "m"), 1u);
  EXPECT_EQ(client.hget(prefix + "deaths", "m"), "1");
  QueueConsumer finisher = patient.consumer("finisher");
  ASSERT_EQ(finisher.pop(100ms), "m");
  EXPECT_TRUE(finisher.ack("m"));
  EXPECT_EQ(client.exists({prefix + "deaths"}), 0);
}

TEST(RecipesReliableQueue, PushPop_DeliversOldestFirst_AckRemovesFromProcessing) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 5s));

  EXPECT_EQ(queue.push("a"), 1);
  const std::string binary("b\0\r\n", 4);
  EXPECT_EQ(queue.push({binary, "c"}), 3);
  EXPECT_EQ(queue.size(), 3);

  QueueConsumer consumer = queue.consumer();
  EXPECT_FALSE(consumer.id().empty());
  EXPECT_EQ(consumer.pop(200ms), "a");
  EXPECT_EQ(consumer.pop(200ms), binary);
  EXPECT_EQ(consumer.pop(200ms), "c");
  EXPECT_EQ(consumer.pop(50ms), std::nullopt);  // empty queue: times out
  EXPECT_EQ(queue.size(), 0);
  EXPECT_EQ(consumer.in_flight(), (std::vector<std::string>{"a", binary, "c"}));
  EXPECT_EQ(queue.consumers(), std::vector<std::string>{consumer.id()});

  EXPECT_TRUE(consumer.ack(binary));
  EXPECT_FALSE(consumer.ack(binary));  // already acknowledged
  EXPECT_EQ(consumer.in_flight(), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(consumer.ack("a"));
  EXPECT_TRUE(consumer.ack("c"));
  EXPECT_TRUE(consumer.in_flight().empty());
  EXPECT_EQ(queue.push(std::vector<std::string>{}), 0);  // empty push sends no LPUSH
}

TEST(RecipesReliableQueue, RecoverStale_LiveConsumer_KeepsItsMessages) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 10s));
  queue.push("m");
  QueueConsumer consumer = queue.consumer();
  ASSERT_EQ(consumer.pop(200ms), "m");

  EXPECT_EQ(queue.recover_stale(), 0u);
  EXPECT_EQ(consumer.in_flight(), std::vector<std::string>{"m"});
  EXPECT_EQ(queue.size(), 0);
  EXPECT_GT(client.pttl(prefix + "alive:" + consumer.id()), 0);  // heartbeat expires
}

TEST(RecipesReliableQueue, RecoverStale_ExpiredHeartbeat_RequeuesAtFrontInOrder) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 300ms));
  queue.push({"m1", "m2", "m3", "m4"});

  QueueConsumer dead = queue.consumer("dead");
  ASSERT_EQ(dead.pop(100ms), "m1");
  ASSERT_EQ(dead.pop(100ms), "m2");
  ASSERT_TRUE(heartbeat_expired(client, prefix, "dead"));

  EXPECT_EQ(queue.recover_stale(), 2u);
  EXPECT_TRUE(dead.in_flight().empty());
  EXPECT_TRUE(queue.consumers().empty());
  EXPECT_EQ(queue.size(), 4);

  QueueConsumer next = queue.consumer("next");
  for (const char* expected : {"m1", "m2", "m3", "m4"}) {
    const auto message = next.pop(100ms);
    ASSERT_EQ(message, expected);
    EXPECT_TRUE(next.ack(*message));
  }
  // The dead consumer's late acknowledgement reports that the message had been requeued.
  EXPECT_FALSE(dead.ack("m1"));
}

TEST(RecipesReliableQueue, Leave_RequeuesUnackedAndUnregisters) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 10s));
  queue.push({"x", "y", "z"});
  QueueConsumer consumer = queue.consumer("leaving");
  ASSERT_EQ(consumer.pop(100ms), "x");
  ASSERT_EQ(consumer.pop(100ms), "y");
  ASSERT_TRUE(consumer.ack("x"));

  EXPECT_EQ(consumer.leave(), 1u);
  EXPECT_TRUE(queue.consumers().empty());
  EXPECT_EQ(client.exists({prefix + "alive:leaving"}), 0);
  QueueConsumer other = queue.consumer();
  EXPECT_EQ(other.pop(100ms), "y");
  EXPECT_EQ(other.pop(100ms), "z");
}

// A consumer process takes a message and is killed with SIGKILL before acknowledging it: the
// message waits in its processing list, and once the heartbeat expires recover_stale() hands it
// to another consumer. Nothing is lost.
TEST(RecipesReliableQueue, KilledConsumerProcess_MessageRecoveredByAnother) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  Client client = recipe_client(ep);
  KeyCleanup cleanup(client, prefix);
  const auto options = queue_options(prefix, 500ms);
  ReliableQueue queue(client, options);
  queue.push({"job-1", "job-2"});

  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: its own client and connections; it never returns into gtest.
    ::close(ready[0]);
    char taken = 0;
    try {
      ReliableQueue child_queue(recipe_client(ep, 1), options);
      QueueConsumer consumer = child_queue.consumer("doomed");
      taken = consumer.pop(400ms) == std::optional<std::string>("job-1") ? 1 : 0;
    } catch (...) {
      taken = 0;
    }
    if (::write(ready[1], &taken, 1) != 1) ::_exit(2);
    for (;;) ::pause();  // "processing" until killed
  }
  ::close(ready[1]);
  pollfd fd{ready[0], POLLIN, 0};
  char taken = 0;
  const bool child_answered = ::poll(&fd, 1, 10000) == 1 && ::read(ready[0], &taken, 1) == 1;
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(child_answered);
  ASSERT_EQ(taken, 1) << "child consumer did not take job-1";
  ASSERT_TRUE(WIFSIGNALED(status));

  QueueConsumer survivor = queue.consumer("survivor");
  EXPECT_EQ(queue.consumer("doomed").in_flight(), std::vector<std::string>{"job-1"});
  EXPECT_EQ(queue.size(), 1);
  ASSERT_TRUE(heartbeat_expired(client, prefix, "doomed"));
  EXPECT_EQ(queue.recover_stale(), 1u);

  std::vector<std::string> processed;
  while (auto message = survivor.pop(100ms)) {
    EXPECT_TRUE(survivor.ack(*message));
    processed.push_back(*message);
  }
  EXPECT_EQ(processed, (std::vector<std::string>{"job-1", "job-2"}));
  EXPECT_TRUE(queue.consumer("doomed").in_flight().empty());
}

// Several consumer threads drain one queue: with no crash, every message is processed exactly
// once and nothing is left in flight.
TEST(RecipesReliableQueue, ConcurrentConsumers_EveryMessageExactlyOnce) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  constexpr int kThreads = 4;
  constexpr int kMessages = 1000;
  Client client = recipe_client(ep, kThreads + 2);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 10s));
  std::vector<std::string> messages;
  messages.reserve(kMessages);
  for (int i = 0; i < kMessages; ++i) messages.push_back("msg-" + std::to_string(i));
  ASSERT_EQ(queue.push(messages), kMessages);

  std::mutex mu;
  std::map<std::string, int> seen;  // guarded by mu
  std::atomic<int> failed_acks{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        QueueConsumer consumer = queue.consumer();
        while (auto message = consumer.pop(200ms)) {
          {
            std::lock_guard<std::mutex> lock(mu);
            ++seen[*message];
          }
          if (!consumer.ack(*message)) ++failed_acks;
        }
      } catch (...) {
        ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(failed_acks.load(), 0);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [message, times] : seen) EXPECT_EQ(times, 1) << message;
  EXPECT_EQ(queue.size(), 0);
  EXPECT_EQ(queue.recover_stale(), 0u);
  for (const std::string& id : queue.consumers()) {
    EXPECT_TRUE(queue.consumer(id).in_flight().empty()) << id;
  }
}

// Consumers that stop mid-way (as if crashed: no ack, no heartbeat) while others keep working
// and a recoverer runs: every message is still processed at least once.
TEST(RecipesReliableQueue, ConsumersAbandoningMessages_RecoveryDeliversEveryMessage) {
  REDISCACHE_REQUIRE_REDIS(ep);
  const std::string prefix = unique_prefix();
  constexpr int kMessages = 300;
  Client client = recipe_client(ep, 8);
  KeyCleanup cleanup(client, prefix);
  ReliableQueue queue(client, queue_options(prefix, 400ms));
  std::vector<std::string> messages;
  messages.reserve(kMessages);
  for (int i = 0; i < kMessages; ++i) messages.push_back("m" + std::to_string(i));
  queue.push(messages);

  // Two "crashing" consumers each take a few messages and vanish.
  for (int c = 0; c < 2; ++c) {
    QueueConsumer crashing = queue.consumer();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(crashing.pop(100ms).has_value());
  }

  std::mutex mu;
  std::map<std::string, int> acked;  // guarded by mu
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      try {
        QueueConsumer consumer = queue.consumer();
        while (!stop) {
          auto message = consumer.pop(100ms);
          if (!message) continue;
          if (consumer.ack(*message)) {
            std::lock_guard<std::mutex> lock(mu);
            ++acked[*message];
          }
        }
      } catch (...) {
        ++errors;
      }
    });
  }
  const bool all_done = wait_until(
      [&] {
        queue.recover_stale();
        std::lock_guard<std::mutex> lock(mu);
        return acked.size() == static_cast<std::size_t>(kMessages);
      },
      std::chrono::seconds(20));
  stop = true;
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(all_done);
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(queue.size(), 0);
}

}  // namespace
