#include "topology/cluster_topology.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "net/multiplexer.hpp"
#include "net/pool_state.hpp"
#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

namespace {

using Clock = std::chrono::steady_clock;

// While read_from_replicas waits for replicas that the map does not list yet, it reloads this
// often, for at most kReplicaWaitLimit (a cluster may have no replicas at all).
constexpr std::chrono::milliseconds kReplicaPollInterval{1000};
constexpr std::chrono::seconds kReplicaWaitLimit{60};

// CLUSTER SHARDS and CLUSTER SLOTS report an empty or "?" address for "the node you asked".
std::string node_host(const Reply& reply, const std::string& default_host) {
  if (!reply.is_string() || reply.str.empty() || reply.str == "?") return default_host;
  return reply.str;
}

// A RESP2 map is a flat array of key, value pairs.
const Reply* field(const Reply& map, std::string_view name) {
  if (!map.is_array()) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return &map.elements[i + 1];
  }
  return nullptr;
}

bool valid_port(long long port) { return port >= 1 && port <= 65535; }

bool valid_range(long long first, long long last) {
  return first >= 0 && last < kSlotCount && first <= last;
}

}  // namespace

ClusterMapParse parse_cluster_shards(const Reply& reply, const std::string& host, bool tls) {
  ClusterMapParse out;
  if (!reply.is_array()) return out;
  for (const Reply& shard : reply.elements) {
    const Reply* slots = field(shard, "slots");
    const Reply* nodes = field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || !slots->is_array() || !nodes->is_array()) {
      return out;  // not a shard list
    }
    ClusterRange base;
    bool have_master = false;
    for (const Reply& node : nodes->elements) {
      const Reply* role = field(node, "role");
      const Reply* health = field(node, "health");
      const Reply* tls_port = tls ? field(node, "tls-port") : nullptr;
      const Reply* port = tls_port != nullptr ? tls_port : field(node, "port");
      const Reply* ip = field(node, "ip");
      if (role == nullptr || port == nullptr || !port->is_integer() || ip == nullptr) continue;
      if (!valid_port(port->integer)) {
        ++out.dropped_nodes;
        continue;
      }
      const bool online = health == nullptr || health->str == "online";
      if (role->str == "master") {
        // After a failover the old master is listed as failed until it comes back.
        if (have_master && !online) continue;
        base.master_host = node_host(*ip, host);
        base.master_port = static_cast<int>(port->integer);
        have_master = online;
      } else if (online) {
        base.replicas.emplace_back(node_host(*ip, host), static_cast<int>(port->integer));
      }
    }
    for (std::size_t i = 0; i + 1 < slots->elements.size(); i += 2) {
      const Reply& first = slots->elements[i];
      const Reply& last = slots->elements[i + 1];
      if (base.master_port == 0 || !first.is_integer() || !last.is_integer() ||
          !valid_range(first.integer, last.integer)) {
        ++out.dropped_ranges;
        continue;
      }
      ClusterRange range = base;
      range.first = static_cast<int>(first.integer);
      range.last = static_cast<int>(last.integer);
      out.ranges.push_back(std::move(range));
    }
  }
  out.understood = true;
  return out;
}

ClusterMapParse parse_cluster_slots(const Reply& reply, const std::string& host) {
  ClusterMapParse out;
  if (!reply.is_array()) return out;
  for (const Reply& entry : reply.elements) {
    if (!entry.is_array() || entry.elements.size() < 3) return out;
    ClusterRange range;
    bool usable = entry.elements[0].is_integer() && entry.elements[1].is_integer() &&
                  valid_range(entry.elements[0].integer, entry.elements[1].integer);
    if (usable) {
      range.first = static_cast<int>(entry.elements[0].integer);
      range.last = static_cast<int>(entry.elements[1].integer);
    }
    for (std::size_t i = 2; i < entry.elements.size(); ++i) {
      const Reply& node = entry.elements[i];
      if (!node.is_array() || node.elements.size() < 2 || !node.elements[1].is_integer()) {
        return out;
      }
      const bool valid = valid_port(node.elements[1].integer);
      if (i == 2) {
        if (!valid) usable = false;
        range.master_host = node_host(node.elements[0], host);
        range.master_port = valid ? static_cast<int>(node.elements[1].integer) : 0;
      } else if (valid) {
        range.replicas.emplace_back(node_host(node.elements[0], host),
                                    static_cast<int>(node.elements[1].integer));
      } else {
        ++out.dropped_nodes;
      }
    }
    if (usable) {
      out.ranges.push_back(std::move(range));
    } else {
      ++out.dropped_ranges;
    }
  }
  out.understood = true;
  return out;
}

ClusterTopology::ClusterTopology(ClusterOptions options)
    : options_(std::move(options)), pools_(options_.connection, options_.pool) {
  for (const ServerAddress& seed : options_.seeds) pools_.get(seed.host, seed.port);
  if (!refresh(true)) {
    std::string seeds;
    for (const ServerAddress& seed : options_.seeds) {
      seeds += (seeds.empty() ? "" : ", ") + seed.host + ":" + std::to_string(seed.port);
    }
    throw IoError("redis cluster: no seed node answered with a usable slot map (seeds: " + seeds +
                  ")");
  }
  refresher_.emplace([this] { return next_interval(); }, every_round([this] { refresh(false); }));
}

std::chrono::milliseconds ClusterTopology::next_interval() {
  if (!replicas_missing_.load(std::memory_order_relaxed)) {
    missing_since_.reset();
    return options_.refresh_interval;
  }
  const auto now = Clock::now();
  if (!missing_since_) missing_since_ = now;
  if (now - *missing_since_ >= kReplicaWaitLimit) return options_.refresh_interval;
  return std::min(options_.refresh_interval, kReplicaPollInterval);
}

ClusterTopology::~ClusterTopology() {
  // Before the pools and maps it reads go. A reload in progress ends within the connect and
  // command timeouts of the node it asks.
  refresher_.reset();
}

const ClusterTopology::Shard* ClusterTopology::intern(ConnectionPool* master,
                                                      std::vector<ConnectionPool*> replicas) {
  std::vector<ConnectionPool*> signature;
  signature.reserve(replicas.size() + 1);
  signature.push_back(master);
  signature.insert(signature.end(), replicas.begin(), replicas.end());
  std::lock_guard<std::mutex> lock(shards_mu_);
  auto& shard = shards_[signature];
  if (!shard) {
    shard = std::make_unique<Shard>();
    shard->master = master;
    shard->replicas = std::move(replicas);
  }
  return shard.get();
}

ConnectionPool& ClusterTopology::pick(int slot, bool read_only, bool* replica) {
  *replica = false;
  if (slot == kNoSlot) return *any_.load(std::memory_order_acquire);
  const Shard* shard = slots_[static_cast<std::size_t>(slot)].load(std::memory_order_acquire);
  if (shard == nullptr) return *any_.load(std::memory_order_acquire);
  if (read_only && !shard->replicas.empty()) {
    thread_local unsigned next = 0;
    *replica = true;
    return *shard->replicas[next++ % shard->replicas.size()];
  }
  return *shard->master;
}

ConnectionPool& ClusterTopology::master_for(int slot) {
  bool replica = false;
  return pick(slot, false, &replica);
}

ConnectionPool& ClusterTopology::any_pool() { return *any_.load(std::memory_order_acquire); }

std::vector<ConnectionPool*> ClusterTopology::masters() {
  std::lock_guard<std::mutex> lock(shards_mu_);
  return masters_;
}

// execute() in phases: send the command once to the route's target (send_once), then follow
// what a redirection or a retryable error says (follow). Each phase updates the route.
Reply ClusterTopology::execute(int slot, const Command& command,
                               std::optional<std::chrono::milliseconds> block,
                               const std::string** endpoint) {
  Route route;
  route.slot = slot;
  route.read_only = options_.read_from_replicas && is_read_only_command(command.name);
  route.target = &pick(slot, route.read_only, &route.replica);
  for (;;) {
    *endpoint = &route.target->endpoint();
    std::optional<Reply> reply = send_once(route, command, block);
    if (!reply) continue;  // an I/O failure that may be retried: the route says where next
    if (!reply->is_error() || !follow(route, *reply)) return std::move(*reply);
  }
}

bool ClusterTopology::may_retry(Route& route) const {
  // Retries of TRYAGAIN, CLUSTERDOWN and unreachable nodes share one time budget per command.
  const auto now = Clock::now();
  if (!route.deadline) route.deadline = detail::saturating_deadline(now, options_.retry_timeout);
  return now < *route.deadline;
}

void ClusterTopology::retry_later(Route& route) {
  backoff_sleep(route.attempt++, *route.deadline);
  route.target = &pick(route.slot, route.read_only, &route.replica);
  route.asking = false;
}

namespace {

// A read from a replica on its node's shared connection.
Reply replica_read(Multiplexer& shared, const Command& command) {
  // READONLY lets the replica answer; READWRITE after it puts the shared connection back as it
  // was, so a command of another caller behind this one, meant for the node as a master (a
  // stale map after a failover), is redirected rather than served from a replica. The three go
  // out together, in one batch with whatever else is queued; their order on the wire is kept.
  std::string resp;
  append_resp(resp, {"READONLY"});
  append_resp(resp, command.argv);
  append_resp(resp, {"READWRITE"});
  std::vector<Reply> replies = shared.pipeline(resp, 3, command.name);
  return std::move(replies[1]);
}

}  // namespace

std::optional<Reply> ClusterTopology::send_once(Route& route, const Command& command,
                                                std::optional<std::chrono::milliseconds> block) {
  // A plain command takes a free pooled connection, or joins the node's shared connection once
  // all are busy (PoolOptions::multiplex); ASKING, blocking and followed commands always lease.
  const bool may_share = !route.asking && command.may_share(block.has_value());
  std::optional<Lease> lease;
  try {
    lease = PoolAccess::lease_or_share(*route.target, may_share);
  } catch (const IoError&) {
    // Nothing was sent: safe to retry once the map shows who serves the slot now. A replica
    // that fails is dropped for this command.
    refresh(false);
    if (!may_retry(route)) throw;
    if (route.replica) route.read_only = false;
    retry_later(route);
    return std::nullopt;
  }
  if (!lease) {
    try {
      Multiplexer& shared = *PoolAccess::state(*route.target).multiplexer;
      if (route.replica) return replica_read(shared, command);
      return shared.command(command.argv);
    } catch (const NotSentError&) {
      refresh(false);  // nothing was sent: as a failed lease above
      if (!may_retry(route)) throw;
      if (route.replica) route.read_only = false;
      retry_later(route);
      return std::nullopt;
    } catch (const IoError&) {
      note_stale(nullptr);
      if (!is_read_only_command(command.name) || !may_retry(route)) throw;
      if (route.replica) route.read_only = false;
      retry_later(route);
      return std::nullopt;
    }
  }
  try {
    Connection& connection = LeaseAccess::connection(*lease);
    if (block) {
      lease->set_read_timeout(
          blocking_read_timeout(*block, route.target->connection_options().command_timeout));
    }
    if (route.replica) connection.append({"READONLY"});
    if (route.asking) connection.append({"ASKING"});
    command.append_to(connection);
    if (route.replica) connection.read_reply("READONLY");
    if (route.asking) connection.read_reply("ASKING");
    Reply reply = command.read_from(connection);
    if (block) lease->set_read_timeout(std::nullopt);
    return reply;
  } catch (const IoError&) {
    lease.reset();
    note_stale(nullptr);
    // A write may have been applied: only reads are sent again.
    if (!is_read_only_command(command.name) || !may_retry(route)) throw;
    if (route.replica) route.read_only = false;
    retry_later(route);
    return std::nullopt;
  }
}

bool ClusterTopology::follow(Route& route, const Reply& reply) {
  Redirect redirect = parse_redirect(reply);
  switch (redirect.kind) {
    case Redirect::kMoved:
    case Redirect::kAsk: {
      if (++route.redirects > options_.max_redirects) return false;
      if (redirect.host.empty()) redirect.host = route.target->connection_options().host;
      ConnectionPool& to = pools_.get(redirect.host, redirect.port);
      if (redirect.kind == Redirect::kMoved) {
        if (redirect.slot >= 0 && redirect.slot < kSlotCount) {
          slots_[static_cast<std::size_t>(redirect.slot)].store(intern(&to, {}),
                                                                std::memory_order_release);
        }
        note_stale(&reply);
      }
      route.asking = redirect.kind == Redirect::kAsk;
      route.replica = false;
      route.target = &to;
      return true;
    }
    case Redirect::kTryAgain:
    case Redirect::kClusterDown:
    case Redirect::kLoading:
    case Redirect::kReadOnly:
      // The command was not applied. A migration in progress, a failover under way, or a
      // node that is still loading: wait a little and ask again.
      if (redirect.kind != Redirect::kTryAgain) refresh(false);
      if (!may_retry(route)) return false;
      retry_later(route);
      return true;
    case Redirect::kNone:
      return false;
  }
  return false;
}

void ClusterTopology::note_stale(const Reply* /*redirect*/) noexcept {
  if (refresher_) refresher_->wake();
}

bool ClusterTopology::refresh(bool force) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  const auto now = Clock::now();
  if (!force && now - last_refresh_ < std::chrono::milliseconds(50)) return true;
  last_refresh_ = now;

  // Ask the masters first (they know the newest map), then the seeds.
  std::vector<ConnectionPool*> candidates = masters();
  for (const ServerAddress& seed : options_.seeds) {
    ConnectionPool* pool = &pools_.get(seed.host, seed.port);
    if (std::find(candidates.begin(), candidates.end(), pool) == candidates.end()) {
      candidates.push_back(pool);
    }
  }
  for (ConnectionPool* pool : candidates) {
    std::vector<Range> ranges;
    try {
      if (!load_from(*pool, ranges) || ranges.empty()) continue;
    } catch (const Error&) {
      continue;  // unreachable or not a cluster node: try the next
    }
    if (!apply(ranges, pool->connection_options().host)) continue;  // nothing usable
    last_refresh_ = Clock::now();
    return true;
  }
  return false;
}

bool ClusterTopology::load_from(ConnectionPool& pool, std::vector<Range>& ranges) {
  Lease lease = pool.lease();
  const std::string& host = pool.connection_options().host;
  ClusterMapParse parsed = parse_cluster_shards(lease.command({"CLUSTER", "SHARDS"}), host,
                                                pool.connection_options().tls.enabled);
  if (!parsed.understood) {
    // Before Redis 7 (or a node that refuses SHARDS): the older reply.
    parsed = parse_cluster_slots(lease.command({"CLUSTER", "SLOTS"}), host);
  }
  if (!parsed.understood) return false;
  dropped_entries_.fetch_add(parsed.dropped_ranges + parsed.dropped_nodes,
                             std::memory_order_relaxed);
  ranges = std::move(parsed.ranges);
  return true;
}

bool ClusterTopology::apply(const std::vector<Range>& ranges, const std::string& default_host) {
  std::vector<const Shard*> map(kSlotCount, nullptr);
  std::vector<ConnectionPool*> masters;
  for (const Range& range : ranges) {
    if (!valid_range(range.first, range.last) || !valid_port(range.master_port)) continue;
    ConnectionPool* master = nullptr;
    std::vector<ConnectionPool*> replicas;
    try {
      master = &pools_.get(range.master_host.empty() ? default_host : range.master_host,
                           range.master_port);
      for (const auto& [host, port] : range.replicas) {
        replicas.push_back(&pools_.get(host.empty() ? default_host : host, port));
      }
    } catch (const std::invalid_argument&) {
      // An address the pool refuses (the parser checks ports; a host can still be invalid):
      // never escapes a refresh, and the range is not used.
      dropped_entries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const Shard* shard = intern(master, std::move(replicas));
    for (int slot = range.first; slot <= range.last; ++slot) {
      map[static_cast<std::size_t>(slot)] = shard;
    }
    if (std::find(masters.begin(), masters.end(), master) == masters.end()) {
      masters.push_back(master);
    }
  }
  if (masters.empty()) return false;
  bool replicas_missing = false;
  if (options_.read_from_replicas) {
    for (const Range& range : ranges) replicas_missing = replicas_missing || range.replicas.empty();
  }
  replicas_missing_.store(replicas_missing, std::memory_order_relaxed);
  for (int slot = 0; slot < kSlotCount; ++slot) {
    slots_[static_cast<std::size_t>(slot)].store(map[static_cast<std::size_t>(slot)],
                                                 std::memory_order_release);
  }
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    masters_ = masters;
  }
  any_.store(masters.front(), std::memory_order_release);
  return true;
}

}  // namespace rediscache::detail
