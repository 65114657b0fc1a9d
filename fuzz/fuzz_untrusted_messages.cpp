// The small messages other processes send us: sentinel replies (`SENTINEL
// get-master-addr-by-name`, `ROLE`) as Reply trees built from the bytes, and invalidation
// payloads as the raw bytes. Never a crash or an exception; an address the parser accepts is
// one a connection pool accepts too; a decoded invalidation views its payload and encodes back
// to it.
//
// Input: byte 0 selects the target (even: sentinel replies, odd: invalidation payload).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "near/invalidation_message.hpp"
#include "rediscache/net/connection_pool.hpp"
#include "rediscache/net/reply.hpp"
#include "topology/sentinel_topology.hpp"

namespace {

using rediscache::Reply;
using rediscache::ReplyType;

class Builder {
 public:
  Builder(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}

  Reply next(int depth) {
    Reply r;
    const std::uint8_t op = byte();
    switch (op % 7) {
      case 0:
        r.type = ReplyType::kInteger;
        r.integer = static_cast<long long>(byte()) * 257 + byte();
        break;
      case 1:
      case 2: {
        static const char* const kWords[] = {"master", "slave", "sentinel", "127.0.0.1",
                                             "::1",    "6379",  "0",        "65535",
                                             "65536",  "-1",    "+1",       " 1",
                                             "1 ",     "",      "a b",      "99999999999999999999"};
        r.type = ReplyType::kString;
        r.str = kWords[byte() % (sizeof kWords / sizeof kWords[0])];
        break;
      }
      case 3: {  // raw bytes: any host, any port text
        r.type = (op & 0x80U) != 0 ? ReplyType::kStatus : ReplyType::kString;
        const std::size_t n = byte() % 32;
        for (std::size_t i = 0; i < n && p_ != end_; ++i)
          r.str.push_back(static_cast<char>(byte()));
        break;
      }
      case 4: {
        r.type = ReplyType::kArray;
        if (depth > 6) break;
        const int count = byte() % 5;
        for (int i = 0; i < count && p_ != end_; ++i) r.elements.push_back(next(depth + 1));
        break;
      }
      case 5:
        r.type = ReplyType::kNil;
        break;
      default:
        r.type = ReplyType::kError;
        r.str = "ERR fuzz";
        break;
    }
    return r;
  }

 private:
  std::uint8_t byte() { return p_ == end_ ? 0 : *p_++; }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

void check_sentinel(const std::uint8_t* data, std::size_t size) {
  Builder builder(data, size);
  const Reply reply = builder.next(0);
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1U) == 0) {
    check_sentinel(data + 1, size - 1);
  } else {
    check_invalidation(data + 1, size - 1);
  }
  return 0;
}
