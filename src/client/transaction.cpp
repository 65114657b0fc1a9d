#include "rediscache/client/transaction.hpp"

#include <stdexcept>
#include <utility>

#include "client/client_core.hpp"
#include "net/connection.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"
#include "topology/topology.hpp"

namespace rediscache {

Transaction::Transaction(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

Transaction::Transaction(Transaction&& other) noexcept
    : core_(std::move(other.core_)),
      lease_(std::move(other.lease_)),
      route_key_(std::move(other.route_key_)),
      buffer_(std::move(other.buffer_)),
      count_(std::exchange(other.count_, 0)),
      watching_(std::exchange(other.watching_, false)),
      finished_(std::exchange(other.finished_, true)) {
  other.lease_.reset();
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    try {
      discard();
    } catch (...) {
      // discard() already dropped the connection.
    }
    core_ = std::move(other.core_);
    lease_ = std::move(other.lease_);
    other.lease_.reset();
    route_key_ = std::move(other.route_key_);
    buffer_ = std::move(other.buffer_);
    count_ = std::exchange(other.count_, 0);
    watching_ = std::exchange(other.watching_, false);
    finished_ = std::exchange(other.finished_, true);
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

void Transaction::route(std::string_view key) {
  if (!core_->sharded() || key.empty()) return;
  if (route_key_.empty()) {
    if (lease_) {
      // Already leased for a keyless command: the connection must serve this key's slot too.
      if (&core_->pool_for(key) != &core_->pool_for({})) {
        throw ReplyError(
            "redis cluster: MULTI: CROSSSLOT: a transaction's keys must hash to one "
            "slot and run on its node (use a {hash tag})",
            "CROSSSLOT");
      }
    }
    route_key_.assign(key);
    return;
  }
  if (cluster_slot(key) != cluster_slot(route_key_)) {
    throw ReplyError(
        "redis cluster: MULTI: CROSSSLOT: a transaction's keys must hash to one slot "
        "(use a {hash tag})",
        "CROSSSLOT");
  }
}

Lease& Transaction::leased() {
  if (!lease_) lease_.emplace(core_->pool_for(route_key_).lease());
  return *lease_;
}

Reply Transaction::command(ArgList argv) {
  if (finished_) throw std::logic_error("transaction already finished");
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  route(detail::routing_key(argv));
  Lease& lease = leased();
  Reply reply = lease.command(argv);
  if (reply.is_error()) {
    detail::throw_reply_error(lease.endpoint(), detail::command_name(argv), reply);
  }
  return reply;
}

Transaction& Transaction::queue(ArgList argv) {
  if (finished_) throw std::logic_error("transaction already finished");
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  route(detail::routing_key(argv));
  detail::append_resp(buffer_, argv);
  ++count_;
  return *this;
}

std::optional<std::vector<Reply>> Transaction::exec() {
  if (finished_) throw std::logic_error("transaction already finished");
  Lease lease = std::move(leased());
  lease_.reset();
  finished_ = true;
  watching_ = false;  // EXEC always unwatches
  detail::Connection& connection = detail::LeaseAccess::connection(lease);
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
    if (core_->topology() != nullptr &&
        detail::parse_redirect(first_queue_error).kind != detail::Redirect::kNone) {
      core_->topology()->note_stale(&first_queue_error);  // the slot moved: reload the map
    }
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
  finished_ = true;
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
