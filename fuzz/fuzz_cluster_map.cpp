// Slot maps from arbitrary replies: the fuzz bytes build a Reply tree (reply_tree_builder.hpp),
// which both parsers must take without a crash, returning only usable ranges (slots in
// 0..16383, ports in 1..65535).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "reply_tree_builder.hpp"
#include "topology/cluster_topology.hpp"

namespace {

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
  rediscache::fuzz::ReplyTreeBuilder builder(
      data, size,
      {"slots", "nodes", "ip", "port", "role", "health", "master", "replica", "online", "failed",
       "127.0.0.1", "?", "", "id"},
      {0, 1, 16383, 16384, -1, 65535, 65536, 7000, 7001}, 8);
  const rediscache::Reply reply = builder.next();
  check(rediscache::detail::parse_cluster_shards(reply, "127.0.0.1"));
  check(rediscache::detail::parse_cluster_slots(reply, "127.0.0.1"));
  return 0;
}
