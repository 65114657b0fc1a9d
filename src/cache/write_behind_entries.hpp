// The write-behind stream's entries as the flusher sees them: parsing what XREADGROUP and
// XRANGE return, and coalescing a batch to one operation per id. Pure: no Redis.
#pragma once

#include <string>
#include <vector>

#include "rediscache/cache/detail/write_behind_queue.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

/// The pieces of a stream entry we store: k (u|r), id, v (payload, upserts only).
struct Entry {
  std::string stream_id;
  bool deleted = false;  // pending but XDELed: acknowledge and skip
  bool valid = false;    // has k, id and (for an upsert) v
  RawWriteOp op;
};

/// One entry of a stream reply: [stream id, [field, value, ...]]; a nil field list is an entry
/// XDELed while pending (deleted). An empty stream_id when the reply has no such shape.
[[nodiscard]] Entry parse_entry(const Reply& reply);
/// Every entry of an array of entries, skipping items without a stream id.
[[nodiscard]] std::vector<Entry> parse_entries(const Reply& list);
/// The milliseconds part of a stream id ("1700000000000-3"); 0 when it is not a number.
[[nodiscard]] long long id_millis(const std::string& id);

/// A batch coalesced: one operation per id (the latest), with every entry it covers.
struct Batch {
  std::vector<RawWriteOp> ops;
  std::vector<std::vector<const Entry*>> covers;  // per op, in stream order; last = the op's
};
/// Coalesces the valid entries of `entries` (which must outlive the result): ops in the order
/// of each id's first entry, each the id's latest operation.
[[nodiscard]] Batch coalesce(const std::vector<Entry>& entries);

}  // namespace rediscache::detail
