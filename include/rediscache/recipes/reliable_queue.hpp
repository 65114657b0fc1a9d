// ReliableQueue: an at-least-once work queue on Redis lists. A consumer moves each message
// atomically into its own processing list (BLMOVE), removes it when done (LREM), and messages
// left behind by a consumer that died are put back on the queue by recover_stale().
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"

namespace rediscache::recipes {

/// Options of a ReliableQueue.
struct ReliableQueueOptions {
  /// Prefix of every key of the queue; must not be empty. Keys: `<prefix>pending` (the queue),
  /// `<prefix>consumers` (ids of registered consumers), `<prefix>processing:<id>` (messages a
  /// consumer took and has not acknowledged), `<prefix>alive:<id>` (its heartbeat). For Redis
  /// Cluster give the prefix a hash tag ("{jobs}:") so all of them share a slot.
  std::string prefix;
  /// How long a consumer's heartbeat lives. A consumer that has not popped, acknowledged or
  /// called heartbeat() for this long is judged dead, and recover_stale() puts its
  /// unacknowledged messages back on the queue. Must be positive and longer than any pop
  /// timeout; a consumer whose work on one message can take longer must call heartbeat() while
  /// it works (otherwise the message may be delivered twice, which at-least-once allows).
  std::chrono::milliseconds consumer_timeout{30000};
  /// Poison messages: a message whose consumers have died this many times while holding it is
  /// moved to the dead-letter list `<prefix>dead` instead of being requeued again (its count
  /// lives in the hash `<prefix>deaths` until it is acknowledged or dead-lettered). Counts are
  /// per message content: give messages a unique id if equal ones may be in flight at once.
  /// Unset: no limit, and a message that kills every consumer that takes it comes back forever.
  /// Must be at least 1.
  std::optional<int> max_deliveries;
};

class QueueConsumer;

/// The producer and administration side of an at-least-once queue. Messages are opaque byte
/// strings delivered oldest first. The queue, processing lists and consumer registry are
/// durable (no TTL: they are the data); only heartbeat keys expire. Thread-safe.
///
/// Delivery: a message is in exactly one place at any moment (the queue or one consumer's
/// processing list), moved between them by atomic server-side commands, so neither a crash of a
/// consumer nor of the process calling recover_stale() loses it. A message whose consumer was
/// judged dead may be processed twice (the dead-looking consumer may still finish it): make the
/// processing idempotent or deduplicate by a message id. A message that kills every consumer
/// that takes it comes back forever unless `max_deliveries` sends it to the dead-letter list.
class REDISCACHE_EXPORT ReliableQueue {
 public:
  /// Throws std::invalid_argument naming `prefix`, `consumer_timeout` or `max_deliveries`.
  ReliableQueue(Client client, ReliableQueueOptions options);

  /// Appends a message (LPUSH). Returns the queue's new length. One round trip.
  long long push(std::string_view message);
  /// Appends messages in order, in one command (LPUSH). Returns the queue's new length. An
  /// empty list pushes nothing and returns the current length (LLEN). One round trip.
  long long push(ArgList messages);
  /// Messages waiting (LLEN), not counting those being processed. One round trip.
  long long size();
  /// Ids of the consumers registered (those that popped and have not been recovered or left).
  std::vector<std::string> consumers();

  /// Finds registered consumers whose heartbeat has expired and moves their unacknowledged
  /// messages back to the front of the queue, oldest first, then unregisters them. Each
  /// consumer is checked and emptied by one atomic Lua script, so a consumer that renews its
  /// heartbeat in the meantime keeps its messages. With `max_deliveries`, a message that has
  /// now outlived that many consumers goes to the dead-letter list instead. Returns how many
  /// messages were requeued (dead-lettered ones not counted).
  /// Round trips: one, plus one per registered consumer. Safe to run from many processes at
  /// once (e.g. every consumer at start-up, or a periodic job).
  std::size_t recover_stale();

  /// Messages dead-lettered by recover_stale(), oldest first (LRANGE). One round trip.
  std::vector<std::string> dead_letters();
  /// Moves every dead letter back to the front of the queue, oldest first, with a fresh count
  /// (after the bug that killed its consumers is fixed). Returns how many. One round trip.
  std::size_t requeue_dead_letters();

  /// A consumer with this id, or with a random id (random_token) when `id` is empty. Use one
  /// consumer per thread; an id must not be used by two live consumers at once.
  [[nodiscard]] QueueConsumer consumer(std::string id = {}) const;

  [[nodiscard]] const ReliableQueueOptions& options() const noexcept { return options_; }
  /// The key of the waiting messages.
  [[nodiscard]] const std::string& pending_key() const noexcept { return pending_key_; }

 private:
  friend class QueueConsumer;
  Client client_;
  ReliableQueueOptions options_;
  std::string pending_key_;
  std::string consumers_key_;
  std::string deaths_key_;
  std::string dead_key_;
};

/// One consumer of a ReliableQueue. Cheap to create; holds no connection between calls. Not
/// thread-safe: give each thread its own consumer (with its own id).
class REDISCACHE_EXPORT QueueConsumer {
 public:
  /// Waits up to `timeout` for the oldest waiting message and moves it atomically into this
  /// consumer's processing list (BLMOVE), having first renewed the heartbeat and registered the
  /// consumer, all in one round trip. Returns the message, or nullopt when none came in time.
  /// The message stays in the processing list until ack(). Throws std::invalid_argument naming
  /// `timeout` unless 0 < timeout < consumer_timeout; the client's errors otherwise (if the
  /// connection fails during the wait, a message may have been moved: recovery requeues it).
  std::optional<std::string> pop(std::chrono::milliseconds timeout);
  /// Acknowledges a processed message: removes one copy from the processing list (LREM), forgets
  /// its death count (with max_deliveries) and renews the heartbeat, in one round trip. Returns
  /// false when the message was not there (it was requeued after this consumer was judged dead, and
  /// may be delivered again).
  bool ack(std::string_view message);
  /// Renews the heartbeat (SET with expiry consumer_timeout). One round trip. Call it while a
  /// message takes long to process.
  void heartbeat();
  /// Messages taken and not yet acknowledged, oldest first (LRANGE). One round trip.
  std::vector<std::string> in_flight();
  /// Graceful shutdown: moves every unacknowledged message back to the front of the queue,
  /// deletes the heartbeat and unregisters, atomically (one Lua script, one round trip).
  /// Returns how many messages were requeued. The consumer may pop again afterwards.
  std::size_t leave();

  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// The key of this consumer's processing list.
  [[nodiscard]] const std::string& processing_key() const noexcept { return processing_key_; }

 private:
  friend class ReliableQueue;
  QueueConsumer(const ReliableQueue& queue, std::string id);

  Client client_;
  std::chrono::milliseconds consumer_timeout_;
  std::string id_;
  std::string pending_key_;
  std::string consumers_key_;
  std::string processing_key_;
  std::string alive_key_;
  std::string deaths_key_;
  std::string dead_key_;
  int max_deliveries_ = 0;  // 0: no limit
};

}  // namespace rediscache::recipes
