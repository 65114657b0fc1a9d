// RESP bytes from a hostile server, fed to the reply reader in chunks: never a crash, bounded
// allocation (no array reserves more than the cap ahead of the elements that came), bounded
// nesting, a failed reader stays failed, and the replies do not depend on how the bytes were cut
// into reads (the same stream fed whole gives the same replies).
//
// Input: byte 0 picks the chunk sizes' seed; the rest is the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "net/reply_reader.hpp"

namespace {

using rediscache::Reply;
using rediscache::detail::ReplyReader;

void check_bounded(const Reply& reply, int depth) {
  if (depth > ReplyReader::kMaxDepth) std::abort();
  if (!reply.is_array() && !reply.elements.empty()) std::abort();
  // Vectors grow by doubling from the capped reservation: anything more was reserved from a
  // header's count, which the cap forbids.
  const std::size_t allowed =
      std::max<std::size_t>(ReplyReader::kMaxReservedElements, 2 * reply.elements.size());
  if (reply.elements.capacity() > allowed) std::abort();
  for (const Reply& element : reply.elements) check_bounded(element, depth + 1);
}

bool same(const Reply& a, const Reply& b) {
  if (a.type != b.type || a.integer != b.integer || a.str != b.str ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

// Every reply the stream yields, and whether it ended in an error.
struct Outcome {
  std::vector<Reply> replies;
  bool failed = false;
};

Outcome read_all(const std::uint8_t* data, std::size_t size, std::uint8_t seed) {
  ReplyReader reader;
  Outcome out;
  std::size_t at = 0;
  std::uint32_t state = seed * 2654435761U + 1;
  while (at < size && !out.failed) {
    std::size_t chunk = size - at;
    if (seed != 0) {  // seed 0: the whole stream in one feed
      state = state * 1103515245U + 12345U;
      chunk = std::min<std::size_t>(chunk, 1 + (state >> 16) % 17);
    }
    if (!reader.feed(reinterpret_cast<const char*>(data + at), chunk)) {
      out.failed = true;
      break;
    }
    at += chunk;
    for (;;) {
      Reply reply;
      const ReplyReader::Result result = reader.next(reply);
      if (result == ReplyReader::Result::kIncomplete) break;
      if (result == ReplyReader::Result::kError) {
        if (reader.error().empty()) std::abort();
        // Failed for good: no more replies, whatever comes.
        Reply again;
        if (reader.next(again) != ReplyReader::Result::kError) std::abort();
        out.failed = true;
        break;
      }
      check_bounded(reply, 0);
      out.replies.push_back(std::move(reply));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const Outcome chunked = read_all(data + 1, size - 1, seed);
  const Outcome whole = read_all(data + 1, size - 1, 0);
  if (chunked.failed != whole.failed || chunked.replies.size() != whole.replies.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    if (!same(chunked.replies[i], whole.replies[i])) std::abort();
  }
  return 0;
}
