// SessionStore: web sessions as Redis hashes with random ids, expiry, sliding expiration and
// atomic id regeneration. Fields are stored as plain text (strings) or JSON (anything else).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rediscache/client/client.hpp"
#include "rediscache/export.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/util/stats.hpp"

namespace rediscache {

/// Fields to write. A JSON string is stored as its text, unquoted; every other JSON value
/// (numbers, booleans, null, arrays, objects) is stored as its compact JSON text. So
/// `{"username", "alice"}` is stored as `alice`, `{"user_id", 42}` as `42` and
/// `{"roles", {"admin", "user"}}` as `["admin","user"]`, which is what the seed document's
/// Python code writes and reads.
using SessionFields = std::map<std::string, nlohmann::json>;

/// What `SessionStore::get` does to the session's expiry.
enum class SessionExpiry {
  kKeep,   ///< Leave the TTL as it is.
  kSlide,  ///< Reset the TTL to `SessionOptions::ttl` (sliding expiration).
};

/// How a SessionStore behaves. Validated by its constructor (std::invalid_argument naming the
/// field).
struct SessionOptions {
  /// Prefix of the session keys: `<key_prefix><id>` (the seed's `session:{session_id}`).
  std::string key_prefix = "session:";
  /// Default lifetime of a session, and the TTL that sliding expiration and `touch` restore.
  /// At least 1 ms.
  std::chrono::milliseconds ttl = std::chrono::hours(24);
  /// Random bytes per id (an id is their URL-safe base64, 4/3 as many characters). At least
  /// 16 (128 bits), at most 64.
  std::size_t id_bytes = 16;
  /// Most fields a session may hold; at least 1.
  std::size_t max_fields = 64;
  /// Longest field name in bytes; at least 1.
  std::size_t max_field_name_size = 128;
  /// Longest stored field value in bytes (after JSON encoding); at least 1.
  std::size_t max_value_size = std::size_t{64} * 1024;
  /// Longest id accepted from callers (ids made elsewhere, such as by the Python code, may be
  /// longer than ours); at least `id_bytes * 4 / 3 + 1`.
  std::size_t max_id_size = 128;

  /// Throws std::invalid_argument naming the first invalid field.
  void validate() const;
};

/// A session as read: its id and its fields as stored text, with typed accessors. A plain
/// value; thread-safe to read.
class REDISCACHE_EXPORT Session {
 public:
  /// A session with these stored fields (SessionStore::get makes them).
  Session(std::string id, std::unordered_map<std::string, std::string> fields)
      : id_(std::move(id)), fields_(std::move(fields)) {}

  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// Every field as stored.
  [[nodiscard]] const std::unordered_map<std::string, std::string>& fields() const noexcept {
    return fields_;
  }
  [[nodiscard]] bool contains(std::string_view name) const;
  /// The stored text of a field (strings round-trip exactly); nullopt when absent.
  [[nodiscard]] std::optional<std::string> text(std::string_view name) const;
  /// The field parsed as a whole decimal integer ("42"); nullopt when absent. Throws
  /// std::invalid_argument naming the field when the text is not one.
  [[nodiscard]] std::optional<long long> integer(std::string_view name) const;
  /// The field parsed as a number ("1700000000.25", as Python writes time.time()); nullopt
  /// when absent. Throws std::invalid_argument naming the field when the text is not one.
  [[nodiscard]] std::optional<double> number(std::string_view name) const;
  /// The field parsed as JSON (structured values such as the roles list); nullopt when
  /// absent. Throws std::invalid_argument naming the field when the text is not JSON.
  [[nodiscard]] std::optional<nlohmann::json> json(std::string_view name) const;

 private:
  std::string id_;
  std::unordered_map<std::string, std::string> fields_;
};

/// Counters of one SessionStore, read as one snapshot.
struct SessionStats {
  std::uint64_t created = 0;      ///< Sessions created.
  std::uint64_t hits = 0;         ///< `get` calls that found the session.
  std::uint64_t misses = 0;       ///< `get` calls that found nothing (expired or unknown id).
  std::uint64_t destroyed = 0;    ///< Sessions deleted by `destroy`.
  std::uint64_t regenerated = 0;  ///< Sessions moved to a new id.
};

/// Sessions in Redis hashes `<key_prefix><id>` with a TTL. Ids are `id_bytes` random bytes
/// from the OS CSPRNG in URL-safe base64. Every write sets the TTL in the same atomic step, so
/// no session is ever left without one (the seed's HSET-then-EXPIRE can). Thread-safe.
///
/// Errors: std::invalid_argument naming the argument ("id", "fields", "ttl") for bad input,
/// before anything is sent; the Client's errors (IoError, TimeoutError, PoolExhausted,
/// ReplyError) otherwise.
class REDISCACHE_EXPORT SessionStore {
 public:
  explicit SessionStore(Client client, SessionOptions options = {});

  /// Creates a session holding `fields` (at least one, within the limits) that expires after
  /// `ttl` (default `SessionOptions::ttl`), and returns its new id. One round trip (a new id
  /// is drawn again in the astronomically unlikely case it is taken).
  [[nodiscard]] std::string create(const SessionFields& fields,
                                   std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  /// Reads a session; nullopt when it does not exist or expired. With kSlide its TTL is reset
  /// to `SessionOptions::ttl` in the same round trip.
  [[nodiscard]] std::optional<Session> get(std::string_view id,
                                           SessionExpiry expiry = SessionExpiry::kKeep);
  /// Sets `fields` and deletes the fields named in `remove` of an existing session, keeping its
  /// TTL (one round trip, atomic). Returns false, writing nothing, when the session does not
  /// exist: an expired session is never resurrected without a TTL. Throws
  /// std::invalid_argument("fields") when the result would exceed `max_fields` (nothing is
  /// written then either), or would leave the session without fields.
  [[nodiscard]] bool update(std::string_view id, const SessionFields& fields, ArgList remove = {});
  /// Resets the TTL of an existing session (default `SessionOptions::ttl`); false when absent.
  [[nodiscard]] bool touch(std::string_view id,
                           std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  /// Deletes a session; false when it did not exist.
  bool destroy(std::string_view id);
  /// Moves a session to a new id atomically (one round trip; RENAME keeps fields and TTL), so
  /// the old id stops working at the same instant the new one starts: call it at login and
  /// privilege changes against session fixation. Returns the new id, or nullopt when the
  /// session does not exist. With `ttl` the new session's TTL is reset to it. Both keys must
  /// live on one node: on Redis Cluster the server refuses (ReplyError CROSSSLOT).
  [[nodiscard]] std::optional<std::string> regenerate(
      std::string_view id, std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  /// Remaining lifetime (one round trip); nullopt when the session does not exist, and
  /// `std::chrono::milliseconds::max()` for a key without expiry (written by other code).
  [[nodiscard]] std::optional<std::chrono::milliseconds> ttl(std::string_view id);

  /// The Redis key of a session id.
  [[nodiscard]] std::string key(std::string_view id) const;
  /// How a value is stored (see SessionFields).
  [[nodiscard]] static std::string encode(const nlohmann::json& value);
  /// A fresh id from the same source `create` uses (for tests and tools).
  [[nodiscard]] std::string new_id() const;

  [[nodiscard]] const SessionOptions& options() const noexcept { return options_; }
  /// A snapshot of this store's counters (no round trip).
  [[nodiscard]] SessionStats stats() const;

 private:
  void check_id(std::string_view id) const;
  void check_ttl(std::chrono::milliseconds ttl) const;
  std::vector<std::string> encode_fields(const SessionFields& fields) const;

  Client client_;
  SessionOptions options_;
  Counter created_;
  Counter hits_;
  Counter misses_;
  Counter destroyed_;
  Counter regenerated_;
};

}  // namespace rediscache
