// A tour of the connection layer: a pooled Client, typed commands, a pipeline, a transaction,
// a Lua script and pub/sub. Run it against a local redis-server:
//   quickstart [host] [port]     (defaults: REDISCACHE_TEST_REDIS_HOST/PORT, else 127.0.0.1:6379)
// Exits non-zero if any check fails.
#include <cstdlib>
#include <iostream>
#include <string>

#include <rediscache/rediscache.hpp>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::cout << (ok ? "  ok    " : "  FAIL  ") << what << "\n";
  if (!ok) ++failures;
}

rediscache::ConnectionOptions options_from(int argc, char** argv) {
  rediscache::ConnectionOptions options;
  const char* host = argc > 1 ? argv[1] : std::getenv("REDISCACHE_TEST_REDIS_HOST");
  const char* port = argc > 2 ? argv[2] : std::getenv("REDISCACHE_TEST_REDIS_PORT");
  if (host != nullptr) options.host = host;
  if (port != nullptr) options.port = std::atoi(port);
  return options;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace std::chrono_literals;

  // [README:client]
  rediscache::ConnectionOptions connection = options_from(argc, argv);
  connection.command_timeout = 500ms;
  rediscache::PoolOptions pool;
  pool.size = 4;
  rediscache::Client redis(connection, pool);  // connects lazily; copies share the pool

  redis.set("quickstart:greeting", "hello", rediscache::SetOptions{60s});  // SET .. PX 60000
  std::optional<std::string> greeting = redis.get("quickstart:greeting");
  redis.hset("quickstart:user:42", {{"name", "Ada"}, {"email", "ada@example.com"}});
  redis.expire("quickstart:user:42", 60s);
  redis.zincrby("quickstart:board", 10, "ada");
  // [/README]
  check(greeting == "hello", "SET with TTL, then GET");
  check(redis.pttl("quickstart:greeting") > 0, "the key has a TTL");
  check(redis.hget("quickstart:user:42", "name") == "Ada", "HSET of a field map, then HGET");

  // [README:pipeline]
  rediscache::Pipeline batch = redis.pipeline();
  for (int id = 0; id < 100; ++id) batch.get("quickstart:item:" + std::to_string(id));
  std::vector<rediscache::Reply> replies = batch.exec();  // one round trip, replies in order
  // [/README]
  check(replies.size() == 100 && replies[0].is_nil(), "a pipeline of 100 GETs");

  // [README:transaction]
  for (;;) {  // optimistic locking: retry when the watched key changed
    rediscache::Transaction tx = redis.transaction({"quickstart:balance"});
    long long balance = std::stoll(redis.get("quickstart:balance").value_or("0"));
    tx.queue({"SET", "quickstart:balance", std::to_string(balance + 5), "EX", "60"});
    if (tx.exec()) break;
  }
  // [/README]
  check(redis.get("quickstart:balance").has_value(), "a WATCH/MULTI/EXEC transaction");

  // [README:script]
  static const rediscache::Script kIncrIfBelow(R"lua(
    local v = tonumber(redis.call('GET', KEYS[1]) or '0')
    if v < tonumber(ARGV[1]) then return redis.call('INCR', KEYS[1]) end
    return -1)lua");
  rediscache::Reply counter = redis.eval(kIncrIfBelow, {"quickstart:counter"}, {"3"});
  // [/README]
  redis.expire("quickstart:counter", 60s);
  check(counter.is_integer(), "a Lua script through EVALSHA");

  // [README:pubsub]
  rediscache::Subscriber subscriber = redis.subscriber();  // its own connection
  subscriber.subscribe({"quickstart:events"});
  (void)subscriber.next(1s);  // the subscribe confirmation
  redis.publish("quickstart:events", "user 42 changed");
  std::optional<rediscache::Message> message = subscriber.next(1s);
  // [/README]
  check(message && message->payload == "user 42 changed", "pub/sub on a dedicated connection");

  // [README:errors]
  try {
    redis.hget("quickstart:greeting", "field");  // a string, not a hash
  } catch (const rediscache::ReplyError& e) {
    std::cout << "  error says: " << e.what() << "\n";  // names host:port and HGET, no values
  }
  // [/README]

  const rediscache::PoolStats stats = redis.pool().stats();
  std::cout << "pool: size " << stats.size << ", created " << stats.created << ", leases "
            << stats.leases << ", idle " << stats.idle << "\n";
  redis.del({"quickstart:greeting", "quickstart:user:42", "quickstart:board", "quickstart:balance",
             "quickstart:counter"});
  std::cout << (failures == 0 ? "all checks passed\n" : "some checks FAILED\n");
  return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "quickstart: " << e.what() << "\n";
  return 1;
}
