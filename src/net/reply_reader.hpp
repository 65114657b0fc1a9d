// ReplyReader: RESP2 bytes in, Reply values out. hiredis's redisReader does the parsing (the only
// part of hiredis rediscache uses); its reply-object hooks build straight into Reply, with the
// limits that untrusted bytes need: bounded up-front allocation, bounded nesting, no RESP3.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "rediscache/net/reply.hpp"

struct redisReader;

namespace rediscache::detail {

/// Incremental RESP2 parser. Not thread-safe. Once it reports an error it stays failed (the
/// stream cannot be resynchronised).
class ReplyReader {
 public:
  /// Elements an array header may make the reader reserve before they arrive; larger arrays
  /// grow as their elements come in, so `*2147483647` costs what its bytes cost, not 150 GB.
  static constexpr std::size_t kMaxReservedElements = 1024;
  /// Arrays nested deeper than this are a protocol error (Redis's deepest replies nest 4-5).
  static constexpr int kMaxDepth = 7;
  /// Array lengths above this are impossible (Redis collections hold at most 2^32 elements).
  static constexpr unsigned long long kMaxElements = 4294967295ULL;
  /// Bytes of one unfinished element the reader buffers before calling the stream hostile:
  /// Redis's largest bulk string (proto-max-bulk-len, 512 MiB) plus its header. hiredis buffers
  /// a bulk string whole before handing it over, so `$4294967297` would otherwise make it hold
  /// 4 GiB of whatever the server sends.
  static constexpr std::size_t kMaxBufferedBytes = (std::size_t{512} << 20) + 64;

  enum class Result { kReply, kIncomplete, kError };

  /// Throws IoError if the parser cannot be allocated. `max_buffered_bytes`: see
  /// kMaxBufferedBytes (smaller in tests).
  explicit ReplyReader(std::size_t max_buffered_bytes = kMaxBufferedBytes);
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  /// Appends bytes read from the server. Returns false when they cannot be buffered (out of
  /// memory, or more than max_buffered_bytes of one unfinished element); the reader is then
  /// failed.
  [[nodiscard]] bool feed(const char* data, std::size_t len) noexcept;
  /// Moves the next complete reply into `out` (kReply), or says more bytes are needed
  /// (kIncomplete) or that the stream is malformed or hostile (kError, see error()).
  Result next(Reply& out) noexcept;
  /// Why next() returned kError.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  /// What the reply hooks share with the reader (public for the hooks in the .cpp file).
  struct State {
    Reply root;                   // the top-level reply is built here
    const char* error = nullptr;  // set by a hook that refuses an element
  };

 private:
  struct ReaderDeleter {
    void operator()(redisReader* reader) const noexcept;
  };
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
  State state_;
  std::string error_;
  std::size_t max_buffered_;
  bool over_limit_ = false;
};

}  // namespace rediscache::detail
