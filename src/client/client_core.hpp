// ClientCore: what every Client copy shares (the pool it routes to), and the small tools the
// typed commands are written with: a stack-first argv builder and checked reply conversions.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/resp.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"
#include "rediscache/topology/cluster.hpp"
#include "topology/topology.hpp"

namespace rediscache::detail {

/// The routing seam. A single node has no topology: every command goes straight to its one pool
/// (one well-predicted branch on the hot path). A cluster or sentinel client has a Topology that
/// picks the pool per key and follows redirections and failovers, without touching the typed
/// commands or anything above them. Thread-safe.
class ClientCore {
 public:
  explicit ClientCore(std::shared_ptr<ConnectionPool> pool);
  explicit ClientCore(std::unique_ptr<Topology> topology);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  /// The master pool serving `key` now.
  [[nodiscard]] ConnectionPool& pool_for(std::string_view key) const {
    if (__builtin_expect(topology_ == nullptr, 1)) return *pool_;
    return topology_->master_for(slot_of(key));
  }
  [[nodiscard]] ConnectionPool& any_pool() const {
    if (__builtin_expect(topology_ == nullptr, 1)) return *pool_;
    return topology_->any_pool();
  }
  /// The single node's pool; for a topology, an alias of any_pool() that keeps this core alive.
  [[nodiscard]] const std::shared_ptr<ConnectionPool>& shared_pool() const noexcept {
    return pool_;
  }
  /// Null for a single node.
  [[nodiscard]] Topology* topology() const noexcept { return topology_.get(); }
  /// True when keys live on different nodes (a cluster).
  [[nodiscard]] bool sharded() const noexcept { return sharded_; }

  /// One command on a leased connection; an error reply throws ReplyError.
  Reply run(std::string_view key, ArgList argv);
  /// Same, returning error replies instead of throwing.
  Reply run_allow_error(std::string_view key, ArgList argv);
  /// A blocking command: the read timeout is extended by `block` for this call only.
  Reply run_blocking(std::string_view key, ArgList argv, std::chrono::milliseconds block);

  /// Both replies of run_followed.
  struct FollowedReplies {
    Reply reply;
    Reply follow_up;
    std::string endpoint;  // the server that answered, for messages
  };
  /// Runs `argv` on the master serving `key` and `follow_up` right after it on the same
  /// connection, in one round trip (WAIT after a write: it counts the replicas that have the
  /// writes of its own connection). Redirections and failovers are followed as for run(), judged
  /// by `argv`'s reply. The read timeout is extended by `block` (the follow-up may block). Error
  /// replies are returned, not thrown; IoError/TimeoutError propagate (outcome unknown).
  FollowedReplies run_followed(std::string_view key, ArgList argv, ArgList follow_up,
                               std::chrono::milliseconds block);

  /// The cluster slot of a routing key; kNoSlot for an empty key.
  [[nodiscard]] static int slot_of(std::string_view key) noexcept {
    return key.empty() ? kNoSlot : static_cast<int>(cluster_slot(key));
  }

 private:
  Reply run_topology(std::string_view key, ArgList argv,
                     std::optional<std::chrono::milliseconds> block, bool throw_on_error);

  std::shared_ptr<ConnectionPool> pool_;
  std::unique_ptr<Topology> topology_;
  bool sharded_ = false;
};

/// Reaches the core of a Client, for code in src/ that needs routing the public API does not
/// offer (a command and its WAIT on one connection).
struct ClientAccess {
  static ClientCore& core(const Client& client) noexcept { return *client.core_; }
};

/// On a cluster, throws ReplyError (CROSSSLOT, naming `command`) unless every key hashes to one
/// slot; nothing on a single node.
void check_one_slot(const ClientCore& core, ArgList keys, std::string_view command);

/// Argument list that lives on the stack for up to 16 arguments, then spills to the heap.
class Argv {
 public:
  Argv() = default;
  explicit Argv(std::size_t expected) {
    if (expected > kInline) heap_.reserve(expected);
  }
  void add(std::string_view arg) {
    if (heap_.empty() && size_ < kInline) {
      inline_[size_++] = arg;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.begin() + static_cast<long>(size_));
    heap_.push_back(arg);
  }
  void add_all(ArgList args) {
    for (std::size_t i = 0; i < args.size(); ++i) add(args[i]);
  }
  [[nodiscard]] ArgList view() const noexcept {
    return heap_.empty() ? ArgList(inline_.data(), size_) : ArgList(heap_.data(), heap_.size());
  }

 private:
  static constexpr std::size_t kInline = 16;
  std::array<std::string_view, kInline> inline_{};
  std::size_t size_ = 0;
  std::vector<std::string_view> heap_;
};

/// Names a call in messages: the server and the command, never its arguments.
struct Call {
  const std::string& endpoint;
  std::string_view command;
};

/// Checked conversions; a reply of the wrong type throws ProtocolError naming server and command.
[[noreturn]] void throw_unexpected(const Call& call, const Reply& reply);
long long to_integer(const Reply& reply, const Call& call);
bool to_bool(const Reply& reply, const Call& call);
double to_double(const Reply& reply, const Call& call);
std::optional<double> to_optional_double(const Reply& reply, const Call& call);
std::optional<long long> to_optional_integer(const Reply& reply, const Call& call);
/// Bulk string or nil; anything else (a status line included) is a ProtocolError.
std::optional<std::string> to_optional_string(Reply&& reply, const Call& call);
/// Bulk string, status line or nil (for PING, TYPE: commands that answer with a status).
std::optional<std::string> to_optional_text(Reply&& reply, const Call& call);
std::vector<std::string> to_strings(Reply&& reply, const Call& call);
std::vector<std::optional<std::string>> to_optional_strings(Reply&& reply, const Call& call);
void expect_ok(const Reply& reply, const Call& call);

/// Builds SET with its options into `argv` (`ttl_text` must outlive `argv`'s use). Throws
/// std::invalid_argument for inconsistent options. Shared by Client::set and Pipeline::set.
void build_set(Argv& argv, std::string_view key, std::string_view value, const SetOptions& options,
               IntText& ttl_text);

}  // namespace rediscache::detail
