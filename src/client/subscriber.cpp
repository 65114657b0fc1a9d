#include "rediscache/client/subscriber.hpp"

#include "client/client_core.hpp"
#include "client/subscriber_frame.hpp"
#include "net/connection.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache {

namespace {

void send(detail::Connection& connection, std::string_view verb, ArgList names) {
  detail::Argv argv(names.size() + 1);
  argv.add(verb);
  argv.add_all(names);
  connection.append(argv.view());
  connection.flush();
}

}  // namespace

Subscriber::Subscriber(const ConnectionOptions& options) {
  options.validate();
  connection_ = std::make_unique<detail::Connection>(options);
  const Reply id = connection_->command({"CLIENT", "ID"});
  client_id_ = detail::to_integer(id, detail::Call{connection_->endpoint(), "CLIENT"});
}

Subscriber::~Subscriber() = default;
Subscriber::Subscriber(Subscriber&&) noexcept = default;
Subscriber& Subscriber::operator=(Subscriber&&) noexcept = default;

long long Subscriber::client_id() const noexcept { return client_id_; }

void Subscriber::subscribe(ArgList channels) {
  if (channels.empty()) throw std::invalid_argument("channels must not be empty");
  send(*connection_, "SUBSCRIBE", channels);
}

void Subscriber::psubscribe(ArgList patterns) {
  if (patterns.empty()) throw std::invalid_argument("patterns must not be empty");
  send(*connection_, "PSUBSCRIBE", patterns);
}

void Subscriber::unsubscribe(ArgList channels) { send(*connection_, "UNSUBSCRIBE", channels); }

void Subscriber::punsubscribe(ArgList patterns) { send(*connection_, "PUNSUBSCRIBE", patterns); }

void Subscriber::ping() { send(*connection_, "PING", {}); }

std::optional<Message> Subscriber::next(std::chrono::milliseconds timeout) {
  detail::require_non_negative(timeout, "Subscriber::next timeout");
  const auto deadline = detail::saturating_deadline(std::chrono::steady_clock::now(), timeout);
  Reply frame;
  // Pub/sub frames arrive unasked, so nothing counts as "pending"; read whatever is complete.
  while (!connection_->try_read_buffered(frame)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !connection_->wait_readable(std::chrono::milliseconds(0))) {
      return std::nullopt;
    }
    if (left.count() > 0 && !connection_->wait_readable(left)) return std::nullopt;
  }
  return detail::parse_subscriber_frame(std::move(frame), connection_->endpoint());
}

const std::string& Subscriber::endpoint() const noexcept { return connection_->endpoint(); }

int Subscriber::native_handle() const noexcept { return connection_->native_handle(); }

}  // namespace rediscache
