// Pipeline: many commands in one round trip, replies in order, errors per command.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache {

/// Queues commands and sends them in one round trip on one leased connection. Commands are
/// encoded as they are queued (RESP, binary-safe), so arguments may be temporaries. Not
/// thread-safe; cheap to create (`Client::pipeline()`), reusable after `exec()`.
///
/// On a cluster each command is routed by its key (argv[1], or the first key of BITOP, EVAL,
/// XREAD...; keyless commands such as PING go to any master); the
/// commands of each node go in one batch, all batches are sent before any reply is read (one
/// round trip overall), and replies come back in queue order. A command that meets a
/// redirection (MOVED/ASK/TRYAGAIN) is then re-run alone on the right node. Keys of one
/// multi-key command must share a slot.
class REDISCACHE_EXPORT Pipeline {
 public:
  explicit Pipeline(const Client& client);

  /// Queues any command.
  Pipeline& command(ArgList argv);
  Pipeline& get(std::string_view key);
  Pipeline& set(std::string_view key, std::string_view value, const SetOptions& options = {});
  Pipeline& del(ArgList keys);
  /// |ttl| above a year throws std::invalid_argument naming `Pipeline::pexpire ttl`.
  Pipeline& pexpire(std::string_view key, std::chrono::milliseconds ttl);
  Pipeline& incrby(std::string_view key, long long increment);
  Pipeline& hset(std::string_view key, std::string_view field, std::string_view value);
  Pipeline& publish(std::string_view channel, std::string_view message);

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  /// Drops everything queued.
  void clear() noexcept;

  /// Sends everything queued and reads every reply (one round trip), then clears the queue.
  /// An error reply is returned in its slot as a kError Reply; the other commands are not
  /// affected. Throws IoError/TimeoutError if the connection fails (the whole batch's outcome
  /// is then unknown).
  std::vector<Reply> exec();

 private:
  std::shared_ptr<detail::ClientCore> core_;
  std::string buffer_;  // RESP-encoded commands
  std::size_t count_ = 0;
  // A queued command needs a connection of its own (SELECT, MULTI, a blocking pop, ...): the
  // batch then leases one instead of joining the shared multiplexed connection.
  bool own_connection_ = false;
  // Cluster only: per queued command, its offset in buffer_ and its slot (-1: no key).
  std::vector<std::pair<std::size_t, int>> routes_;
  std::vector<Reply> exec_sharded(std::string batch, std::size_t count, bool own_connection);
};

}  // namespace rediscache
