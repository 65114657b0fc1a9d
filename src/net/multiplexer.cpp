#include "net/multiplexer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "net/pool_state.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

namespace {

bool equals_upper(std::string_view s, std::string_view upper) noexcept {
  if (s.size() != upper.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != upper[i]) return false;
  }
  return true;
}

// Commands that change the connection's state, need it alone, or may block it.
constexpr std::array<std::string_view, 33> kOwnConnection = {
    "SELECT",       "AUTH",         "HELLO",     "CLIENT",     "READONLY",   "READWRITE",
    "ASKING",       "RESET",        "QUIT",      "WATCH",      "UNWATCH",    "MULTI",
    "EXEC",         "DISCARD",      "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
    "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",   "SYNC",       "PSYNC",      "BLPOP",
    "BRPOP",        "BRPOPLPUSH",   "BLMOVE",    "BLMPOP",     "BZPOPMIN",   "BZPOPMAX",
    "BZMPOP",       "WAIT",         "WAITAOF",
};

// Command name for messages: upper case, at most 32 characters (never keys or values).
std::string name_of(std::string_view name) {
  std::string text(name.substr(0, 32));
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

bool needs_own_connection(std::string_view name) noexcept {
  return std::any_of(kOwnConnection.begin(), kOwnConnection.end(),
                     [&](std::string_view own) { return equals_upper(name, own); });
}

bool needs_own_connection(ArgList argv) noexcept {
  if (argv.empty()) return true;
  if (needs_own_connection(argv[0])) return true;
  // XREAD / XREADGROUP block only with BLOCK.
  if (equals_upper(argv[0], "XREAD") || equals_upper(argv[0], "XREADGROUP")) {
    for (std::size_t i = 1; i < argv.size(); ++i) {
      if (equals_upper(argv[i], "BLOCK")) return true;
    }
  }
  return false;
}

Multiplexer::Multiplexer(PoolState& pool) noexcept
    : pool_(pool), max_queued_bytes_(pool.pool_options.max_queued_bytes) {}

Multiplexer::~Multiplexer() = default;

Reply Multiplexer::command(ArgList argv) {
  auto request = std::make_shared<Request>();
  append_resp(request->resp, argv);
  request->expected = 1;
  request->name = name_of(argv.empty() ? std::string_view{} : argv[0]);
  std::vector<Reply> replies = run(request);
  return std::move(replies.front());
}

std::vector<Reply> Multiplexer::pipeline(std::string_view resp, std::size_t count,
                                         std::string_view name) {
  if (count == 0) return {};
  return run(make_pipeline(resp, count, name));
}

Multiplexer::Ticket Multiplexer::submit(std::string_view resp, std::size_t count) {
  RequestPtr request = make_pipeline(resp, count);
  std::unique_lock<std::mutex> lock(mu_);
  enqueue(request);
  if (!io_active_) {
    // Write it now (with whatever else is queued) and leave the replies to whoever reads next:
    // the caller's other batches go out before it waits for any reply.
    io_active_ = true;
    send_unsent(lock);
    io_active_ = false;
    hand_off();
  }
  return request;
}

std::vector<Reply> Multiplexer::collect(const Ticket& ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  return await(ticket, lock);
}

Multiplexer::RequestPtr Multiplexer::make_pipeline(std::string_view resp, std::size_t count,
                                                   std::string_view name) {
  auto request = std::make_shared<Request>();
  request->resp.assign(resp);
  request->expected = count;
  request->name = name;
  return request;
}

std::vector<Reply> Multiplexer::run(const RequestPtr& request) {
  std::unique_lock<std::mutex> lock(mu_);
  enqueue(request);
  return await(request, lock);
}

void Multiplexer::enqueue(const RequestPtr& request) {
  request->replies.reserve(request->expected);
  request->deadline = saturating_deadline(Clock::now(), pool_.connection_options.command_timeout);
  if (queued_bytes_ + request->resp.size() > max_queued_bytes_ && queued_bytes_ > 0) {
    throw PoolExhausted("redis " + pool_.endpoint + ": " + request->name + ": " +
                        std::to_string(queued_bytes_) +
                        " bytes of commands already queued on the shared connection "
                        "(PoolOptions::max_queued_bytes " +
                        std::to_string(max_queued_bytes_) + ")");
  }
  queued_bytes_ += request->resp.size();
  ++requests_;
  unsent_.push_back(request);
}

std::vector<Reply> Multiplexer::await(const RequestPtr& request,
                                      std::unique_lock<std::mutex>& lock) {
  request->awaited = true;  // from here on its caller may be handed the I/O role
  for (;;) {
    if (request->done) break;
    if (!io_active_) {
      io_active_ = true;
      lead(*request, lock);
      io_active_ = false;
      hand_off();
      continue;
    }
    const bool woken = request->cv.wait_until(lock, request->deadline,
                                              [&] { return request->done || request->lead; });
    if (!woken) {
      give_up(request);
      throw TimeoutError("redis " + pool_.endpoint + ": " + request->name +
                         ": timed out waiting for the server");
    }
    request->lead = false;  // the loop takes the I/O role if it is still free
  }
  if (request->error) std::rethrow_exception(request->error);
  return std::move(request->replies);
}

void Multiplexer::hand_off() {
  for (const auto* queue : {&in_flight_, &unsent_}) {
    for (const RequestPtr& waiting : *queue) {
      if (waiting->abandoned || waiting->done || !waiting->awaited) continue;
      waiting->lead = true;
      waiting->cv.notify_one();
      return;
    }
  }
}

void Multiplexer::lead(Request& me, std::unique_lock<std::mutex>& lock) {
  while (!me.done) {
    if (!unsent_.empty()) {
      send_unsent(lock);
      continue;
    }
    if (in_flight_.empty()) return;  // `me` was answered (or failed) meanwhile
    // The oldest request's reply is next on the wire. It is read against the deadline of the
    // oldest request whose caller still waits (abandoned ones ahead of it owe their replies
    // first): a server that does not answer in time fails everything in flight, since nothing
    // behind can be answered first.
    const RequestPtr front = in_flight_.front();
    Clock::time_point deadline = front->deadline;
    for (const RequestPtr& request : in_flight_) {
      if (!request->abandoned) {
        deadline = request->deadline;
        break;
      }
    }
    Connection& connection = *connection_;
    lock.unlock();
    // This reply, then every complete reply already buffered (one socket read often brings
    // many): all delivered under one lock, their callers woken after it is released.
    std::vector<Reply> replies;
    std::exception_ptr failure;
    try {
      connection.arm_deadline(deadline);
      replies.push_back(connection.read_reply(front->name));
      Reply more;
      while (connection.try_read_buffered(more)) replies.push_back(std::move(more));
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    std::vector<RequestPtr> answered;
    for (Reply& reply : replies) {
      if (in_flight_.empty()) {
        // More replies than commands: the stream cannot be trusted any more.
        failure = std::make_exception_ptr(
            ProtocolError("redis " + pool_.endpoint + ": a reply nobody asked for"));
        break;
      }
      const RequestPtr& oldest = in_flight_.front();
      if (oldest->abandoned) {
        // Its caller gave up: the reply is dropped; it leaves once every reply it owes is read.
        if (--oldest->expected == 0) {
          queued_bytes_ -= oldest->resp.size();
          in_flight_.pop_front();
        }
        continue;
      }
      oldest->replies.push_back(std::move(reply));
      if (oldest->replies.size() == oldest->expected) {
        oldest->done = true;
        queued_bytes_ -= oldest->resp.size();
        answered.push_back(oldest);
        in_flight_.pop_front();
      }
    }
    if (failure) fail_in_flight(failure);
    if (!answered.empty()) {
      lock.unlock();
      for (const RequestPtr& request : answered) request->cv.notify_one();
      lock.lock();
    }
  }
}

void Multiplexer::send_unsent(std::unique_lock<std::mutex>& lock) {
  if (!ensure_connection(lock)) return;  // every unsent request failed
  // Everything queued goes out in one write, in order.
  std::vector<RequestPtr> batch(unsent_.begin(), unsent_.end());
  unsent_.clear();
  for (const RequestPtr& request : batch) {
    request->sent = true;
    in_flight_.push_back(request);
  }
  ++writes_;
  Connection& connection = *connection_;
  lock.unlock();
  std::exception_ptr failure;
  try {
    for (const RequestPtr& request : batch) {
      connection.append_encoded(request->resp, request->expected);
    }
    connection.flush();
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  if (failure) fail_in_flight(failure);
}

bool Multiplexer::ensure_connection(std::unique_lock<std::mutex>& lock) {
  const auto idle_check = pool_.pool_options.check_liveness_after_idle;
  if (connection_ && in_flight_.empty() && idle_check &&
      Clock::now() - connection_->last_used() >= *idle_check && !connection_->probe_alive()) {
    // Closed by the server while idle (restart, CLIENT KILL, timeout): replaced before a
    // command is lost on it.
    connection_.reset();
  }
  if (connection_ && !connection_->broken()) {
    connection_->touch(Clock::now());
    return true;
  }
  connection_.reset();
  lock.unlock();
  std::unique_ptr<Connection> opened;
  std::exception_ptr failure;
  try {
    opened = std::make_unique<Connection>(pool_.connection_options, pool_.tls);
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  if (failure) {
    fail_unsent(failure);
    return false;
  }
  connection_ = std::move(opened);
  return true;
}

namespace {

// The error a request gets when the shared connection failed: the cause's kind, the request's
// own command, and what is known of its outcome.
std::exception_ptr error_for(const std::exception_ptr& cause, const std::string& endpoint,
                             const std::string& name, bool sent) {
  const std::string prefix = "redis " + endpoint + ": " + name + ": ";
  std::string what = "unknown error";
  try {
    std::rethrow_exception(cause);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  if (!sent) {
    return std::make_exception_ptr(
        NotSentError(prefix + "could not open the shared connection (not sent): " + what));
  }
  constexpr const char* kUnknown =
      " (the shared connection failed with the command in flight: outcome unknown): ";
  try {
    std::rethrow_exception(cause);
  } catch (const TimeoutError&) {
    return std::make_exception_ptr(
        TimeoutError(prefix + "timed out waiting for the server" + kUnknown + what));
  } catch (const ProtocolError&) {
    return std::make_exception_ptr(ProtocolError(prefix + "protocol error" + kUnknown + what));
  } catch (...) {
    return std::make_exception_ptr(IoError(prefix + "connection failed" + kUnknown + what));
  }
}

}  // namespace

void Multiplexer::fail_in_flight(const std::exception_ptr& cause) {
  for (const RequestPtr& request : in_flight_) {
    queued_bytes_ -= request->resp.size();
    if (request->abandoned) continue;
    request->error = error_for(cause, pool_.endpoint, request->name, true);
    finish(*request);
  }
  in_flight_.clear();
  connection_.reset();
}

void Multiplexer::fail_unsent(const std::exception_ptr& cause) {
  for (const RequestPtr& request : unsent_) {
    queued_bytes_ -= request->resp.size();
    request->error = error_for(cause, pool_.endpoint, request->name, false);
    finish(*request);
  }
  unsent_.clear();
}

void Multiplexer::finish(Request& request) {
  request.done = true;
  request.cv.notify_one();
}

void Multiplexer::give_up(const RequestPtr& request) {
  const auto unsent = std::find(unsent_.begin(), unsent_.end(), request);
  if (unsent != unsent_.end()) {
    // Never written: gone without a trace.
    queued_bytes_ -= request->resp.size();
    unsent_.erase(unsent);
    return;
  }
  // In flight: its replies will still arrive; the leader reads and drops them.
  request->abandoned = true;
  request->expected -= request->replies.size();
  request->replies.clear();
}

std::uint64_t Multiplexer::requests() const noexcept {
  const std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::uint64_t Multiplexer::writes() const noexcept {
  const std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

}  // namespace rediscache::detail
