// The small messages other processes send us: sentinel replies (`SENTINEL
// get-master-addr-by-name`, `ROLE`) as Reply trees built from the bytes, and invalidation
// payloads as the raw bytes. Never a crash or an exception; an address the parser accepts is
// one a connection pool accepts too; a decoded invalidation views its payload and encodes back
// to it.
//
// Input: byte 0 selects the target (mod 3: sentinel replies, invalidation payload, pub/sub frame).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/subscriber_frame.hpp"
#include "near/invalidation_message.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/util/errors.hpp"
#include "reply_tree_builder.hpp"
#include "topology/sentinel_topology.hpp"

namespace {

void check_sentinel(const std::uint8_t* data, std::size_t size) {
  rediscache::fuzz::ReplyTreeBuilder builder(
      data, size,
      {"master", "slave", "sentinel", "127.0.0.1", "::1", "6379", "0", "65535", "65536", "-1", "+1",
       " 1", "1 ", "", "a b", "99999999999999999999"},
      {0, 1, -1, 6379, 65535, 65536}, 4);
  const rediscache::Reply reply = builder.next();
  (void)rediscache::detail::is_master_role(reply);
  const auto address = rediscache::detail::parse_master_address(reply);
  if (!address) return;
  rediscache::ConnectionOptions options;
  options.host = address->host;
  options.port = address->port;
  try {
    options.validate();
  } catch (...) {
    std::abort();  // an address from a sentinel must never make a pool throw
  }
}

void check_invalidation(const std::uint8_t* data, std::size_t size) {
  using rediscache::detail::InvalidationKind;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto message = rediscache::detail::decode_invalidation(payload);
  const char* begin = payload.data();
  const char* end = begin + payload.size();
  if (!message.subject.empty() &&
      (message.subject.data() < begin || message.subject.data() + message.subject.size() > end)) {
    std::abort();  // the subject must view the payload
  }
  switch (message.kind) {
    case InvalidationKind::kKey:
      if (rediscache::detail::encode_key_invalidation(message.subject) != payload) std::abort();
      break;
    case InvalidationKind::kPrefix:
      if (rediscache::detail::encode_prefix_invalidation(message.subject) != payload) std::abort();
      break;
    case InvalidationKind::kFlush:
      if (rediscache::detail::encode_flush_invalidation() != payload) std::abort();
      break;
    case InvalidationKind::kMalformed:
      if (!message.subject.empty()) std::abort();
      break;
  }
}

// A pub/sub frame (client tracking's invalidations among them) becomes a Message or a
// ProtocolError, nothing else.
void check_subscriber_frame(const std::uint8_t* data, std::size_t size) {
  rediscache::fuzz::ReplyTreeBuilder builder(
      data, size,
      {"message", "pmessage", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "pong",
       "__redis__:invalidate", "", "k"},
      {0, 1, -1, 3}, 5);
  try {
    (void)rediscache::detail::parse_subscriber_frame(builder.next(), "127.0.0.1:6379");
  } catch (const rediscache::ProtocolError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 3) {
    case 0:
      check_sentinel(data + 1, size - 1);
      break;
    case 1:
      check_invalidation(data + 1, size - 1);
      break;
    default:
      check_subscriber_frame(data + 1, size - 1);
      break;
  }
  return 0;
}
