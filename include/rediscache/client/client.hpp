// Client: the typed Redis command surface over a connection pool. Every call leases a
// connection, sends one binary-safe argv command, and returns the connection; nothing here
// formats user data into a command string.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rediscache/client/info.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache {

class Pipeline;
class Transaction;
class Subscriber;
class Script;
struct ClusterOptions;
struct SentinelOptions;

namespace detail {
class ClientCore;
struct ClientAccess;
}  // namespace detail

/// When SET writes.
enum class SetCondition { kAlways, kIfNotExists, kIfExists };

/// Options of SET.
struct SetOptions {
  /// Expiry (EX/PX, millisecond precision). Unset: no expiry (unless `keep_ttl`).
  std::optional<std::chrono::milliseconds> ttl;
  /// NX / XX.
  SetCondition condition = SetCondition::kAlways;
  /// KEEPTTL: keep the key's current expiry. Cannot be combined with `ttl`.
  bool keep_ttl = false;
};

/// An end of a list, for LMOVE/BLMOVE.
enum class ListEnd { kLeft, kRight };

/// A BITOP operation.
enum class BitOp { kAnd, kOr, kXor, kNot };

/// A sorted-set member with its score.
struct ScoredMember {
  std::string member;
  double score = 0;
  friend bool operator==(const ScoredMember& a, const ScoredMember& b) {
    return a.member == b.member && a.score == b.score;
  }
};

/// Options of SCAN.
struct ScanOptions {
  /// MATCH glob pattern; empty matches every key.
  std::string match;
  /// COUNT hint per call; unset uses the server's default (10).
  std::optional<std::size_t> count;
  /// TYPE filter ("string", "hash", ...); empty means any type.
  std::string type;
};

/// One page of a SCAN: the next cursor (0 when done) and the keys found.
struct ScanPage {
  std::uint64_t cursor = 0;
  std::vector<std::string> keys;
};

/// PTTL/TTL results that are not durations.
inline constexpr long long kTtlKeyMissing = -2;
inline constexpr long long kTtlNoExpiry = -1;

/// Typed Redis commands over a pool. Copies share the pool and are cheap. Thread-safe.
///
/// Every command costs one round trip unless its comment says otherwise. Errors: IoError and
/// TimeoutError when the connection fails (the connection is discarded and the next command
/// reconnects), PoolExhausted, ReplyError for an error reply (WRONGTYPE, ...), ProtocolError for
/// an unexpected reply type. Messages name host:port and the command, never keys or values.
class REDISCACHE_EXPORT Client {
 public:
  /// Creates a pool with these options (validated: std::invalid_argument naming the field).
  explicit Client(ConnectionOptions connection, PoolOptions pool = {});
  /// Uses an existing pool, shared with other clients and helpers.
  explicit Client(std::shared_ptr<ConnectionPool> pool);

  /// A client of a Redis Cluster (see rediscache/topology/cluster.hpp): loads the slot map from the
  /// seeds, keeps one pool per node and routes each command by its key's slot, following
  /// MOVED/ASK and retrying TRYAGAIN/CLUSTERDOWN within the options' bounds. mget, mset, del,
  /// unlink, exists and pipelines split their keys by node and reassemble results in order (one
  /// round trip per node, all nodes at once); other multi-key commands, transactions and scripts
  /// must keep their keys in one slot (a {hash tag}), else ReplyError (CROSSSLOT). dbsize and
  /// scan cover every master. Throws std::invalid_argument for invalid options, IoError when no
  /// seed answers. The copies share the topology and its background refresh thread.
  static Client cluster(ClusterOptions options);
  /// A client of the master that Redis Sentinel names (see rediscache/topology/sentinel.hpp):
  /// resolved at once, verified with ROLE, re-resolved in the background and after connection
  /// failures or READONLY replies, so a failover needs nothing from the caller. Throws
  /// std::invalid_argument for invalid options, IoError when no sentinel names a reachable master.
  static Client sentinel(SentinelOptions options);

  /// The pool (for a cluster: a master's pool; for sentinel: the current master's).
  [[nodiscard]] ConnectionPool& pool() const noexcept;
  /// The pool of the server that holds `key` now (on a cluster: the master of its slot; else
  /// pool()). For code that pipelines on a lease of its own; such a lease does not follow
  /// redirections, so keep all of its keys in one slot.
  [[nodiscard]] ConnectionPool& pool_for(std::string_view key) const;
  [[nodiscard]] std::shared_ptr<ConnectionPool> shared_pool() const noexcept;
  [[nodiscard]] const std::string& endpoint() const noexcept;
  [[nodiscard]] const ConnectionOptions& connection_options() const noexcept;
  /// The connection options of every master this client routes to now: the one server, the
  /// master Sentinel names, or each master of the cluster's slot map as last loaded. For
  /// connections a client does not pool (pub/sub, client tracking) that must reach every node.
  [[nodiscard]] std::vector<ConnectionOptions> master_connection_options() const;

  // --- Generic ---------------------------------------------------------------------------
  /// Runs any command. Throws ReplyError on an error reply.
  Reply command(ArgList argv);
  /// A pipeline that sends queued commands in one round trip.
  [[nodiscard]] Pipeline pipeline() const;
  /// A MULTI/EXEC transaction on one leased connection, after WATCHing `watch_keys`.
  [[nodiscard]] Transaction transaction(ArgList watch_keys = {}) const;
  /// A pub/sub connection of its own, with this client's connection options (on a cluster: to
  /// one master, which receives every node's PUBLISH in Redis 7; on sentinel: to the current
  /// master, so create a new one after a failover, as after any IoError from it).
  [[nodiscard]] Subscriber subscriber() const;
  /// Runs a Lua script with EVALSHA, falling back to EVAL when the server lacks it.
  Reply eval(const Script& script, ArgList keys = {}, ArgList args = {});

  // --- Server ----------------------------------------------------------------------------
  /// PING; returns the reply ("PONG").
  std::string ping();
  /// INFO [section], parsed.
  Info info(std::string_view section = {});
  /// The server's clock (TIME) as microseconds since the epoch.
  std::chrono::microseconds time();
  /// DBSIZE; on a cluster, the sum over the masters (one round trip per master).
  long long dbsize();
  /// Bytes a key and its value use (MEMORY USAGE key SAMPLES 0 when `exact`); nullopt if absent.
  std::optional<long long> memory_usage(std::string_view key, bool exact = false);
  /// TYPE key ("string", "hash", ..., "none").
  std::string type(std::string_view key);

  // --- Keys and strings ------------------------------------------------------------------
  std::optional<std::string> get(std::string_view key);
  /// SET with options; returns false when NX/XX prevented the write.
  bool set(std::string_view key, std::string_view value, const SetOptions& options = {});
  /// SETEX (ttl at second precision; must be positive).
  void setex(std::string_view key, std::chrono::seconds ttl, std::string_view value);
  /// MGET; one entry per key, nullopt for missing keys.
  std::vector<std::optional<std::string>> mget(ArgList keys);
  /// MSET.
  void mset(const std::vector<std::pair<std::string, std::string>>& items);
  void mset(std::initializer_list<std::pair<std::string_view, std::string_view>> items);
  long long incr(std::string_view key);
  long long incrby(std::string_view key, long long increment);
  long long decrby(std::string_view key, long long decrement);
  /// DEL; returns how many keys existed.
  long long del(ArgList keys);
  /// UNLINK (frees memory in the background); returns how many keys existed.
  long long unlink(ArgList keys);
  /// EXISTS; counts keys that exist (a key named twice counts twice).
  long long exists(ArgList keys);
  /// EXPIRE; false when the key does not exist. A ttl <= 0 deletes the key (as in Redis);
  /// |ttl| above a year throws std::invalid_argument naming `Client::expire ttl`.
  bool expire(std::string_view key, std::chrono::seconds ttl);
  /// PEXPIRE; false when the key does not exist. Bounds as for expire (`Client::pexpire ttl`).
  bool pexpire(std::string_view key, std::chrono::milliseconds ttl);
  /// TTL in seconds, or kTtlKeyMissing / kTtlNoExpiry.
  long long ttl(std::string_view key);
  /// PTTL in milliseconds, or kTtlKeyMissing / kTtlNoExpiry.
  long long pttl(std::string_view key);
  /// SCAN one page. On a cluster the cursor walks every master in turn (its top bits name the
  /// master), so scan_each covers the whole keyspace.
  ScanPage scan(std::uint64_t cursor, const ScanOptions& options = {});
  /// Iterates SCAN to the end, calling `on_key` for every key (a key may be reported twice
  /// if the keyspace changes meanwhile, as SCAN guarantees). One round trip per page.
  void scan_each(const ScanOptions& options, const std::function<void(std::string_view)>& on_key);

  // --- Hashes ----------------------------------------------------------------------------
  /// HSET one field; returns 1 when the field is new.
  long long hset(std::string_view key, std::string_view field, std::string_view value);
  /// HSET several fields; returns how many were new.
  long long hset(std::string_view key,
                 const std::vector<std::pair<std::string, std::string>>& fields);
  long long hset(std::string_view key,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
  std::optional<std::string> hget(std::string_view key, std::string_view field);
  std::vector<std::optional<std::string>> hmget(std::string_view key, ArgList fields);
  std::unordered_map<std::string, std::string> hgetall(std::string_view key);
  long long hdel(std::string_view key, ArgList fields);
  long long hincrby(std::string_view key, std::string_view field, long long increment);
  bool hexists(std::string_view key, std::string_view field);
  long long hlen(std::string_view key);

  // --- Lists -----------------------------------------------------------------------------
  /// LPUSH; returns the new length.
  long long lpush(std::string_view key, ArgList values);
  /// RPUSH; returns the new length.
  long long rpush(std::string_view key, ArgList values);
  std::optional<std::string> lpop(std::string_view key);
  std::optional<std::string> rpop(std::string_view key);
  /// BRPOP: waits up to `timeout` (0 is not allowed: use a long timeout instead) for an element.
  /// Returns {key, element}, or nullopt on timeout. The connection's read timeout is extended
  /// by `timeout` for this call.
  std::optional<std::pair<std::string, std::string>> brpop(ArgList keys,
                                                           std::chrono::milliseconds timeout);
  /// LMOVE: atomically moves an element; nullopt when `source` is empty.
  std::optional<std::string> lmove(std::string_view source, std::string_view destination,
                                   ListEnd from, ListEnd to);
  /// BLMOVE: like lmove, waiting up to `timeout` (positive) for an element.
  std::optional<std::string> blmove(std::string_view source, std::string_view destination,
                                    ListEnd from, ListEnd to, std::chrono::milliseconds timeout);
  std::vector<std::string> lrange(std::string_view key, long long start, long long stop);
  long long llen(std::string_view key);
  void ltrim(std::string_view key, long long start, long long stop);
  /// LREM; returns how many elements were removed.
  long long lrem(std::string_view key, long long count, std::string_view element);

  // --- Sets ------------------------------------------------------------------------------
  long long sadd(std::string_view key, ArgList members);
  long long srem(std::string_view key, ArgList members);
  bool sismember(std::string_view key, std::string_view member);
  std::vector<std::string> smembers(std::string_view key);
  long long scard(std::string_view key);
  std::vector<std::string> sinter(ArgList keys);
  std::vector<std::string> sunion(ArgList keys);

  // --- Sorted sets -----------------------------------------------------------------------
  long long zadd(std::string_view key, std::string_view member, double score);
  long long zadd(std::string_view key, const std::vector<ScoredMember>& members);
  long long zrem(std::string_view key, ArgList members);
  std::optional<double> zscore(std::string_view key, std::string_view member);
  /// ZINCRBY; returns the new score.
  double zincrby(std::string_view key, double increment, std::string_view member);
  /// ZRANGE by index (ascending).
  std::vector<std::string> zrange(std::string_view key, long long start, long long stop);
  std::vector<ScoredMember> zrange_with_scores(std::string_view key, long long start,
                                               long long stop);
  /// ZREVRANGE by index (descending).
  std::vector<std::string> zrevrange(std::string_view key, long long start, long long stop);
  std::vector<ScoredMember> zrevrange_with_scores(std::string_view key, long long start,
                                                  long long stop);
  std::optional<long long> zrank(std::string_view key, std::string_view member);
  std::optional<long long> zrevrank(std::string_view key, std::string_view member);
  /// ZCOUNT with score bounds in Redis syntax ("-inf", "(1.5", "10").
  long long zcount(std::string_view key, std::string_view min, std::string_view max);
  long long zcount(std::string_view key, double min, double max);
  long long zcard(std::string_view key);
  long long zremrangebyscore(std::string_view key, std::string_view min, std::string_view max);
  long long zremrangebyscore(std::string_view key, double min, double max);

  // --- HyperLogLog -----------------------------------------------------------------------
  /// PFADD; true when the estimate changed.
  bool pfadd(std::string_view key, ArgList elements);
  long long pfcount(ArgList keys);
  void pfmerge(std::string_view destination, ArgList sources);

  // --- Bitmaps ---------------------------------------------------------------------------
  /// SETBIT; returns the previous bit.
  bool setbit(std::string_view key, std::uint64_t offset, bool value);
  bool getbit(std::string_view key, std::uint64_t offset);
  long long bitcount(std::string_view key);
  /// BITCOUNT over a byte range.
  long long bitcount(std::string_view key, long long start, long long end);
  /// BITOP; returns the length of the destination string.
  long long bitop(BitOp operation, std::string_view destination, ArgList keys);

  // --- Pub/sub ---------------------------------------------------------------------------
  /// PUBLISH; returns how many subscribers received the message (on a cluster: counted on the
  /// node subscriber() connects to, though subscribers on every node receive it).
  long long publish(std::string_view channel, std::string_view message);

 private:
  friend class Pipeline;
  friend class Transaction;
  friend struct detail::ClientAccess;
  explicit Client(std::shared_ptr<detail::ClientCore> core) noexcept;
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace rediscache
