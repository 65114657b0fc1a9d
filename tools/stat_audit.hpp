// rediscache-stat --audit: samples keys with SCAN and reports keys without a TTL, the biggest
// keys (MEMORY USAGE) and the prefixes that hold the most memory, without blocking the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rediscache/client/client.hpp"

namespace rediscache::tools {

struct AuditOptions {
  /// Most keys to sample.
  std::size_t sample = 1000;
  /// COUNT hint of each SCAN call: bounds the work the server does per call.
  std::size_t scan_count = 100;
  /// Entries in each top list.
  std::size_t top = 10;
};

struct AuditKey {
  std::string key;
  std::string type;
  std::uint64_t bytes = 0;
  bool has_ttl = false;
};

struct AuditPrefix {
  std::string prefix;  ///< The key up to its last ':' followed by "*", or "(no prefix)".
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  std::uint64_t without_ttl = 0;
};

struct AuditReport {
  std::uint64_t db_keys = 0;        ///< DBSIZE when the audit started.
  std::uint64_t sampled = 0;        ///< Keys examined (keys deleted meanwhile are not counted).
  std::uint64_t without_ttl = 0;    ///< Sampled keys with no expiry.
  std::uint64_t sampled_bytes = 0;  ///< MEMORY USAGE summed over the sample.
  bool complete = false;            ///< True when SCAN covered the whole keyspace.
  std::vector<AuditKey> no_ttl_examples;  ///< Up to `top` keys without a TTL.
  std::vector<AuditKey> biggest;          ///< Largest sampled keys, biggest first.
  std::vector<AuditPrefix> prefixes;      ///< Prefixes by sampled bytes, biggest first.
};

/// Samples up to `options.sample` keys: one SCAN round trip plus one pipelined round trip
/// (PTTL, TYPE, MEMORY USAGE per key) per page. Throws what Client throws.
AuditReport run_audit(Client& client, const AuditOptions& options);

/// The prefix a key is grouped under: everything up to and including its last ':' plus "*".
std::string key_prefix(const std::string& key);

nlohmann::json to_json(const AuditReport& report);
/// Multi-line text for the screen.
std::string render_audit(const AuditReport& report);

}  // namespace rediscache::tools
