// Rendering of rediscache-stat's screen and JSON lines.
#include "stat_report.hpp"

#include <chrono>
#include <cstdio>

#include "rediscache/observe/metrics.hpp"

namespace rediscache::tools {
namespace {

double per_second(std::uint64_t before, std::uint64_t after, double seconds) {
  if (after < before || seconds <= 0) return 0;
  return static_cast<double>(after - before) / seconds;
}

std::string format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

std::string uptime(std::uint64_t seconds) {
  char buf[64];
  const auto days = seconds / 86400;
  const auto h = (seconds % 86400) / 3600;
  const auto m = (seconds % 3600) / 60;
  const auto s = seconds % 60;
  if (days > 0) {
    std::snprintf(buf, sizeof buf, "%llud %02lluh %02llum", static_cast<unsigned long long>(days),
                  static_cast<unsigned long long>(h), static_cast<unsigned long long>(m));
  } else {
    std::snprintf(buf, sizeof buf, "%lluh %02llum %02llus", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  }
  return buf;
}

std::string count(std::uint64_t n) { return std::to_string(n); }

}  // namespace

Rates rates_between(const ServerStats& before, const ServerStats& after, double seconds) {
  Rates r;
  r.seconds = seconds;
  r.hits = per_second(before.keyspace_hits, after.keyspace_hits, seconds);
  r.misses = per_second(before.keyspace_misses, after.keyspace_misses, seconds);
  if (r.hits + r.misses > 0) r.hit_rate = r.hits / (r.hits + r.misses);
  r.evicted = per_second(before.evicted_keys, after.evicted_keys, seconds);
  r.expired = per_second(before.expired_keys, after.expired_keys, seconds);
  r.commands = per_second(before.total_commands_processed, after.total_commands_processed, seconds);
  r.net_input_bytes =
      per_second(before.total_net_input_bytes, after.total_net_input_bytes, seconds);
  r.net_output_bytes =
      per_second(before.total_net_output_bytes, after.total_net_output_bytes, seconds);
  return r;
}

std::string human_bytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

std::string printable(const std::string& key) {
  constexpr std::size_t kMax = 120;
  std::string out;
  for (const char ch : key) {
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string render_screen(const std::string& endpoint, const ServerStats& s,
                          const std::optional<Rates>& rates,
                          const std::vector<std::string>& warnings) {
  std::string out;
  out += "rediscache-stat " + endpoint + "  redis " + s.redis_version + " " + s.role + "  up " +
         uptime(s.uptime_seconds) + "\n";
  out += "hit rate       " +
         (s.hit_rate ? format("%.1f %%", *s.hit_rate * 100) : std::string("n/a (no lookups yet)")) +
         "  (" + count(s.keyspace_hits) + " hits, " + count(s.keyspace_misses) +
         " misses since start)\n";
  out += "memory         " + human_bytes(s.used_memory);
  if (const auto fraction = s.memory_fraction()) {
    out += " of " + human_bytes(s.maxmemory) + " maxmemory (" + format("%.1f %%", *fraction * 100) +
           ")";
  } else {
    out += ", no maxmemory";
  }
  out += ", policy " + (s.maxmemory_policy.empty() ? std::string("?") : s.maxmemory_policy) + "\n";
  out += "evicted keys   " + count(s.evicted_keys) + "\n";
  out += "expired keys   " + count(s.expired_keys) + "\n";
  out += "clients        " + count(s.connected_clients) + " connected, " +
         count(s.blocked_clients) + " blocked, " + count(s.rejected_connections) + " rejected\n";
  std::uint64_t expires = 0;
  std::string per_db;
  for (const auto& db : s.keyspace) {
    expires += db.expires;
    per_db += (per_db.empty() ? "" : ", ") + ("db" + std::to_string(db.db)) + " " + count(db.keys);
  }
  out += "keys           " + count(s.total_keys()) + " (" + count(expires) + " with TTL)";
  if (!per_db.empty()) out += ": " + per_db;
  out += "\n";
  if (rates) {
    const Rates& r = *rates;
    out += "per second     hits " + format("%.1f", r.hits) + ", misses " +
           format("%.1f", r.misses) + ", hit rate " +
           (r.hit_rate ? format("%.1f %%", *r.hit_rate * 100) : std::string("n/a")) + ", evicted " +
           format("%.1f", r.evicted) + ", expired " + format("%.1f", r.expired) + "\n";
    out += "               commands " + format("%.1f", r.commands) + ", in " +
           human_bytes(static_cast<std::uint64_t>(r.net_input_bytes)) + ", out " +
           human_bytes(static_cast<std::uint64_t>(r.net_output_bytes)) + "  (over " +
           format("%.2f s", r.seconds) + ")\n";
  }
  for (const auto& w : warnings) out += "WARNING: " + w + "\n";
  return out;
}

nlohmann::json sample_json(const std::string& endpoint, const ServerStats& stats,
                           const std::optional<Rates>& rates,
                           const std::vector<std::string>& warnings) {
  nlohmann::json j;
  j["endpoint"] = endpoint;
  j["time"] =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  j["server"] = stats;
  if (rates) {
    const Rates& r = *rates;
    j["rates"] = {{"seconds", r.seconds},
                  {"hits", r.hits},
                  {"misses", r.misses},
                  {"hit_rate", r.hit_rate ? nlohmann::json(*r.hit_rate) : nlohmann::json()},
                  {"evicted", r.evicted},
                  {"expired", r.expired},
                  {"commands", r.commands},
                  {"net_input_bytes", r.net_input_bytes},
                  {"net_output_bytes", r.net_output_bytes}};
  } else {
    j["rates"] = nullptr;
  }
  j["warnings"] = warnings;
  return j;
}

}  // namespace rediscache::tools
