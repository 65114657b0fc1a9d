// Subscriber: pub/sub on a dedicated connection (a subscribed connection cannot run other
// commands, so it never comes from the pool).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"

namespace rediscache {

/// What a received pub/sub frame is.
enum class MessageKind {
  kMessage,
  kPatternMessage,
  kSubscribe,
  kUnsubscribe,
  kPatternSubscribe,
  kPatternUnsubscribe,
  kPong
};

/// One pub/sub frame.
struct Message {
  MessageKind kind = MessageKind::kMessage;
  std::string channel;                     ///< Channel the message came on (or (un)subscribed).
  std::string pattern;                     ///< The matching pattern, for kPatternMessage.
  std::string payload;                     ///< The message text, when it is a string.
  std::vector<std::string> payload_items;  ///< Array payloads (client-tracking invalidations).
  bool payload_nil = false;                ///< A nil payload (tracking: "flush everything").
  long long subscriptions = 0;             ///< Active subscriptions, for (un)subscribe frames.
};

/// A pub/sub connection. Not thread-safe: one thread owns it and calls `next()` in a loop.
/// Connection loss surfaces as IoError from `next()`; create a new Subscriber to resubscribe.
class REDISCACHE_EXPORT Subscriber {
 public:
  /// Connects (with AUTH/SELECT from the options); throws IoError/TimeoutError naming host:port.
  explicit Subscriber(const ConnectionOptions& options);
  ~Subscriber();
  Subscriber(Subscriber&&) noexcept;
  Subscriber& operator=(Subscriber&&) noexcept;

  /// The server's id of this connection (CLIENT ID, read on connect), for CLIENT TRACKING
  /// REDIRECT.
  [[nodiscard]] long long client_id() const noexcept;

  /// Each sends one command without waiting; the confirmations arrive through `next()`.
  void subscribe(ArgList channels);
  void psubscribe(ArgList patterns);
  /// Empty lists unsubscribe from everything.
  void unsubscribe(ArgList channels = {});
  void punsubscribe(ArgList patterns = {});
  /// Sends a PING; its answer arrives through `next()` as kPong (a liveness check).
  void ping();

  /// Waits up to `timeout` for the next frame. Returns nullopt on timeout (the connection stays
  /// usable). Throws IoError when the connection is lost.
  [[nodiscard]] std::optional<Message> next(std::chrono::milliseconds timeout);

  [[nodiscard]] const std::string& endpoint() const noexcept;
  /// The socket, for waiting on several subscribers at once (poll/epoll for readability). Frames
  /// may already be buffered, so call `next(0ms)` until it returns nullopt before each wait.
  [[nodiscard]] int native_handle() const noexcept;

 private:
  std::unique_ptr<detail::Connection> connection_;
  long long client_id_ = 0;
};

}  // namespace rediscache
