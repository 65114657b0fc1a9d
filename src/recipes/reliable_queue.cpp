#include "rediscache/recipes/reliable_queue.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "net/connection.hpp"
#include "recipes/support.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/util/errors.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache::recipes {

namespace {

// Moves every message of a processing list back to the front (right end) of the queue, oldest
// first, and unregisters the consumer; with ARGV[2] == "if-dead" only when its heartbeat is
// gone. One script, so a consumer renewing its heartbeat concurrently either keeps all of its
// messages or none. For a dead consumer with a limit (ARGV[3] > 0), each message's death count
// goes up, and one that reaches the limit goes to the dead-letter list instead (count dropped).
// Lists hold the newest at the left; the script takes messages oldest first (right), pushes
// dead letters on the left of their list and requeued ones, newest first, on the right of the
// queue, so both keep their order and the oldest requeued message is taken next.
// KEYS: heartbeat, processing list, queue, registry, death counts, dead letters.
// ARGV: consumer id, mode, max deliveries ("0": none).
// Returns -1 when the consumer is alive, else the number of messages requeued.
const Script& requeue_script() {
  static const Script kScript(R"lua(
local dead = ARGV[2] == 'if-dead'
if dead and redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
local limit = tonumber(ARGV[3])
local back = {}
while true do
  local message = redis.call('RPOP', KEYS[2])
  if not message then break end
  if dead and limit > 0 and redis.call('HINCRBY', KEYS[5], message, 1) >= limit then
    redis.call('HDEL', KEYS[5], message)
    redis.call('LPUSH', KEYS[6], message)
  else
    back[#back + 1] = message
  end
end
for i = #back, 1, -1 do
  redis.call('RPUSH', KEYS[3], back[i])
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #back
)lua");
  return kScript;
}

// Moves every dead letter back to the front of the queue, in the order they died: the dead list
// holds the newest at the left, and taking from there while pushing right leaves the oldest
// rightmost, where consumers take from. KEYS: dead letters, queue. Returns the number moved.
const Script& requeue_dead_script() {
  static const Script kScript(R"lua(
local moved = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do
  moved = moved + 1
end
return moved
)lua");
  return kScript;
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  const long long ms = timeout.count();
  std::string fraction = std::to_string(ms % 1000);
  fraction.insert(0, 3 - fraction.size(), '0');
  return std::to_string(ms / 1000) + "." + fraction;
}

}  // namespace

ReliableQueue::ReliableQueue(Client client, ReliableQueueOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  detail::require_non_empty(options_.prefix, "ReliableQueueOptions::prefix");
  detail::require_positive(options_.consumer_timeout, "ReliableQueueOptions::consumer_timeout");
  if (options_.max_deliveries && *options_.max_deliveries < 1) {
    throw std::invalid_argument("ReliableQueueOptions::max_deliveries must be at least 1");
  }
  pending_key_ = options_.prefix + "pending";
  consumers_key_ = options_.prefix + "consumers";
  deaths_key_ = options_.prefix + "deaths";
  dead_key_ = options_.prefix + "dead";
}

long long ReliableQueue::push(std::string_view message) {
  return client_.lpush(pending_key_, {message});
}

long long ReliableQueue::push(ArgList messages) {
  if (messages.empty()) return size();
  return client_.lpush(pending_key_, messages);
}

long long ReliableQueue::size() { return client_.llen(pending_key_); }

std::vector<std::string> ReliableQueue::consumers() { return client_.smembers(consumers_key_); }

std::size_t ReliableQueue::recover_stale() {
  std::size_t requeued = 0;
  for (const std::string& id : client_.smembers(consumers_key_)) {
    const std::string alive = options_.prefix + "alive:" + id;
    const std::string processing = options_.prefix + "processing:" + id;
    const Reply reply = client_.eval(
        requeue_script(), {alive, processing, pending_key_, consumers_key_, deaths_key_, dead_key_},
        {id, "if-dead",
         detail::decimal(static_cast<long long>(options_.max_deliveries.value_or(0)))});
    const long long moved = detail::to_integer(reply, detail::Call{client_.endpoint(), "EVALSHA"});
    if (moved > 0) requeued += static_cast<std::size_t>(moved);
  }
  return requeued;
}

std::vector<std::string> ReliableQueue::dead_letters() {
  std::vector<std::string> messages = client_.lrange(dead_key_, 0, -1);
  std::reverse(messages.begin(), messages.end());  // the newest is at the left
  return messages;
}

std::size_t ReliableQueue::requeue_dead_letters() {
  const Reply reply = client_.eval(requeue_dead_script(), {dead_key_, pending_key_});
  const long long moved = detail::to_integer(reply, detail::Call{client_.endpoint(), "EVALSHA"});
  return moved > 0 ? static_cast<std::size_t>(moved) : 0;
}

QueueConsumer ReliableQueue::consumer(std::string id) const {
  if (id.empty()) id = random_token();
  return QueueConsumer(*this, std::move(id));
}

QueueConsumer::QueueConsumer(const ReliableQueue& queue, std::string id)
    : client_(queue.client_),
      consumer_timeout_(queue.options_.consumer_timeout),
      id_(std::move(id)),
      pending_key_(queue.pending_key_),
      consumers_key_(queue.consumers_key_),
      processing_key_(queue.options_.prefix + "processing:" + id_),
      alive_key_(queue.options_.prefix + "alive:" + id_),
      deaths_key_(queue.deaths_key_),
      dead_key_(queue.dead_key_),
      max_deliveries_(queue.options_.max_deliveries.value_or(0)) {}

std::optional<std::string> QueueConsumer::pop(std::chrono::milliseconds timeout) {
  if (timeout <= std::chrono::milliseconds::zero() || timeout >= consumer_timeout_) {
    throw std::invalid_argument(
        "QueueConsumer::pop timeout must be positive and shorter than "
        "ReliableQueueOptions::consumer_timeout");
  }
  // Heartbeat, registration and the blocking move go out together (one round trip); the
  // heartbeat outlives the wait because timeout < consumer_timeout, so recovery never takes a
  // consumer that is merely waiting. Client has no pipeline with a blocking command, hence the
  // lease.
  const std::string ttl = detail::millis_text(consumer_timeout_);
  const std::string wait = seconds_text(timeout);
  Lease lease = client_.pool_for(pending_key_).lease();
  lease.append({"SET", alive_key_, "1", "PX", ttl});
  lease.append({"SADD", consumers_key_, id_});
  lease.append({"BLMOVE", pending_key_, processing_key_, "RIGHT", "LEFT", wait});
  lease.set_read_timeout(
      detail::blocking_read_timeout(timeout, client_.connection_options().command_timeout));
  // Read every reply before judging any, so the connection stays in step.
  const Reply set = lease.read_reply("SET");
  const Reply sadd = lease.read_reply("SADD");
  const Reply moved = lease.read_reply("BLMOVE");
  lease.set_read_timeout(std::nullopt);
  if (set.is_error()) detail::throw_reply_error(lease.endpoint(), "SET", set);
  if (sadd.is_error()) detail::throw_reply_error(lease.endpoint(), "SADD", sadd);
  if (moved.is_error()) detail::throw_reply_error(lease.endpoint(), "BLMOVE", moved);
  return detail::to_optional_string(moved, detail::Call{lease.endpoint(), "BLMOVE"});
}

bool QueueConsumer::ack(std::string_view message) {
  const std::string ttl = detail::millis_text(consumer_timeout_);
  detail::RecipeTransaction tx(client_);
  tx.queue({"LREM", processing_key_, "1", message});
  tx.queue({"SET", alive_key_, "1", "PX", ttl});
  if (max_deliveries_ > 0) tx.queue({"HDEL", deaths_key_, message});
  const std::vector<Reply> replies = tx.exec();
  return detail::to_integer(replies[0], detail::Call{client_.endpoint(), "LREM"}) > 0;
}

void QueueConsumer::heartbeat() { client_.set(alive_key_, "1", SetOptions{consumer_timeout_}); }

std::vector<std::string> QueueConsumer::in_flight() {
  std::vector<std::string> messages = client_.lrange(processing_key_, 0, -1);
  // The processing list holds the newest at the left.
  std::reverse(messages.begin(), messages.end());
  return messages;
}

std::size_t QueueConsumer::leave() {
  const Reply reply = client_.eval(
      requeue_script(),
      {alive_key_, processing_key_, pending_key_, consumers_key_, deaths_key_, dead_key_},
      {id_, "always", "0"});
  const long long moved = detail::to_integer(reply, detail::Call{client_.endpoint(), "EVALSHA"});
  return moved > 0 ? static_cast<std::size_t>(moved) : 0;
}

}  // namespace rediscache::recipes
