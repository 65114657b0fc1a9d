#include "rediscache/client/pipeline.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

#include "client/client_core.hpp"
#include "net/connection.hpp"
#include "net/multiplexer.hpp"
#include "net/pool_state.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"
#include "topology/topology.hpp"
#include "util/validation.hpp"

namespace rediscache {

Pipeline::Pipeline(const Client& client) : core_(client.core_) {}

Pipeline& Pipeline::command(ArgList argv) {
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  if (core_->sharded()) {
    routes_.emplace_back(buffer_.size(), detail::ClientCore::slot_of(detail::routing_key(argv)));
  }
  detail::append_resp(buffer_, argv);
  ++count_;
  own_connection_ = own_connection_ || detail::needs_own_connection(argv);
  return *this;
}

Pipeline& Pipeline::get(std::string_view key) { return command({"GET", key}); }

Pipeline& Pipeline::set(std::string_view key, std::string_view value, const SetOptions& options) {
  detail::Argv argv;
  detail::IntText ttl(0);
  detail::build_set(argv, key, value, options, ttl);
  return command(argv.view());
}

Pipeline& Pipeline::del(ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  detail::Argv argv(keys.size() + 1);
  argv.add("DEL");
  argv.add_all(keys);
  return command(argv.view());
}

Pipeline& Pipeline::pexpire(std::string_view key, std::chrono::milliseconds ttl) {
  detail::require_duration(ttl, -detail::kMaxDuration, detail::kMaxDuration,
                           "Pipeline::pexpire ttl");
  const detail::IntText ms(ttl.count());
  return command({"PEXPIRE", key, ms});
}

Pipeline& Pipeline::incrby(std::string_view key, long long increment) {
  const detail::IntText by(increment);
  return command({"INCRBY", key, by});
}

Pipeline& Pipeline::hset(std::string_view key, std::string_view field, std::string_view value) {
  return command({"HSET", key, field, value});
}

Pipeline& Pipeline::publish(std::string_view channel, std::string_view message) {
  return command({"PUBLISH", channel, message});
}

void Pipeline::clear() noexcept {
  buffer_.clear();
  count_ = 0;
  own_connection_ = false;
  routes_.clear();
}

std::vector<Reply> Pipeline::exec() {
  if (count_ == 0) return {};
  // Clear the queue whatever happens: after a failure the outcome of each command is unknown,
  // and sending the batch again by accident could apply it twice.
  std::string batch;
  batch.swap(buffer_);
  const std::size_t count = std::exchange(count_, 0);
  const bool own_connection = std::exchange(own_connection_, false);
  if (core_->sharded()) return exec_sharded(std::move(batch), count, own_connection);

  ConnectionPool& pool = core_->any_pool();
  detail::PoolState& state = detail::PoolAccess::state(pool);
  // As ConnectionPool::command: a free pooled connection while there is one, else one request
  // on the shared connection, joining whatever other callers have queued.
  std::optional<Lease> lease = detail::PoolAccess::lease_or_share(pool, !own_connection);
  if (!lease) {
    std::vector<Reply> replies = state.multiplexer->pipeline(batch, count);
    batch.clear();
    buffer_.swap(batch);
    return replies;
  }
  detail::Connection& connection = detail::LeaseAccess::connection(*lease);
  connection.append_encoded(batch, count);
  std::vector<Reply> replies;
  replies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) replies.push_back(connection.read_reply("pipeline"));
  // Keep the buffer's capacity for the next batch.
  batch.clear();
  buffer_.swap(batch);
  return replies;
}

std::vector<Reply> Pipeline::exec_sharded(std::string batch, std::size_t count,
                                          bool own_connection) {
  std::vector<std::pair<std::size_t, int>> routes;
  routes.swap(routes_);
  detail::Topology& topology = *core_->topology();
  const auto encoded = [&](std::size_t i) {
    const std::size_t end = i + 1 < count ? routes[i + 1].first : batch.size();
    return std::string_view(batch).substr(routes[i].first, end - routes[i].first);
  };

  // One batch per node, in queue order within each.
  struct NodeBatch {
    ConnectionPool* pool;
    std::string resp;
    std::vector<std::size_t> commands;
    std::optional<Lease> lease;
    detail::Multiplexer* shared = nullptr;  // set when the batch went to the shared connection
    detail::Multiplexer::Ticket ticket;
  };
  std::vector<NodeBatch> nodes;
  for (std::size_t i = 0; i < count; ++i) {
    ConnectionPool* pool = &topology.master_for(routes[i].second);
    auto node = std::find_if(nodes.begin(), nodes.end(),
                             [pool](const NodeBatch& b) { return b.pool == pool; });
    if (node == nodes.end()) node = nodes.insert(nodes.end(), NodeBatch{pool, {}, {}, {}, {}, {}});
    node->resp.append(encoded(i));
    node->commands.push_back(i);
  }
  // Leases are taken in one global order (by pool), so two threads never wait on each other.
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeBatch& a, const NodeBatch& b) { return a.pool < b.pool; });

  std::vector<Reply> replies(count);
  std::vector<std::size_t> rerun;  // commands to send again alone, through the topology
  for (NodeBatch& node : nodes) {
    try {
      // As exec(): a free pooled connection, else the node's shared connection, where the batch
      // joins other callers' (submitted now, collected below, so every node's batch is out
      // before any reply is awaited).
      node.lease = detail::PoolAccess::lease_or_share(*node.pool, !own_connection);
      if (!node.lease) {
        node.shared = detail::PoolAccess::state(*node.pool).multiplexer.get();
        node.ticket = node.shared->submit(node.resp, node.commands.size());
        continue;
      }
    } catch (const IoError&) {
      topology.note_stale(nullptr);  // nothing was sent to this node: run its commands alone
      rerun.insert(rerun.end(), node.commands.begin(), node.commands.end());
      continue;
    }
    detail::Connection& connection = detail::LeaseAccess::connection(*node.lease);
    connection.append_encoded(node.resp, node.commands.size());
    connection.flush();
  }
  for (NodeBatch& node : nodes) {
    if (node.shared != nullptr) {
      std::vector<Reply> got;
      try {
        got = node.shared->collect(node.ticket);
      } catch (const detail::NotSentError&) {
        topology.note_stale(nullptr);  // the shared connection could not be opened: run alone
        rerun.insert(rerun.end(), node.commands.begin(), node.commands.end());
        continue;
      }
      for (std::size_t k = 0; k < node.commands.size(); ++k) {
        const std::size_t i = node.commands[k];
        replies[i] = std::move(got[k]);
        if (detail::parse_redirect(replies[i]).kind != detail::Redirect::kNone) rerun.push_back(i);
      }
      continue;
    }
    if (!node.lease) continue;
    detail::Connection& connection = detail::LeaseAccess::connection(*node.lease);
    for (const std::size_t i : node.commands) {
      replies[i] = connection.read_reply("pipeline");
      if (detail::parse_redirect(replies[i]).kind != detail::Redirect::kNone) rerun.push_back(i);
    }
    node.lease.reset();
  }
  nodes.clear();  // every lease is back before a command runs alone

  std::sort(rerun.begin(), rerun.end());
  for (const std::size_t i : rerun) {
    const std::string* endpoint = nullptr;
    replies[i] = topology.execute(routes[i].second, detail::Command{{}, encoded(i), "pipeline"},
                                  std::nullopt, &endpoint);
  }
  batch.clear();
  buffer_.swap(batch);
  return replies;
}

}  // namespace rediscache
