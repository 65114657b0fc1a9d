#include "rediscache/transaction.hpp"

#include <stdexcept>
#include <utility>

#include "detail/connection.hpp"
#include "detail/resp.hpp"
#include "rediscache/errors.hpp"

namespace rediscache {

Transaction::Transaction(Lease lease) : lease_(std::move(lease)) {}

Transaction::Transaction(Transaction&& other) noexcept
    : lease_(std::move(other.lease_)),
      buffer_(std::move(other.buffer_)),
      count_(std::exchange(other.count_, 0)),
      watching_(std::exchange(other.watching_, false)) {
  other.lease_.reset();
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    try {
      discard();
    } catch (...) {
      // discard() already dropped the connection.
    }
    lease_ = std::move(other.lease_);
    other.lease_.reset();
    buffer_ = std::move(other.buffer_);
    count_ = std::exchange(other.count_, 0);
    watching_ = std::exchange(other.watching_, false);
  }
  return *this;
}

Transaction::~Transaction() {
  try {
    discard();
  } catch (...) {
    // The connection is dropped by discard()'s failure path; nothing else to undo.
  }
}

Reply Transaction::command(ArgList argv) {
  if (!lease_) throw std::logic_error("transaction already finished");
  Reply reply = lease_->command(argv);
  if (reply.is_error())
    detail::throw_reply_error(lease_->endpoint(), detail::command_name(argv), reply);
  return reply;
}

Transaction& Transaction::queue(ArgList argv) {
  if (!lease_) throw std::logic_error("transaction already finished");
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  detail::append_resp(buffer_, argv);
  ++count_;
  return *this;
}

std::optional<std::vector<Reply>> Transaction::exec() {
  if (!lease_) throw std::logic_error("transaction already finished");
  Lease lease = std::move(*lease_);
  lease_.reset();
  watching_ = false;  // EXEC always unwatches
  detail::Connection& connection = lease.connection();
  connection.append({"MULTI"});
  connection.append_encoded(buffer_, count_);
  connection.append({"EXEC"});
  // Every reply is read before any is judged, so the connection stays in sync.
  const Reply multi = connection.read_reply("MULTI");
  Reply first_queue_error;
  for (std::size_t i = 0; i < count_; ++i) {
    Reply queued = connection.read_reply("MULTI");
    if (queued.is_error() && !first_queue_error.is_error()) first_queue_error = std::move(queued);
  }
  Reply result = connection.read_reply("EXEC");
  if (multi.is_error()) detail::throw_reply_error(lease.endpoint(), "MULTI", multi);
  if (result.is_nil()) return std::nullopt;
  if (result.is_error()) {
    detail::throw_reply_error(lease.endpoint(), "EXEC",
                              first_queue_error.is_error() ? first_queue_error : result);
  }
  if (!result.is_array()) {
    lease.discard();
    throw ProtocolError("redis " + lease.endpoint() + ": EXEC: unexpected " +
                        to_string(result.type) + " reply");
  }
  return std::move(result.elements);
}

void Transaction::discard() {
  if (!lease_) return;
  Lease lease = std::move(*lease_);
  lease_.reset();
  if (watching_) {
    watching_ = false;
    try {
      const Reply reply = lease.command({"UNWATCH"});
      if (reply.is_error()) lease.discard();
    } catch (...) {
      lease.discard();
      throw;
    }
  }
}

}  // namespace rediscache
