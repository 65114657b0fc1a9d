#include "topology/topology.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <iterator>
#include <thread>

#include "util/backoff.hpp"

namespace rediscache::detail {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// Sorted, upper case: the commands the library and its users send that never write.
constexpr std::string_view kReadOnly[] = {"BITCOUNT",
                                          "BITPOS",
                                          "DBSIZE",
                                          "DUMP",
                                          "EXISTS",
                                          "GEODIST",
                                          "GEOHASH",
                                          "GEOPOS",
                                          "GET",
                                          "GETBIT",
                                          "GETRANGE",
                                          "HEXISTS",
                                          "HGET",
                                          "HGETALL",
                                          "HKEYS",
                                          "HLEN",
                                          "HMGET",
                                          "HSTRLEN",
                                          "HVALS",
                                          "LINDEX",
                                          "LLEN",
                                          "LPOS",
                                          "LRANGE",
                                          "MGET",
                                          "PFCOUNT",
                                          "PING",
                                          "PTTL",
                                          "SCARD",
                                          "SISMEMBER",
                                          "SMEMBERS",
                                          "SMISMEMBER",
                                          "STRLEN",
                                          "TTL",
                                          "TYPE",
                                          "XLEN",
                                          "XRANGE",
                                          "XREVRANGE",
                                          "ZCARD",
                                          "ZCOUNT",
                                          "ZMSCORE",
                                          "ZRANGE",
                                          "ZRANGEBYSCORE",
                                          "ZRANK",
                                          "ZREVRANGE",
                                          "ZREVRANK",
                                          "ZSCORE",
                                          "ZREVRANGEBYSCORE"};

}  // namespace

Redirect parse_redirect(const Reply& reply) {
  Redirect r;
  if (!reply.is_error()) return r;
  const std::string_view text = reply.str;
  if (starts_with(text, "MOVED ") || starts_with(text, "ASK ")) {
    r.kind = text[0] == 'M' ? Redirect::kMoved : Redirect::kAsk;
    const auto first = text.find(' ');
    const auto second = text.find(' ', first + 1);
    if (second == std::string_view::npos) return Redirect{};
    const std::string_view slot = text.substr(first + 1, second - first - 1);
    if (std::from_chars(slot.data(), slot.data() + slot.size(), r.slot).ec != std::errc()) {
      return Redirect{};
    }
    if (!split_host_port(text.substr(second + 1), r.host, r.port)) return Redirect{};
  } else if (starts_with(text, "TRYAGAIN")) {
    r.kind = Redirect::kTryAgain;
  } else if (starts_with(text, "CLUSTERDOWN")) {
    r.kind = Redirect::kClusterDown;
  } else if (starts_with(text, "READONLY")) {
    r.kind = Redirect::kReadOnly;
  } else if (starts_with(text, "LOADING")) {
    r.kind = Redirect::kLoading;
  }
  return r;
}

namespace {

// Upper case copy of a command name into `buffer`; empty when it does not fit.
std::string_view upper(std::string_view name, std::array<char, 24>& buffer) noexcept {
  if (name.size() >= buffer.size()) return {};
  for (std::size_t i = 0; i < name.size(); ++i) {
    buffer[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
  }
  return {buffer.data(), name.size()};
}

constexpr std::string_view kKeyless[] = {
    "ACL",       "AUTH",      "BGREWRITEAOF", "BGSAVE",      "CLIENT",    "CLUSTER", "COMMAND",
    "CONFIG",    "DBSIZE",    "DEBUG",        "DISCARD",     "ECHO",      "EXEC",    "FLUSHALL",
    "FLUSHDB",   "FUNCTION",  "HELLO",        "INFO",        "LASTSAVE",  "LATENCY", "LOLWUT",
    "MONITOR",   "MULTI",     "PING",         "PSUBSCRIBE",  "PUBLISH",   "PUBSUB",  "PUNSUBSCRIBE",
    "QUIT",      "RANDOMKEY", "READONLY",     "READWRITE",   "REPLICAOF", "RESET",   "ROLE",
    "SAVE",      "SCAN",      "SCRIPT",       "SELECT",      "SHUTDOWN",  "SLAVEOF", "SLOWLOG",
    "SUBSCRIBE", "SWAPDB",    "TIME",         "UNSUBSCRIBE", "UNWATCH",   "WAIT"};

}  // namespace

std::string_view routing_key(ArgList argv) noexcept {
  if (argv.size() < 2) return {};
  std::array<char, 24> buffer{};
  const std::string_view name = upper(argv[0], buffer);
  if (std::find(std::begin(kKeyless), std::end(kKeyless), name) != std::end(kKeyless)) return {};
  if (name == "BITOP" || name == "OBJECT" || name == "MEMORY") {
    return argv.size() > 2 ? argv[2] : std::string_view{};
  }
  if (name == "EVAL" || name == "EVALSHA" || name == "EVAL_RO" || name == "EVALSHA_RO" ||
      name == "FCALL" || name == "FCALL_RO") {
    if (argv.size() < 4 || argv[2] == "0") return {};
    return argv[3];
  }
  if (name == "XREAD" || name == "XREADGROUP") {
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      std::array<char, 24> word{};
      if (upper(argv[i], word) == "STREAMS") return argv[i + 1];
    }
    return {};
  }
  return argv[1];
}

bool is_read_only_command(std::string_view name) noexcept {
  std::array<char, 24> buffer{};
  const std::string_view key = upper(name, buffer);
  if (key.empty()) return false;
  return std::find(std::begin(kReadOnly), std::end(kReadOnly), key) != std::end(kReadOnly);
}

bool split_host_port(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view port_text = text.substr(colon + 1);
  int value = 0;
  const auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (parsed.ec != std::errc() || parsed.ptr != port_text.data() + port_text.size() || value < 1 ||
      value > 65535) {
    return false;
  }
  host.assign(text.substr(0, colon));
  port = value;
  return true;
}

std::function<bool()> every_round(std::function<void()> step) {
  return [step = std::move(step)] {
    try {
      step();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the next round tries again
    }
    return true;
  };
}

void backoff_sleep(int attempt, std::chrono::steady_clock::time_point deadline) {
  sleep_before(Backoff::step_for(std::chrono::milliseconds(5), std::chrono::milliseconds(200),
                                 static_cast<std::size_t>(attempt)),
               deadline);
}

}  // namespace rediscache::detail
