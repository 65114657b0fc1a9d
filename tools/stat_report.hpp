// rediscache-stat's output: the one-screen summary of a server's cache health, the rates
// between two samples, and the same as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rediscache/observe/server_stats.hpp"

namespace rediscache::tools {

/// Per-second rates between two samples.
struct Rates {
  double seconds = 0;  ///< Time between the samples.
  double hits = 0;
  double misses = 0;
  std::optional<double> hit_rate;  ///< Over the interval; unset when there was no lookup.
  double evicted = 0;
  double expired = 0;
  double commands = 0;
  double net_input_bytes = 0;
  double net_output_bytes = 0;
};

/// Rates from `before` to `after`, `seconds` apart. Counters that went backwards (server
/// restart, CONFIG RESETSTAT) count as 0.
Rates rates_between(const ServerStats& before, const ServerStats& after, double seconds);

/// "1.5 MiB", "512 B".
std::string human_bytes(std::uint64_t bytes);
/// A key for display: non-printable bytes as \xNN, cut to 120 characters.
std::string printable(const std::string& key);

/// The screen: header, hit rate, memory, evictions, clients, keys, rates (when given) and
/// warnings.
std::string render_screen(const std::string& endpoint, const ServerStats& stats,
                          const std::optional<Rates>& rates,
                          const std::vector<std::string>& warnings);

/// {"endpoint", "time", "server", "rates" (or null), "warnings"}.
nlohmann::json sample_json(const std::string& endpoint, const ServerStats& stats,
                           const std::optional<Rates>& rates,
                           const std::vector<std::string>& warnings);

}  // namespace rediscache::tools
