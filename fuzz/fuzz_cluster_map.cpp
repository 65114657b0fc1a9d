// Slot maps from arbitrary replies: the fuzz bytes build a Reply tree (integers, strings from a
// dictionary of the words the parsers look for, arrays, nil, errors), which both parsers must
// take without a crash, returning only usable ranges (slots in 0..16383, ports in 1..65535).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "rediscache/net/reply.hpp"
#include "topology/cluster_topology.hpp"

namespace {

using rediscache::Reply;
using rediscache::ReplyType;

class Builder {
 public:
  Builder(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}

  Reply next(int depth) {
    Reply r;
    const std::uint8_t op = byte();
    switch (op % 6) {
      case 0:
        r.type = ReplyType::kInteger;
        r.integer = small_or_big(op);
        break;
      case 1:
      case 2: {
        static const char* const kWords[] = {"slots",     "nodes",  "ip",      "port",   "role",
                                             "health",    "master", "replica", "online", "failed",
                                             "127.0.0.1", "?",      "",        "id"};
        r.type = ReplyType::kString;
        r.str = kWords[byte() % (sizeof kWords / sizeof kWords[0])];
        break;
      }
      case 3: {
        r.type = ReplyType::kArray;
        if (depth > 6) break;
        const int count = byte() % 9;
        for (int i = 0; i < count && p_ != end_; ++i) r.elements.push_back(next(depth + 1));
        break;
      }
      case 4:
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
  long long small_or_big(std::uint8_t op) {
    if ((op & 0x80U) == 0) {
      const int pick = byte();
      static const long long kEdges[] = {0, 1, 16383, 16384, -1, 65535, 65536, 7000, 7001};
      return pick < 64 ? pick * 256 + byte() : kEdges[pick % 9];
    }
    long long v = 0;
    const std::size_t n = std::min<std::size_t>(8, static_cast<std::size_t>(end_ - p_));
    std::memcpy(&v, p_, n);
    p_ += n;
    return v;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

void check(const rediscache::detail::ClusterMapParse& parsed) {
  for (const auto& range : parsed.ranges) {
    if (range.first < 0 || range.last >= rediscache::detail::kSlotCount || range.first > range.last)
      std::abort();
    if (range.master_port < 1 || range.master_port > 65535) std::abort();
    for (const auto& replica : range.replicas) {
      if (replica.second < 1 || replica.second > 65535) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Builder builder(data, size);
  const Reply reply = builder.next(0);
  check(rediscache::detail::parse_cluster_shards(reply, "127.0.0.1"));
  check(rediscache::detail::parse_cluster_slots(reply, "127.0.0.1"));
  return 0;
}
