// Transaction: WATCH + MULTI/EXEC on one leased connection (optimistic locking).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rediscache/args.hpp"
#include "rediscache/connection_pool.hpp"
#include "rediscache/export.hpp"
#include "rediscache/reply.hpp"

namespace rediscache {

class Client;

/// A MULTI/EXEC transaction. Holds one leased connection from creation (where the WATCH, if
/// any, is sent) until `exec()`, `discard()` or destruction. Not thread-safe.
///
/// Typical use: read watched keys with `command()`, queue writes with `queue()`, then `exec()`;
/// an empty result means a watched key changed and the caller should retry.
class REDISCACHE_EXPORT Transaction {
 public:
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  ~Transaction();

  /// Runs a command now, outside the MULTI block (reads of watched keys). Throws ReplyError.
  Reply command(ArgList argv);
  /// Queues a command for the MULTI block (sent by `exec()`).
  Transaction& queue(ArgList argv);
  /// Sends MULTI, the queued commands and EXEC in one round trip. Returns the replies, or
  /// nullopt when a watched key changed (nothing was applied). A command that fails at run
  /// time gets a kError reply in its slot (Redis does not roll back); a command rejected while
  /// queuing aborts the whole transaction with ReplyError (EXECABORT).
  std::optional<std::vector<Reply>> exec();
  /// Abandons the transaction (UNWATCH). The destructor does the same if needed.
  void discard();

 private:
  friend class Client;
  explicit Transaction(Lease lease);

  std::optional<Lease> lease_;
  std::string buffer_;  // RESP-encoded queued commands
  std::size_t count_ = 0;
  bool watching_ = false;
};

}  // namespace rediscache
