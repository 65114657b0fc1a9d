// ServerStats from INFO, and the warnings a cache server deserves.
#include "rediscache/observe/server_stats.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>

#include "rediscache/client/client.hpp"

namespace rediscache {
namespace {

// INFO counters are non-negative; a negative or absent value reads as 0.
std::uint64_t unsigned_field(const Info& info, std::string_view field) {
  const auto value = info.get_int(field);
  return value && *value > 0 ? static_cast<std::uint64_t>(*value) : 0;
}

std::string string_field(const Info& info, std::string_view field) {
  const auto value = info.get(field);
  return value ? std::string(*value) : std::string();
}

std::uint64_t parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  return result.ec == std::errc() ? value : 0;
}

// "keys=10,expires=2,avg_ttl=3000" (Redis 7 may append ",subexpiry=0"; unknown parts are
// ignored).
KeyspaceStats parse_keyspace_line(int db, std::string_view text) {
  KeyspaceStats out;
  out.db = db;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string_view name = part.substr(0, eq);
    const std::uint64_t value = parse_u64(part.substr(eq + 1));
    if (name == "keys") {
      out.keys = value;
    } else if (name == "expires") {
      out.expires = value;
    } else if (name == "avg_ttl") {
      out.avg_ttl_ms = value;
    }
  }
  return out;
}

std::vector<KeyspaceStats> parse_keyspace(const Info& info) {
  std::vector<KeyspaceStats> out;
  const auto section = info.sections().find("keyspace");
  if (section == info.sections().end()) {
    return out;
  }
  for (const auto& [name, value] : section->second) {
    const std::string_view field(name);
    if (field.size() < 3 || field.substr(0, 2) != "db") {
      continue;
    }
    int db = 0;
    const auto* end = field.data() + field.size();
    const auto result = std::from_chars(field.data() + 2, end, db);
    if (result.ec != std::errc() || result.ptr != end) {
      continue;
    }
    out.push_back(parse_keyspace_line(db, value));
  }
  // The map orders "db10" before "db2"; callers expect database order.
  std::sort(out.begin(), out.end(),
            [](const KeyspaceStats& a, const KeyspaceStats& b) { return a.db < b.db; });
  return out;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", fraction * 100.0);
  return buf;
}

// Below this many lookups a hit rate says little (a warming cache starts at 0 %).
constexpr std::uint64_t kMinLookupsForHitRateWarning = 1000;
constexpr double kLowHitRate = 0.5;
constexpr double kMemoryNearLimit = 0.9;

}  // namespace

std::uint64_t ServerStats::total_keys() const noexcept {
  std::uint64_t total = 0;
  for (const auto& db : keyspace) {
    total += db.keys;
  }
  return total;
}

std::optional<double> ServerStats::memory_fraction() const noexcept {
  if (maxmemory == 0) {
    return std::nullopt;
  }
  return static_cast<double>(used_memory) / static_cast<double>(maxmemory);
}

ServerStats from_info(const Info& info) {
  ServerStats s;
  s.redis_version = string_field(info, "redis_version");
  s.role = string_field(info, "role");
  s.uptime_seconds = unsigned_field(info, "uptime_in_seconds");
  s.keyspace_hits = unsigned_field(info, "keyspace_hits");
  s.keyspace_misses = unsigned_field(info, "keyspace_misses");
  const std::uint64_t lookups = s.keyspace_hits + s.keyspace_misses;
  if (lookups > 0) {
    s.hit_rate = static_cast<double>(s.keyspace_hits) / static_cast<double>(lookups);
  }
  s.evicted_keys = unsigned_field(info, "evicted_keys");
  s.expired_keys = unsigned_field(info, "expired_keys");
  s.used_memory = unsigned_field(info, "used_memory");
  s.maxmemory = unsigned_field(info, "maxmemory");
  s.maxmemory_policy = string_field(info, "maxmemory_policy");
  s.connected_clients = unsigned_field(info, "connected_clients");
  s.blocked_clients = unsigned_field(info, "blocked_clients");
  s.rejected_connections = unsigned_field(info, "rejected_connections");
  s.total_commands_processed = unsigned_field(info, "total_commands_processed");
  s.total_net_input_bytes = unsigned_field(info, "total_net_input_bytes");
  s.total_net_output_bytes = unsigned_field(info, "total_net_output_bytes");
  s.keyspace = parse_keyspace(info);
  return s;
}

ServerStats server_stats(Client& client) { return from_info(client.info()); }

std::vector<std::string> warnings(const ServerStats& stats) {
  std::vector<std::string> out;
  if (stats.maxmemory == 0) {
    out.emplace_back(
        "maxmemory is not set: the cache grows until the machine runs out of memory; set "
        "maxmemory and maxmemory-policy allkeys-lru (or allkeys-lfu)");
  }
  if (stats.maxmemory_policy == "noeviction") {
    out.emplace_back(
        "maxmemory-policy is noeviction: once maxmemory is reached, writes fail with OOM errors "
        "instead of evicting old entries; use allkeys-lru (or allkeys-lfu) for a cache");
  } else if (stats.maxmemory_policy.rfind("volatile-", 0) == 0) {
    std::uint64_t keys = 0;
    std::uint64_t expires = 0;
    for (const auto& db : stats.keyspace) {
      keys += db.keys;
      expires += db.expires;
    }
    if (keys > expires) {
      out.emplace_back("maxmemory-policy is " + stats.maxmemory_policy +
                       ", which evicts only keys "
                       "with a TTL, but " +
                       std::to_string(keys - expires) + " of " + std::to_string(keys) +
                       " keys have none: they can never be evicted");
    }
  }
  const auto fraction = stats.memory_fraction();
  if (fraction && *fraction >= kMemoryNearLimit) {
    out.emplace_back("used memory is " + percent(*fraction) + " of maxmemory");
  }
  if (stats.rejected_connections > 0) {
    out.emplace_back(std::to_string(stats.rejected_connections) +
                     " connections were rejected (maxclients reached)");
  }
  const std::uint64_t lookups = stats.keyspace_hits + stats.keyspace_misses;
  if (stats.hit_rate && lookups >= kMinLookupsForHitRateWarning && *stats.hit_rate < kLowHitRate) {
    out.emplace_back("hit rate is " + percent(*stats.hit_rate) + " over " +
                     std::to_string(lookups) + " lookups: most reads miss the cache");
  }
  return out;
}

}  // namespace rediscache
