// Pipeline: many commands in one round trip, replies in order, errors per command.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/args.hpp"
#include "rediscache/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/reply.hpp"

namespace rediscache {

/// Queues commands and sends them in one round trip on one leased connection. Commands are
/// encoded as they are queued (RESP, binary-safe), so arguments may be temporaries. Not
/// thread-safe; cheap to create (`Client::pipeline()`), reusable after `exec()`.
class REDISCACHE_EXPORT Pipeline {
 public:
  explicit Pipeline(const Client& client);

  /// Queues any command.
  Pipeline& command(ArgList argv);
  Pipeline& get(std::string_view key);
  Pipeline& set(std::string_view key, std::string_view value, const SetOptions& options = {});
  Pipeline& del(ArgList keys);
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
};

}  // namespace rediscache
