// Topology: which pool serves a command, and what to do when the server says "not here" (MOVED,
// ASK, READONLY) or cannot be reached. ClientCore holds none for a single node (a direct call),
// or a ClusterTopology / SentinelTopology.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/connection.hpp"
#include "net/multiplexer.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

/// Reaches the connection behind a lease, for code in src/ that pipelines across leases.
struct LeaseAccess {
  static Connection& connection(Lease& lease) noexcept { return lease.connection(); }
};

/// No key: the command may run on any master.
inline constexpr int kNoSlot = -1;

/// A command to run: either argv, or one command already RESP-encoded (a pipeline's fallback).
struct Command {
  ArgList argv;
  std::string_view encoded;
  std::string_view name;  // for messages
  /// When `follow_up_reply` is set: a command sent right after this one on the same connection
  /// (in the same round trip), its reply stored there. WAIT needs this: it counts the replicas
  /// that have the writes of its own connection. Only the main reply decides redirections and
  /// retries; a retried command sends its follow-up again.
  ArgList follow_up{};
  Reply* follow_up_reply = nullptr;

  void append_to(Connection& connection) const {
    if (encoded.empty()) {
      connection.append(argv);
    } else {
      connection.append_encoded(encoded, 1);
    }
    if (follow_up_reply != nullptr) connection.append(follow_up);
  }
  /// True when it may join a node's shared connection (PoolOptions::multiplex): one plain
  /// command that neither blocks nor is followed nor holds the connection's state.
  [[nodiscard]] bool may_share(bool blocking) const noexcept {
    return !blocking && follow_up_reply == nullptr && encoded.empty() &&
           !needs_own_connection(argv);
  }
  /// Reads the main reply, then the follow-up's (every reply is read, so the connection stays
  /// in step).
  Reply read_from(Connection& connection) const {
    Reply reply = connection.read_reply(name);
    if (follow_up_reply != nullptr) {
      *follow_up_reply = connection.read_reply(follow_up.empty() ? "" : follow_up[0]);
    }
    return reply;
  }
};

/// Routing for a Client. Thread-safe. Pools handed out stay alive as long as the topology.
class Topology {
 public:
  virtual ~Topology() = default;

  /// Runs one command on the node that serves `slot` (kNoSlot: any master), following
  /// redirections and failovers within the topology's bounds. Error replies that are not about
  /// routing are returned; `*endpoint` names the server that answered last. `block` extends the
  /// read timeout (blocking commands).
  virtual Reply execute(int slot, const Command& command,
                        std::optional<std::chrono::milliseconds> block,
                        const std::string** endpoint) = 0;
  /// The master pool that serves `slot` now (kNoSlot: any master).
  virtual ConnectionPool& master_for(int slot) = 0;
  /// A pool to name in messages and to take options from (a master).
  virtual ConnectionPool& any_pool() = 0;
  /// Every master, once each (for DBSIZE, SCAN).
  virtual std::vector<ConnectionPool*> masters() = 0;
  /// True for a cluster (keys live on different nodes).
  [[nodiscard]] virtual bool sharded() const noexcept = 0;
  /// A pipelined reply was a redirection or a node failed: the routing may be stale.
  virtual void note_stale(const Reply* redirect) noexcept = 0;
};

/// One pool per "host:port", created on first use and never destroyed before the registry, so
/// references and leases stay valid while the topology lives. Thread-safe.
class PoolRegistry {
 public:
  PoolRegistry(ConnectionOptions connection_template, PoolOptions pool)
      : template_(std::move(connection_template)), pool_options_(pool) {}

  ConnectionPool& get(const std::string& host, int port) {
    const std::string endpoint = host + ":" + std::to_string(port);
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = pools_[endpoint];
    if (!slot) {
      ConnectionOptions options = template_;
      options.host = host;
      options.port = port;
      slot = std::make_unique<ConnectionPool>(std::move(options), pool_options_);
    }
    return *slot;
  }

  [[nodiscard]] const ConnectionOptions& connection_template() const noexcept { return template_; }

 private:
  const ConnectionOptions template_;
  const PoolOptions pool_options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ConnectionPool>> pools_;  // guarded by mu_
};

/// Redirection or retry advice in an error reply.
struct Redirect {
  enum Kind { kNone, kMoved, kAsk, kTryAgain, kClusterDown, kReadOnly, kLoading } kind = kNone;
  int slot = kNoSlot;
  std::string host;  // empty: the host of the node that answered
  int port = 0;
};

/// Parses "MOVED 3999 127.0.0.1:6381", "ASK ...", "TRYAGAIN ...", "CLUSTERDOWN ...",
/// "READONLY ...", "LOADING ..."; kNone for any other reply.
[[nodiscard]] Redirect parse_redirect(const Reply& reply);

/// The key a command is routed by: argv[1] for most commands; argv[2] for BITOP, OBJECT and
/// MEMORY; the first key of EVAL/EVALSHA/FCALL (empty when numkeys is 0); the first stream of
/// XREAD/XREADGROUP; empty for commands without keys (PING, ECHO, INFO, SCRIPT, CONFIG, CLUSTER,
/// PUBLISH, WAIT, ...). Case-insensitive.
[[nodiscard]] std::string_view routing_key(ArgList argv) noexcept;

/// True for commands that only read (safe to send to a replica, and to retry after a broken
/// connection). Case-insensitive.
[[nodiscard]] bool is_read_only_command(std::string_view name) noexcept;

/// "host" and port from "host:port" (the last colon), for redirections and sentinel replies.
[[nodiscard]] bool split_host_port(std::string_view text, std::string& host, int& port);

/// A refresher's round for BackgroundLoop: runs `step` and keeps the loop going whatever it
/// throws (background work never throws; the next round tries again).
std::function<bool()> every_round(std::function<void()> step);

/// Sleeps for attempt n's backoff: 5 ms doubling up to 200 ms, but never past `deadline`.
void backoff_sleep(int attempt, std::chrono::steady_clock::time_point deadline);

}  // namespace rediscache::detail
