#include "topology/cluster_topology.hpp"

#include <algorithm>
#include <utility>

#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace

ClusterTopology::ClusterTopology(ClusterOptions options)
    : options_(std::move(options)), pools_(options_.connection, options_.pool) {
  for (const ServerAddress& seed : options_.seeds) pools_.get(seed.host, seed.port);
  if (!refresh(true)) {
    std::string seeds;
    for (const ServerAddress& seed : options_.seeds) {
      seeds += (seeds.empty() ? "" : ", ") + seed.host + ":" + std::to_string(seed.port);
    }
    throw IoError("redis cluster: no seed node answered with a slot map (seeds: " + seeds + ")");
  }
  refresher_.emplace(options_.refresh_interval, [this] {
    try {
      refresh(false);
    } catch (...) {
      // Background work never throws; the next round tries again.
    }
    return true;
  });
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

Reply ClusterTopology::execute(int slot, const Command& command,
                               std::optional<std::chrono::milliseconds> block,
                               const std::string** endpoint) {
  bool read_only = options_.read_from_replicas && is_read_only_command(command.name);
  bool replica = false;
  ConnectionPool* target = &pick(slot, read_only, &replica);
  bool asking = false;
  int redirects = 0;
  int attempt = 0;
  std::optional<Clock::time_point> deadline;
  // Retries of TRYAGAIN, CLUSTERDOWN and unreachable nodes share one time budget per command.
  const auto may_retry = [&] {
    const auto now = Clock::now();
    if (!deadline) deadline = now + options_.retry_timeout;
    return now < *deadline;
  };
  const auto retry_later = [&] {
    backoff_sleep(attempt++, *deadline);
    target = &pick(slot, read_only, &replica);
    asking = false;
  };

  for (;;) {
    *endpoint = &target->endpoint();
    std::optional<Lease> lease;
    try {
      lease.emplace(target->lease());
    } catch (const IoError&) {
      // Nothing was sent: safe to retry once the map shows who serves the slot now. A replica
      // that fails is dropped for this command.
      refresh(false);
      if (!may_retry()) throw;
      if (replica) read_only = false;
      retry_later();
      continue;
    }
    Reply reply;
    try {
      Connection& connection = LeaseAccess::connection(*lease);
      if (block) {
        lease->set_read_timeout(
            blocking_read_timeout(*block, target->connection_options().command_timeout));
      }
      if (replica) connection.append({"READONLY"});
      if (asking) connection.append({"ASKING"});
      command.append_to(connection);
      if (replica) connection.read_reply("READONLY");
      if (asking) connection.read_reply("ASKING");
      reply = command.read_from(connection);
      if (block) lease->set_read_timeout(std::nullopt);
    } catch (const IoError&) {
      lease.reset();
      note_stale(nullptr);
      // A write may have been applied: only reads are sent again.
      if (!is_read_only_command(command.name) || !may_retry()) throw;
      if (replica) read_only = false;
      retry_later();
      continue;
    }
    lease.reset();
    if (!reply.is_error()) return reply;

    Redirect redirect = parse_redirect(reply);
    switch (redirect.kind) {
      case Redirect::kMoved:
      case Redirect::kAsk: {
        if (++redirects > options_.max_redirects) return reply;
        if (redirect.host.empty()) redirect.host = target->connection_options().host;
        ConnectionPool& to = pools_.get(redirect.host, redirect.port);
        if (redirect.kind == Redirect::kMoved) {
          if (redirect.slot >= 0 && redirect.slot < kSlotCount) {
            slots_[static_cast<std::size_t>(redirect.slot)].store(intern(&to, {}),
                                                                  std::memory_order_release);
          }
          note_stale(&reply);
        }
        asking = redirect.kind == Redirect::kAsk;
        replica = false;
        target = &to;
        continue;
      }
      case Redirect::kTryAgain:
      case Redirect::kClusterDown:
      case Redirect::kLoading:
      case Redirect::kReadOnly:
        // The command was not applied. A migration in progress, a failover under way, or a
        // node that is still loading: wait a little and ask again.
        if (redirect.kind != Redirect::kTryAgain) refresh(false);
        if (!may_retry()) return reply;
        retry_later();
        continue;
      case Redirect::kNone:
        return reply;
    }
  }
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
    apply(ranges, pool->connection_options().host);
    last_refresh_ = Clock::now();
    return true;
  }
  return false;
}

bool ClusterTopology::load_from(ConnectionPool& pool, std::vector<Range>& ranges) {
  Lease lease = pool.lease();
  const std::string& host = pool.connection_options().host;
  const bool tls = pool.connection_options().tls.enabled;
  Reply shards = lease.command({"CLUSTER", "SHARDS"});
  if (shards.is_array()) {
    for (const Reply& shard : shards.elements) {
      const Reply* slots = field(shard, "slots");
      const Reply* nodes = field(shard, "nodes");
      if (slots == nullptr || nodes == nullptr || !slots->is_array() || !nodes->is_array()) {
        return false;
      }
      Range base;
      bool have_master = false;
      for (const Reply& node : nodes->elements) {
        const Reply* role = field(node, "role");
        const Reply* health = field(node, "health");
        // A tls-cluster node reports its TLS port as tls-port (and port only for a plain one).
        const Reply* tls_port = tls ? field(node, "tls-port") : nullptr;
        const Reply* port = tls_port != nullptr ? tls_port : field(node, "port");
        const Reply* ip = field(node, "ip");
        if (role == nullptr || port == nullptr || !port->is_integer() || ip == nullptr) continue;
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
      if (base.master_port == 0) continue;
      for (std::size_t i = 0; i + 1 < slots->elements.size(); i += 2) {
        Range range = base;
        range.first = static_cast<int>(slots->elements[i].integer);
        range.last = static_cast<int>(slots->elements[i + 1].integer);
        ranges.push_back(std::move(range));
      }
    }
    return true;
  }
  // Before Redis 7: [[first, last, [ip, port, id], [replica ip, port, id]...], ...].
  Reply slots = lease.command({"CLUSTER", "SLOTS"});
  if (!slots.is_array()) return false;
  for (const Reply& entry : slots.elements) {
    if (!entry.is_array() || entry.elements.size() < 3) return false;
    Range range;
    range.first = static_cast<int>(entry.elements[0].integer);
    range.last = static_cast<int>(entry.elements[1].integer);
    for (std::size_t i = 2; i < entry.elements.size(); ++i) {
      const Reply& node = entry.elements[i];
      if (!node.is_array() || node.elements.size() < 2 || !node.elements[1].is_integer()) {
        return false;
      }
      std::string node_ip = node_host(node.elements[0], host);
      const int node_port = static_cast<int>(node.elements[1].integer);
      if (i == 2) {
        range.master_host = std::move(node_ip);
        range.master_port = node_port;
      } else {
        range.replicas.emplace_back(std::move(node_ip), node_port);
      }
    }
    ranges.push_back(std::move(range));
  }
  return true;
}

void ClusterTopology::apply(const std::vector<Range>& ranges, const std::string& default_host) {
  std::vector<const Shard*> map(kSlotCount, nullptr);
  std::vector<ConnectionPool*> masters;
  for (const Range& range : ranges) {
    if (range.first < 0 || range.last >= kSlotCount || range.first > range.last) continue;
    ConnectionPool* master = &pools_.get(
        range.master_host.empty() ? default_host : range.master_host, range.master_port);
    std::vector<ConnectionPool*> replicas;
    for (const auto& [host, port] : range.replicas) {
      replicas.push_back(&pools_.get(host.empty() ? default_host : host, port));
    }
    const Shard* shard = intern(master, std::move(replicas));
    for (int slot = range.first; slot <= range.last; ++slot) {
      map[static_cast<std::size_t>(slot)] = shard;
    }
    if (std::find(masters.begin(), masters.end(), master) == masters.end()) {
      masters.push_back(master);
    }
  }
  if (masters.empty()) return;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    slots_[static_cast<std::size_t>(slot)].store(map[static_cast<std::size_t>(slot)],
                                                 std::memory_order_release);
  }
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    masters_ = masters;
  }
  any_.store(masters.front(), std::memory_order_release);
}

}  // namespace rediscache::detail
