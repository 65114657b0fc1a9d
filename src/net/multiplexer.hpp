// Multiplexer: the commands of many threads to one server over one shared connection. Whatever
// is queued when the connection's writer gets to it goes out in one write; replies are matched
// to their requests in order. There is no I/O thread: the caller that finds the connection idle
// does the I/O for everyone queued behind it (leader/follower), and hands the role to a waiting
// caller when its own reply is in. See docs/transport.md ("Multiplexing").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "net/connection.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/reply.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

class PoolState;

/// True for commands that must not share a connection: they change its state for the commands
/// after them (SELECT, AUTH, HELLO, CLIENT ..., READONLY, ASKING, RESET), need it to themselves
/// (WATCH / MULTI / EXEC / DISCARD, SUBSCRIBE and friends, MONITOR), or may hold it (BLPOP,
/// BLMOVE, WAIT, XREAD BLOCK, ... : a blocked reply would hold every reply queued behind it).
/// Case-insensitive. These go over a connection of their own from the pool.
[[nodiscard]] bool needs_own_connection(ArgList argv) noexcept;
/// The same for a command's name alone (for commands known not to block by their arguments).
[[nodiscard]] bool needs_own_connection(std::string_view name) noexcept;

/// What a multiplexed command throws when it failed before any byte of it was written (the
/// shared connection could not be opened): safe to send again, unlike an IoError after the
/// write. Callers outside src/ see an IoError.
class NotSentError : public IoError {
 public:
  using IoError::IoError;
};

/// Thread-safe. Completion is an event on the request (`done` + its condition variable): the
/// blocking calls below wait for it; nothing in the batching assumes the caller's thread is the
/// one blocked, so an asynchronous API can complete requests with callbacks instead.
class Multiplexer {
  struct Request;

 public:
  using Clock = Connection::Clock;
  /// A batch submitted and not yet collected.
  using Ticket = std::shared_ptr<Request>;

  explicit Multiplexer(PoolState& pool) noexcept;
  ~Multiplexer();
  Multiplexer(const Multiplexer&) = delete;
  Multiplexer& operator=(const Multiplexer&) = delete;

  /// One command; its reply (error replies returned). Throws IoError (the connection failed with
  /// the command in flight: outcome unknown; or it could not be opened: not sent), TimeoutError
  /// (no reply within command_timeout of the call), ProtocolError, PoolExhausted (the queue holds
  /// PoolOptions::max_queued_bytes already).
  Reply command(ArgList argv);
  /// `count` commands already RESP-encoded, sent together in one batch; their replies in order.
  /// Errors as command(), naming `name`.
  std::vector<Reply> pipeline(std::string_view resp, std::size_t count,
                              std::string_view name = "pipeline");
  /// pipeline() in two steps, so one caller's batches to several servers all go out before it
  /// waits for any reply (cluster pipelines): queues the batch and, when no one is doing I/O,
  /// writes it (with whatever else is queued) without waiting. `count` >= 1. Throws
  /// PoolExhausted as command(); write failures are reported by collect().
  Ticket submit(std::string_view resp, std::size_t count);
  /// The replies of a submitted batch, in order, waiting for them until its deadline (counted
  /// from submit). Errors as command().
  std::vector<Reply> collect(const Ticket& ticket);

  /// Requests taken so far, and the writes that sent them (requests / writes = batching).
  [[nodiscard]] std::uint64_t requests() const noexcept;
  [[nodiscard]] std::uint64_t writes() const noexcept;

 private:
  struct Request {
    std::string resp;  // the encoded command(s)
    std::size_t expected = 0;
    std::vector<Reply> replies;
    std::string name;  // for messages: the command's name, never its arguments
    Clock::time_point deadline;
    std::exception_ptr error;
    bool sent = false;
    bool done = false;
    bool abandoned = false;  // its caller gave up at its deadline: replies are dropped
    bool lead = false;       // handed the I/O role
    bool awaited = false;    // its caller waits for it (submitted batches: once collected)
    std::condition_variable cv;
  };
  using RequestPtr = std::shared_ptr<Request>;

  static RequestPtr make_pipeline(std::string_view resp, std::size_t count,
                                  std::string_view name = "pipeline");
  std::vector<Reply> run(const RequestPtr& request);
  // Queues a request (PoolExhausted past max_queued_bytes). With mu_ held.
  void enqueue(const RequestPtr& request);
  // Waits for a queued request, taking the I/O role when it is free. With `lock` held.
  std::vector<Reply> await(const RequestPtr& request, std::unique_lock<std::mutex>& lock);
  // Writes every unsent request in one write (opening the connection first if needed). Called
  // by the I/O role holder, and returns, with `lock` held.
  void send_unsent(std::unique_lock<std::mutex>& lock);
  // The I/O role, until `me` is done. Called and returns with `lock` held.
  void lead(Request& me, std::unique_lock<std::mutex>& lock);
  // Gives the I/O role to a caller still waiting, if any.
  void hand_off();
  // Opens (or re-opens) the connection outside the lock; false when it failed (then every
  // unsent request has failed too, for nothing was sent).
  bool ensure_connection(std::unique_lock<std::mutex>& lock);
  // The connection failed with requests in flight: each fails with its own error naming its
  // command; the connection is dropped (the next leader opens a new one).
  void fail_in_flight(const std::exception_ptr& cause);
  void fail_unsent(const std::exception_ptr& cause);
  void finish(Request& request);
  void give_up(const RequestPtr& request);

  PoolState& pool_;
  const std::size_t max_queued_bytes_;

  mutable std::mutex mu_;
  std::unique_ptr<Connection> connection_;  // used by the leader only, outside mu_
  std::deque<RequestPtr> unsent_;           // guarded by mu_
  std::deque<RequestPtr> in_flight_;        // guarded by mu_; oldest first
  std::size_t queued_bytes_ = 0;            // guarded by mu_: unsent + in flight
  bool io_active_ = false;                  // guarded by mu_: a leader is doing I/O
  std::uint64_t requests_ = 0;              // guarded by mu_
  std::uint64_t writes_ = 0;                // guarded by mu_
};

}  // namespace rediscache::detail
