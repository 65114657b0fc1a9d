#include "topology/sentinel_topology.hpp"

#include <string>
#include <utility>

#include "net/multiplexer.hpp"
#include "net/pool_state.hpp"
#include "net/tls.hpp"
#include "rediscache/util/errors.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

namespace {
using Clock = std::chrono::steady_clock;

const TlsOptions& sentinel_tls_options(const SentinelOptions& options) {
  return options.sentinel_tls ? *options.sentinel_tls : options.connection.tls;
}

// A host a resolver may be given: a name or an IP address (IPv6 with a zone id included), never
// bytes that would be cut at a NUL or read as something else.
bool plausible_host(const std::string& host) noexcept {
  constexpr std::size_t kMaxHost = 255;  // the longest DNS name
  if (host.empty() || host.size() > kMaxHost) return false;
  for (const char c : host) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '/') return false;
  }
  return true;
}
}  // namespace

std::optional<ServerAddress> parse_master_address(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() != 2) return std::nullopt;
  const Reply& host = reply.elements[0];
  const Reply& port = reply.elements[1];
  if (!host.is_string() || !port.is_string() || !plausible_host(host.str)) return std::nullopt;
  ServerAddress address;
  std::string ignored;
  if (!split_host_port(":" + port.str, ignored, address.port)) return std::nullopt;
  address.host = host.str;
  return address;
}

bool is_master_role(const Reply& reply) noexcept {
  return reply.is_array() && !reply.elements.empty() && reply.elements[0].is_string() &&
         reply.elements[0].str == "master";
}

SentinelTopology::SentinelTopology(SentinelOptions options)
    : options_(std::move(options)),
      sentinel_tls_(sentinel_tls_options(options_).enabled
                        ? make_tls_context(sentinel_tls_options(options_))
                        : nullptr),
      pools_(options_.connection, options_.pool) {
  if (!resolve(true)) {
    throw IoError("redis sentinel: no sentinel named a reachable master '" + options_.master_name +
                  "'");
  }
  refresher_.emplace(options_.refresh_interval, every_round([this] { resolve(false); }));
}

SentinelTopology::~SentinelTopology() {
  // Before the pools it reads go. A resolution in progress ends within the connect and
  // command timeouts.
  refresher_.reset();
}

std::optional<ServerAddress> SentinelTopology::ask_sentinel(const ServerAddress& sentinel) const {
  ConnectionOptions options;
  options.host = sentinel.host;
  options.port = sentinel.port;
  options.user = options_.sentinel_user;
  options.password = options_.sentinel_password;
  options.connect_timeout = options_.connection.connect_timeout;
  options.command_timeout = options_.connection.command_timeout;
  options.tls = sentinel_tls_options(options_);
  Connection connection(options, sentinel_tls_);
  return parse_master_address(
      connection.command({"SENTINEL", "get-master-addr-by-name", options_.master_name}));
}

bool SentinelTopology::resolve(bool force) {
  std::lock_guard<std::mutex> lock(resolve_mu_);
  const auto now = Clock::now();
  if (!force && now - last_resolve_ < std::chrono::milliseconds(50)) return true;
  last_resolve_ = now;
  for (const ServerAddress& sentinel : options_.sentinels) {
    try {
      const std::optional<ServerAddress> named = ask_sentinel(sentinel);
      if (!named) continue;  // no master known, or a reply no sentinel would send
      // A sentinel can name the new master a moment before it has taken the role, or name an
      // old one it has not yet heard has failed: ROLE on the node itself decides.
      ConnectionPool& candidate = pools_.get(named->host, named->port);
      if (!is_master_role(candidate.lease().command({"ROLE"}))) continue;
      ConnectionPool* previous = master_.exchange(&candidate, std::memory_order_acq_rel);
      if (previous != nullptr && previous != &candidate) previous->drain();
      return true;
    } catch (const Error&) {
      continue;  // this sentinel or the node it named is unreachable: ask the next sentinel
    }
  }
  return false;
}

Reply SentinelTopology::execute(int /*slot*/, const Command& command,
                                std::optional<std::chrono::milliseconds> block,
                                const std::string** endpoint) {
  int attempt = 0;
  std::optional<Clock::time_point> deadline;
  const auto may_retry = [&] {
    const auto now = Clock::now();
    if (!deadline) deadline = detail::saturating_deadline(now, options_.retry_timeout);
    return now < *deadline;
  };
  for (;;) {
    ConnectionPool& pool = any_pool();
    *endpoint = &pool.endpoint();
    Reply reply;
    try {
      // A free pooled connection, or the master's shared connection once all are busy
      // (PoolOptions::multiplex); a failover switches pools, so both follow the master.
      std::optional<Lease> lease;
      try {
        lease = PoolAccess::lease_or_share(pool, command.may_share(block.has_value()));
      } catch (const IoError& e) {
        throw NotSentError(e.what());
      }
      if (!lease) {
        reply = PoolAccess::state(pool).multiplexer->command(command.argv);
      } else {
        if (block) {
          lease->set_read_timeout(
              blocking_read_timeout(*block, pool.connection_options().command_timeout));
        }
        Connection& connection = LeaseAccess::connection(*lease);
        command.append_to(connection);
        reply = command.read_from(connection);
        if (block) lease->set_read_timeout(std::nullopt);
      }
    } catch (const NotSentError&) {
      resolve(false);  // nothing was sent: find the master and try again
      if (!may_retry()) throw;
      backoff_sleep(attempt++, *deadline);
      continue;
    } catch (const IoError&) {
      note_stale(nullptr);
      // A write may have been applied: only reads are sent again.
      if (!is_read_only_command(command.name) || !may_retry()) throw;
      backoff_sleep(attempt++, *deadline);
      resolve(false);
      continue;
    }
    const Redirect redirect = parse_redirect(reply);
    if (redirect.kind == Redirect::kReadOnly || redirect.kind == Redirect::kLoading) {
      // A demoted master refused a write (not applied), or the node is loading: re-resolve.
      resolve(false);
      if (!may_retry()) return reply;
      backoff_sleep(attempt++, *deadline);
      continue;
    }
    return reply;
  }
}

void SentinelTopology::note_stale(const Reply* /*redirect*/) noexcept {
  if (refresher_) refresher_->wake();
}

}  // namespace rediscache::detail
