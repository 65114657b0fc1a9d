#include "rediscache/near/near_cached_client.hpp"

#include <utility>
#include <vector>

#include "net/connection.hpp"
#include "rediscache/client/pipeline.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache {

namespace {

void throw_if_error(const Client& client, std::string_view command, const Reply& reply) {
  if (reply.is_error()) detail::throw_reply_error(client.endpoint(), command, reply);
}

}  // namespace

NearCachedClient::NearCachedClient(Client client, NearTierOptions options)
    : client_(std::move(client)),
      cache_(std::make_shared<NearCache>(std::move(options.cache))),
      publisher_(client_, options.invalidation.channel),
      listener_(std::make_unique<InvalidationListener>(client_, cache_,
                                                       std::move(options.invalidation))) {}

NearCachedClient::~NearCachedClient() = default;

bool NearCachedClient::publishes_keys() const noexcept {
  // Server-assisted tracking announces every write by itself; publish whenever that is not
  // certain (pub/sub mode, or not decided yet).
  return listener_->mode() != InvalidationMode::kServerAssisted;
}

std::optional<std::string> NearCachedClient::get(std::string_view key) {
  if (std::optional<std::string> local = cache_->get(key)) return local;
  NearCache::Fetch fetch = cache_->begin_fetch(key);
  Pipeline pipeline = client_.pipeline();
  pipeline.get(key);
  pipeline.command({"PTTL", key});
  std::vector<Reply> replies = pipeline.exec();
  throw_if_error(client_, "GET", replies[0]);
  throw_if_error(client_, "PTTL", replies[1]);
  if (!replies[0].is_string()) return std::nullopt;  // missing: not cached
  const long long pttl = replies[1].integer;
  if (pttl == kTtlNoExpiry) {
    cache_->complete(fetch, replies[0].str, std::nullopt);
  } else if (pttl > 0) {
    cache_->complete(fetch, replies[0].str, std::chrono::milliseconds(pttl));
  }  // kTtlKeyMissing: deleted between GET and PTTL; nothing to keep
  return std::move(replies[0].str);
}

bool NearCachedClient::set(std::string_view key, std::string_view value,
                           const SetOptions& options) {
  // Drop the local copy before the write (so this process stops serving the old value) and
  // after it (so a fetch that raced with the write cannot keep it).
  cache_->invalidate(key);
  Pipeline pipeline = client_.pipeline();
  pipeline.set(key, value, options);
  const bool announce = publishes_keys();
  if (announce) publisher_.append_key(pipeline, key);
  std::vector<Reply> replies = pipeline.exec();
  cache_->invalidate(key);
  throw_if_error(client_, "SET", replies[0]);
  if (announce) throw_if_error(client_, "PUBLISH", replies[1]);
  return !replies[0].is_nil();
}

long long NearCachedClient::del(ArgList keys) {
  if (keys.empty()) return 0;
  for (std::size_t i = 0; i < keys.size(); ++i) cache_->invalidate(keys[i]);
  Pipeline pipeline = client_.pipeline();
  // One DEL per key: on a cluster the keys may live in different slots, and a pipeline routes
  // each command by its key. Still one round trip (per node).
  for (std::size_t i = 0; i < keys.size(); ++i) pipeline.del({keys[i]});
  const bool announce = publishes_keys();
  if (announce) {
    for (std::size_t i = 0; i < keys.size(); ++i) publisher_.append_key(pipeline, keys[i]);
  }
  std::vector<Reply> replies = pipeline.exec();
  for (std::size_t i = 0; i < keys.size(); ++i) cache_->invalidate(keys[i]);
  long long deleted = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const bool is_del = i < keys.size();
    throw_if_error(client_, is_del ? "DEL" : "PUBLISH", replies[i]);
    if (is_del) deleted += replies[i].integer;
  }
  return deleted;
}

void NearCachedClient::invalidate_prefix(std::string_view prefix) {
  cache_->invalidate_prefix(prefix);
  publisher_.prefix(prefix);
}

}  // namespace rediscache
