#include "rediscache/near/invalidation.hpp"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "client/client_core.hpp"
#include "near/invalidation_message.hpp"
#include "net/connection.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/client/subscriber.hpp"
#include "rediscache/util/errors.hpp"
#include "rediscache/util/stats.hpp"
#include "util/backoff.hpp"
#include "util/counter_list.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

constexpr std::string_view kTrackingChannel = "__redis__:invalidate";
// How often the thread wakes with nothing to read: the stop latency, and how soon a closed
// tracking connection (which carries no traffic) is noticed.
constexpr std::chrono::milliseconds kPollInterval{50};

ConnectionOptions named(ConnectionOptions options, std::string_view role) {
  options.client_name = options.client_name.empty() ? "rediscache-" + std::string(role)
                                                    : options.client_name + "-" + std::string(role);
  return options;
}

}  // namespace

void InvalidationOptions::validate() const {
  detail::require_non_empty(channel, "InvalidationOptions::channel");
  detail::require_backoff(initial_backoff, max_backoff, "InvalidationOptions::initial_backoff",
                          "InvalidationOptions::max_backoff");
  detail::require_positive(health_check_interval, "InvalidationOptions::health_check_interval");
  for (const std::string& prefix : prefixes) {
    detail::require(!prefix.empty(), "InvalidationOptions::prefixes",
                    "must not contain an empty prefix");
  }
}

// --- Listener ------------------------------------------------------------------------------

struct InvalidationListener::State {
  using Clock = std::chrono::steady_clock;
  using NodeSource = std::function<std::vector<ConnectionOptions>()>;

  // What the listener holds on one master: a pub/sub connection, and in server-assisted mode a
  // connection that keeps CLIENT TRACKING registered with redirection to it. Tracking is per
  // server, so a cluster needs one of each on every master.
  struct Node {
    ConnectionOptions connection;
    std::unique_ptr<Subscriber> subscriber;
    std::unique_ptr<detail::Connection> tracking;
    Clock::time_point last_activity;
    std::optional<Clock::time_point> ping_sent;
  };

  State(NodeSource nodes_in, std::shared_ptr<NearCache> cache_in, InvalidationOptions options_in)
      : node_source(std::move(nodes_in)),
        cache(std::move(cache_in)),
        options(std::move(options_in)) {}

  const NodeSource node_source;
  const std::shared_ptr<NearCache> cache;
  const InvalidationOptions options;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool stopping = false;  // guarded by mu
  bool up = false;        // guarded by mu; mirrors `connected` for wait_connected()

  std::atomic<bool> connected{false};
  std::atomic<int> mode{static_cast<int>(InvalidationMode::kAuto)};
  std::atomic<long long> subscriber_id{0};
  std::atomic<long long> tracking_id{0};
  std::atomic<std::size_t> node_count{0};
  REDISCACHE_INVALIDATION_COUNTERS(REDISCACHE_DECLARE_COUNTER)

  // Owned by the listener thread only. nodes[0] also carries the library's own channel: a
  // PUBLISH on any cluster node reaches the subscribers of every node, so one is enough.
  std::vector<Node> nodes;

  bool should_stop() const {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  void report(std::string_view context, const std::exception& error) noexcept {
    errors.add();
    detail::report_error(options.on_error, context, error);
  }

  void set_up(bool value) {
    {
      std::lock_guard<std::mutex> lock(mu);
      up = value;
    }
    connected.store(value, std::memory_order_release);
    cv.notify_all();
  }

  void run() noexcept {
    detail::Backoff backoff(options.initial_backoff, options.max_backoff);
    while (!should_stop()) {
      bool was_up = false;
      bool lost = false;
      try {
        connect_once();
        was_up = true;
        backoff.reset();
        serve();  // returns only when a stop is requested
      } catch (const std::exception& e) {
        lost = was_up;
        if (!was_up) connect_failures.add();
        report(was_up ? "invalidation connection lost" : "invalidation connect", e);
      } catch (...) {
        lost = was_up;
        errors.add();
      }
      go_down(lost);
      if (should_stop()) break;
      // A jittered, doubling pause; a stop request wakes the sleep.
      const auto pause = backoff.next();
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, pause, [this] { return stopping; });
    }
    go_down(false);
  }

  // The cache cannot know what it missed while a node went unheard: stop serving, then drop.
  // Losing any node takes every node down, so that on reconnect the node list is read afresh
  // (a failover may have replaced the master that was lost).
  void go_down(bool lost) noexcept {
    cache->set_enabled(false);
    cache->clear();
    if (lost) connection_losses.add();
    set_up(false);
    nodes.clear();
    subscriber_id.store(0, std::memory_order_relaxed);
    tracking_id.store(0, std::memory_order_relaxed);
  }

  void connect_once() {
    std::vector<ConnectionOptions> endpoints = node_source();
    if (endpoints.empty()) throw IoError("redis: invalidation: the client knows no master");
    const bool want_tracking = options.mode != InvalidationMode::kPubSub;
    // Every subscription first (confirmed), then tracking: an invalidation is never redirected
    // to a connection that is not yet subscribed to receive it.
    for (ConnectionOptions& endpoint : endpoints) {
      Node node;
      node.connection = std::move(endpoint);
      node.subscriber = std::make_unique<Subscriber>(named(node.connection, "invalidation"));
      const bool first = nodes.empty();
      if (first && want_tracking) {
        node.subscriber->subscribe({options.channel, kTrackingChannel});
      } else if (first) {
        node.subscriber->subscribe({options.channel});
      } else {
        node.subscriber->subscribe({kTrackingChannel});
      }
      nodes.push_back(std::move(node));
      if (!want_tracking) break;  // the library's channel reaches every node's subscribers
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      await_subscriptions(nodes[i], i == 0 && want_tracking ? 2 : 1);
    }
    const InvalidationMode resolved = want_tracking && start_tracking()
                                          ? InvalidationMode::kServerAssisted
                                          : InvalidationMode::kPubSub;
    if (resolved == InvalidationMode::kPubSub) nodes.resize(1);
    mode.store(static_cast<int>(resolved), std::memory_order_relaxed);
    subscriber_id.store(nodes.front().subscriber->client_id(), std::memory_order_relaxed);
    node_count.store(nodes.size(), std::memory_order_relaxed);
    const auto now = Clock::now();
    for (Node& node : nodes) node.last_activity = now;
    // From here on every change is announced: drop what may have changed before (and poison
    // fetches that began during the outage), then serve.
    cache->clear();
    cache->set_enabled(true);
    connects.add();
    set_up(true);
  }

  // Registers CLIENT TRACKING on every node. False when kAuto meets a server that refuses it
  // (no client-side caching): the listener then falls back to pub/sub everywhere.
  bool start_tracking() {
    for (Node& node : nodes) {
      node.tracking = std::make_unique<detail::Connection>(named(node.connection, "tracking"));
      detail::Connection& tracking = *node.tracking;
      const long long id = detail::to_integer(tracking.command({"CLIENT", "ID"}),
                                              detail::Call{tracking.endpoint(), "CLIENT"});
      const std::string redirect = std::to_string(node.subscriber->client_id());
      std::vector<std::string_view> argv = {"CLIENT",   "TRACKING", "on",
                                            "REDIRECT", redirect,   "BCAST"};
      for (const std::string& prefix : options.prefixes) {
        argv.emplace_back("PREFIX");
        argv.emplace_back(prefix);
      }
      const Reply reply = tracking.command(argv);
      if (reply.is_error()) {
        if (options.mode == InvalidationMode::kServerAssisted) {
          detail::throw_reply_error(tracking.endpoint(), "CLIENT TRACKING", reply);
        }
        for (Node& each : nodes) each.tracking.reset();
        return false;
      }
      if (&node == &nodes.front()) tracking_id.store(id, std::memory_order_relaxed);
    }
    return true;
  }

  void await_subscriptions(Node& node, int expected) const {
    const auto deadline =
        detail::saturating_deadline(Clock::now(), node.connection.command_timeout);
    int confirmed = 0;
    while (confirmed < expected) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        throw TimeoutError("redis " + node.subscriber->endpoint() + ": SUBSCRIBE: no confirmation");
      }
      std::optional<Message> m = node.subscriber->next(left);
      if (m && m->kind == MessageKind::kSubscribe) ++confirmed;
    }
  }

  // Reads messages from every node until a connection is lost (throws) or a stop is requested
  // (returns). One thread serves all nodes: drain what each has, then poll them all.
  void serve() {
    std::vector<pollfd> fds;
    for (const Node& node : nodes) fds.push_back({node.subscriber->native_handle(), POLLIN, 0});
    while (!should_stop()) {
      const auto now = Clock::now();
      for (Node& node : nodes) {
        drain(node, now);
        check_health(node, now);
      }
      if (::poll(fds.data(), fds.size(), static_cast<int>(kPollInterval.count())) < 0 &&
          errno != EINTR) {
        throw IoError("redis " + nodes.front().subscriber->endpoint() +
                      ": invalidation: poll failed");
      }
    }
  }

  void drain(Node& node, Clock::time_point now) {
    while (std::optional<Message> m = node.subscriber->next(std::chrono::milliseconds(0))) {
      node.last_activity = now;
      if (m->kind == MessageKind::kPong) {
        node.ping_sent.reset();
      } else if (m->kind == MessageKind::kMessage) {
        handle(*m);
      }
    }
  }

  void check_health(Node& node, Clock::time_point now) {
    if (node.tracking && !node.tracking->probe_alive()) {
      throw IoError("redis " + node.tracking->endpoint() + ": tracking connection closed");
    }
    if (node.ping_sent && now - *node.ping_sent > node.connection.command_timeout) {
      throw TimeoutError("redis " + node.subscriber->endpoint() + ": PING: no answer");
    }
    if (!node.ping_sent && now - node.last_activity >= options.health_check_interval) {
      node.subscriber->ping();
      node.ping_sent = now;
      if (node.tracking) {
        const Reply pong = node.tracking->command({"PING"});
        if (pong.is_error()) detail::throw_reply_error(node.tracking->endpoint(), "PING", pong);
      }
    }
  }

  void handle(const Message& m) {
    messages.add();
    if (m.channel == kTrackingChannel) {
      if (m.payload_nil) {
        flushes.add();
        cache->clear();
        return;
      }
      for (const std::string& key : m.payload_items) cache->invalidate(key);
      if (!m.payload.empty()) cache->invalidate(m.payload);
      keys_invalidated.add(m.payload_items.size() + (m.payload.empty() ? 0 : 1));
      return;
    }
    const detail::InvalidationMessage message = detail::decode_invalidation(m.payload);
    switch (message.kind) {
      case detail::InvalidationKind::kKey:
        cache->invalidate(message.subject);
        keys_invalidated.add();
        return;
      case detail::InvalidationKind::kPrefix:
        cache->invalidate_prefix(message.subject);
        return;
      case detail::InvalidationKind::kFlush:
        flushes.add();
        cache->clear();
        return;
      case detail::InvalidationKind::kMalformed:
        malformed.add();
        return;
    }
  }
};

InvalidationListener::InvalidationListener(ConnectionOptions connection,
                                           std::shared_ptr<NearCache> cache,
                                           InvalidationOptions options)
    : InvalidationListener(
          [node = detail::validated(std::move(connection))] {
            return std::vector<ConnectionOptions>{node};
          },
          std::move(cache), std::move(options)) {}

InvalidationListener::InvalidationListener(const Client& client, std::shared_ptr<NearCache> cache,
                                           InvalidationOptions options)
    : InvalidationListener([client] { return client.master_connection_options(); },
                           std::move(cache), std::move(options)) {}

InvalidationListener::InvalidationListener(
    std::function<std::vector<ConnectionOptions>()> node_source, std::shared_ptr<NearCache> cache,
    InvalidationOptions options) {
  if (!cache) throw std::invalid_argument("InvalidationListener cache must not be null");
  state_ = std::make_unique<State>(std::move(node_source), std::move(cache),
                                   detail::validated(std::move(options)));
  state_->cache->set_enabled(false);
  state_->cache->clear();
  thread_ = std::thread([state = state_.get()] { state->run(); });
}

InvalidationListener::~InvalidationListener() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool InvalidationListener::connected() const noexcept {
  return state_->connected.load(std::memory_order_acquire);
}

bool InvalidationListener::wait_connected(std::chrono::milliseconds timeout) const {
  detail::require_non_negative(timeout, "InvalidationListener::wait_connected timeout");
  const auto deadline = detail::saturating_deadline(std::chrono::steady_clock::now(), timeout);
  std::unique_lock<std::mutex> lock(state_->mu);
  return state_->cv.wait_until(lock, deadline, [this] { return state_->up; });
}

InvalidationMode InvalidationListener::mode() const noexcept {
  return static_cast<InvalidationMode>(state_->mode.load(std::memory_order_relaxed));
}

InvalidationStats InvalidationListener::stats() const {
  InvalidationStats s;
  s.connected = connected();
  s.mode = mode();
  s.subscriber_id = state_->subscriber_id.load(std::memory_order_relaxed);
  s.tracking_id = state_->tracking_id.load(std::memory_order_relaxed);
  s.nodes = state_->connected.load(std::memory_order_acquire)
                ? state_->node_count.load(std::memory_order_relaxed)
                : 0;
  const State& from = *state_;
  InvalidationStats& to = s;
  REDISCACHE_INVALIDATION_COUNTERS(REDISCACHE_COPY_COUNTER)
  return s;
}

const InvalidationOptions& InvalidationListener::options() const noexcept {
  return state_->options;
}

// --- Publisher -----------------------------------------------------------------------------

InvalidationPublisher::InvalidationPublisher(Client client, std::string channel)
    : client_(std::move(client)), channel_(std::move(channel)) {
  if (channel_.empty())
    throw std::invalid_argument("InvalidationPublisher channel must not be empty");
}

std::string InvalidationPublisher::key_message(std::string_view key) {
  return detail::encode_key_invalidation(key);
}

std::string InvalidationPublisher::prefix_message(std::string_view prefix) {
  return detail::encode_prefix_invalidation(prefix);
}

std::string InvalidationPublisher::flush_message() { return detail::encode_flush_invalidation(); }

void InvalidationPublisher::keys(ArgList keys) {
  if (keys.empty()) return;
  Pipeline pipeline = client_.pipeline();
  for (std::size_t i = 0; i < keys.size(); ++i) append_key(pipeline, keys[i]);
  pipeline.exec();
}

void InvalidationPublisher::prefix(std::string_view prefix) {
  client_.publish(channel_, prefix_message(prefix));
}

void InvalidationPublisher::all() { client_.publish(channel_, flush_message()); }

void InvalidationPublisher::append_key(Pipeline& pipeline, std::string_view key) const {
  pipeline.publish(channel_, key_message(key));
}

}  // namespace rediscache
