// Key audit by sampling: SCAN with a bounded COUNT (never KEYS), and per page one pipeline of
// PTTL, TYPE and MEMORY USAGE, so the server never does more than a page's work per call.
#include "stat_audit.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "rediscache/client/pipeline.hpp"
#include "stat_report.hpp"

namespace rediscache::tools {
namespace {

constexpr int kCommandsPerKey = 3;

void keep_biggest(std::vector<AuditKey>& top, const AuditKey& key, std::size_t limit) {
  top.push_back(key);
  std::sort(top.begin(), top.end(),
            [](const AuditKey& a, const AuditKey& b) { return a.bytes > b.bytes; });
  if (top.size() > limit) top.pop_back();
}

}  // namespace

std::string key_prefix(const std::string& key) {
  const auto colon = key.rfind(':');
  if (colon == std::string::npos) return "(no prefix)";
  return key.substr(0, colon + 1) + "*";
}

AuditReport run_audit(Client& client, const AuditOptions& options) {
  AuditReport report;
  report.db_keys = static_cast<std::uint64_t>(client.dbsize());
  std::map<std::string, AuditPrefix> prefixes;

  ScanOptions scan;
  scan.count = options.scan_count;
  std::uint64_t cursor = 0;
  Pipeline pipeline = client.pipeline();
  do {
    ScanPage page = client.scan(cursor, scan);
    cursor = page.cursor;
    const std::size_t room = options.sample - report.sampled;
    if (page.keys.size() > room) page.keys.resize(room);
    if (page.keys.empty()) continue;

    for (const std::string& key : page.keys) {
      pipeline.command({"PTTL", key});
      pipeline.command({"TYPE", key});
      pipeline.command({"MEMORY", "USAGE", key});
    }
    const std::vector<Reply> replies = pipeline.exec();
    for (std::size_t i = 0; i < page.keys.size(); ++i) {
      const Reply& pttl = replies[i * kCommandsPerKey];
      const Reply& type = replies[i * kCommandsPerKey + 1];
      const Reply& usage = replies[i * kCommandsPerKey + 2];
      // A key deleted or expired between SCAN and the pipeline is not part of the sample.
      if (!pttl.is_integer() || pttl.integer == kTtlKeyMissing) continue;
      AuditKey entry;
      entry.key = page.keys[i];
      entry.type = type.is_status() ? type.str : "?";
      entry.bytes =
          usage.is_integer() && usage.integer > 0 ? static_cast<std::uint64_t>(usage.integer) : 0;
      entry.has_ttl = pttl.integer != kTtlNoExpiry;

      ++report.sampled;
      report.sampled_bytes += entry.bytes;
      AuditPrefix& prefix = prefixes[key_prefix(entry.key)];
      ++prefix.keys;
      prefix.bytes += entry.bytes;
      if (!entry.has_ttl) {
        ++report.without_ttl;
        ++prefix.without_ttl;
        if (report.no_ttl_examples.size() < options.top) report.no_ttl_examples.push_back(entry);
      }
      keep_biggest(report.biggest, entry, options.top);
    }
  } while (cursor != 0 && report.sampled < options.sample);
  report.complete = cursor == 0;

  for (auto& [name, prefix] : prefixes) {
    prefix.prefix = name;
    report.prefixes.push_back(prefix);
  }
  std::sort(report.prefixes.begin(), report.prefixes.end(),
            [](const AuditPrefix& a, const AuditPrefix& b) {
              return a.bytes != b.bytes ? a.bytes > b.bytes : a.keys > b.keys;
            });
  if (report.prefixes.size() > options.top) report.prefixes.resize(options.top);
  return report;
}

nlohmann::json to_json(const AuditReport& r) {
  auto key_json = [](const AuditKey& k) {
    return nlohmann::json{
        {"key", k.key}, {"type", k.type}, {"bytes", k.bytes}, {"has_ttl", k.has_ttl}};
  };
  nlohmann::json j = {{"db_keys", r.db_keys},
                      {"sampled", r.sampled},
                      {"complete", r.complete},
                      {"without_ttl", r.without_ttl},
                      {"sampled_bytes", r.sampled_bytes},
                      {"no_ttl_examples", nlohmann::json::array()},
                      {"biggest", nlohmann::json::array()},
                      {"prefixes", nlohmann::json::array()}};
  for (const auto& k : r.no_ttl_examples) j["no_ttl_examples"].push_back(key_json(k));
  for (const auto& k : r.biggest) j["biggest"].push_back(key_json(k));
  for (const auto& p : r.prefixes) {
    j["prefixes"].push_back({{"prefix", p.prefix},
                             {"keys", p.keys},
                             {"bytes", p.bytes},
                             {"without_ttl", p.without_ttl}});
  }
  return j;
}

std::string render_audit(const AuditReport& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "audit          %llu of %llu keys sampled%s\n",
                static_cast<unsigned long long>(r.sampled),
                static_cast<unsigned long long>(r.db_keys), r.complete ? " (whole keyspace)" : "");
  out += line;
  if (r.sampled == 0) return out;
  const double share = static_cast<double>(r.without_ttl) / static_cast<double>(r.sampled);
  std::snprintf(line, sizeof line, "no TTL         %llu sampled keys (%.1f %%)%s\n",
                static_cast<unsigned long long>(r.without_ttl), share * 100.0,
                r.without_ttl > 0 ? ": they stay until evicted or deleted" : "");
  out += line;
  for (const auto& k : r.no_ttl_examples) {
    out += "                 " + printable(k.key) + " (" + k.type + ")\n";
  }
  out += "biggest keys\n";
  for (const auto& k : r.biggest) {
    std::snprintf(line, sizeof line, "  %10s  %-6s %s%s\n", human_bytes(k.bytes).c_str(),
                  k.type.c_str(), printable(k.key).c_str(), k.has_ttl ? "" : "  [no TTL]");
    out += line;
  }
  out += "top prefixes   (by sampled memory)\n";
  for (const auto& p : r.prefixes) {
    std::snprintf(line, sizeof line, "  %10s  %8llu keys  %8llu without TTL  %s\n",
                  human_bytes(p.bytes).c_str(), static_cast<unsigned long long>(p.keys),
                  static_cast<unsigned long long>(p.without_ttl), printable(p.prefix).c_str());
    out += line;
  }
  return out;
}

}  // namespace rediscache::tools
