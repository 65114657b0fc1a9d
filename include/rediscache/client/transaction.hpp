// Transaction: WATCH + MULTI/EXEC on one leased connection (optimistic locking).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache {

class Client;

namespace detail {
class ClientCore;
}  // namespace detail

/// A MULTI/EXEC transaction. Holds one leased connection from creation (where the WATCH, if
/// any, is sent) or from its first command, until `exec()`, `discard()` or destruction. Not
/// thread-safe. On a cluster every key (the watched ones and the first key of each command) must
/// hash to one slot (use a {hash tag}); a key of another slot throws ReplyError (CROSSSLOT) before
/// anything is sent.
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
  explicit Transaction(std::shared_ptr<detail::ClientCore> core);
  void route(std::string_view key);  // fixes (or checks) the slot this transaction runs in
  Lease& leased();                   // the connection, leased on first use

  std::shared_ptr<detail::ClientCore> core_;
  std::optional<Lease> lease_;
  std::string route_key_;  // a key of the transaction's slot; empty until one is seen
  std::string buffer_;     // RESP-encoded queued commands
  std::size_t count_ = 0;
  bool watching_ = false;
  bool finished_ = false;
};

}  // namespace rediscache
