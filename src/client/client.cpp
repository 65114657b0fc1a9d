// Client construction, generic commands and server commands.
#include "rediscache/client/client.hpp"

#include <utility>

#include "client/client_core.hpp"
#include "net/connection.hpp"
#include "net/resp.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/script.hpp"
#include "rediscache/client/subscriber.hpp"
#include "rediscache/client/transaction.hpp"
#include "rediscache/topology/cluster.hpp"
#include "rediscache/topology/sentinel.hpp"
#include "rediscache/util/errors.hpp"
#include "topology/cluster_topology.hpp"
#include "topology/sentinel_topology.hpp"

namespace rediscache {

using detail::Call;

Client::Client(ConnectionOptions connection, PoolOptions pool)
    : core_(std::make_shared<detail::ClientCore>(
          std::make_shared<ConnectionPool>(std::move(connection), pool))) {}

Client::Client(std::shared_ptr<ConnectionPool> pool)
    : core_(std::make_shared<detail::ClientCore>(std::move(pool))) {}

Client::Client(std::shared_ptr<detail::ClientCore> core) noexcept : core_(std::move(core)) {}

Client Client::cluster(ClusterOptions options) {
  options.validate();
  return Client(std::make_shared<detail::ClientCore>(
      std::make_unique<detail::ClusterTopology>(std::move(options))));
}

Client Client::sentinel(SentinelOptions options) {
  options.validate();
  return Client(std::make_shared<detail::ClientCore>(
      std::make_unique<detail::SentinelTopology>(std::move(options))));
}

ConnectionPool& Client::pool() const noexcept { return core_->any_pool(); }

ConnectionPool& Client::pool_for(std::string_view key) const { return core_->pool_for(key); }

std::shared_ptr<ConnectionPool> Client::shared_pool() const noexcept {
  if (core_->topology() == nullptr) return core_->shared_pool();
  // The topology owns its pools: share ownership of the core, which keeps them alive.
  return std::shared_ptr<ConnectionPool>(core_, &core_->any_pool());
}

const std::string& Client::endpoint() const noexcept { return core_->any_pool().endpoint(); }

const ConnectionOptions& Client::connection_options() const noexcept {
  return core_->any_pool().connection_options();
}

std::vector<ConnectionOptions> Client::master_connection_options() const {
  if (core_->topology() == nullptr) return {core_->any_pool().connection_options()};
  std::vector<ConnectionOptions> out;
  for (const ConnectionPool* pool : core_->topology()->masters()) {
    out.push_back(pool->connection_options());
  }
  return out;
}

Reply Client::command(ArgList argv) {
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  return core_->run(core_->topology() != nullptr ? detail::routing_key(argv) : std::string_view{},
                    argv);
}

Pipeline Client::pipeline() const { return Pipeline(*this); }

Transaction Client::transaction(ArgList watch_keys) const {
  detail::check_one_slot(*core_, watch_keys, "WATCH");
  Transaction transaction(core_);
  if (!watch_keys.empty()) {
    detail::Argv argv(watch_keys.size() + 1);
    argv.add("WATCH");
    argv.add_all(watch_keys);
    transaction.route(watch_keys[0]);
    Lease& lease = transaction.leased();
    const Reply reply = lease.command(argv.view());
    if (reply.is_error()) {
      if (core_->topology() != nullptr &&
          detail::parse_redirect(reply).kind != detail::Redirect::kNone) {
        core_->topology()->note_stale(&reply);  // the slot moved: reload the map for the retry
      }
      detail::throw_reply_error(lease.endpoint(), "WATCH", reply);
    }
    transaction.watching_ = true;
  }
  return transaction;
}

Subscriber Client::subscriber() const { return Subscriber(connection_options()); }

Reply Client::eval(const Script& script, ArgList keys, ArgList args) {
  detail::check_one_slot(*core_, keys, "EVALSHA");
  const detail::IntText numkeys(static_cast<long long>(keys.size()));
  const std::string_view route = keys.empty() ? std::string_view{} : keys[0];
  // EVALSHA <sha1>, or EVAL <source>, then the same numkeys, keys and args.
  const auto run = [&](std::string_view verb, std::string_view script_arg) {
    detail::Argv argv(keys.size() + args.size() + 3);
    argv.add(verb);
    argv.add(script_arg);
    argv.add(numkeys);
    argv.add_all(keys);
    argv.add_all(args);
    return core_->run_allow_error(route, argv.view());
  };
  Reply reply = run("EVALSHA", script.sha1());
  if (reply.is_error() && reply.str.compare(0, 8, "NOSCRIPT") == 0) {
    // The server lost or never had the script (restart, SCRIPT FLUSH): EVAL loads it.
    reply = run("EVAL", script.source());
  }
  if (reply.is_error())
    detail::throw_reply_error(core_->pool_for(route).endpoint(), "EVALSHA", reply);
  return reply;
}

std::string Client::ping() {
  auto reply = detail::to_optional_text(core_->run({}, {"PING"}), Call{endpoint(), "PING"});
  return reply.value_or("");
}

Info Client::info(std::string_view section) {
  Reply reply = section.empty() ? core_->run({}, {"INFO"}) : core_->run({}, {"INFO", section});
  const Call call{endpoint(), "INFO"};
  if (!reply.is_string()) detail::throw_unexpected(call, reply);
  return Info::parse(reply.str);
}

std::chrono::microseconds Client::time() {
  const Call call{endpoint(), "TIME"};
  auto parts = detail::to_strings(core_->run({}, {"TIME"}), call);
  if (parts.size() != 2) detail::throw_unexpected(call, Reply{});
  return std::chrono::seconds(std::stoll(parts[0])) +
         std::chrono::microseconds(std::stoll(parts[1]));
}

long long Client::dbsize() {
  if (!core_->sharded()) {
    return detail::to_integer(core_->run({}, {"DBSIZE"}), Call{endpoint(), "DBSIZE"});
  }
  long long total = 0;
  for (ConnectionPool* pool : core_->topology()->masters()) {
    const Reply reply = pool->command({"DBSIZE"});
    if (reply.is_error()) detail::throw_reply_error(pool->endpoint(), "DBSIZE", reply);
    total += detail::to_integer(reply, Call{pool->endpoint(), "DBSIZE"});
  }
  return total;
}

std::optional<long long> Client::memory_usage(std::string_view key, bool exact) {
  Reply reply = exact ? core_->run(key, {"MEMORY", "USAGE", key, "SAMPLES", "0"})
                      : core_->run(key, {"MEMORY", "USAGE", key});
  return detail::to_optional_integer(reply, Call{endpoint(), "MEMORY"});
}

std::string Client::type(std::string_view key) {
  return detail::to_optional_text(core_->run(key, {"TYPE", key}), Call{endpoint(), "TYPE"})
      .value_or("none");
}

long long Client::publish(std::string_view channel, std::string_view message) {
  // Pub/sub is not sharded (Redis 7 broadcasts PUBLISH to every node), so on a cluster it goes
  // to the node that subscriber() connects to: the count then includes this client's
  // subscribers.
  return detail::to_integer(core_->run({}, {"PUBLISH", channel, message}),
                            Call{endpoint(), "PUBLISH"});
}

}  // namespace rediscache
