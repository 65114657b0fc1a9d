// The envelope of a cache entry in Redis: a fixed 24-byte header, then the codec's payload,
// zstd-compressed when that pays. The header lets formats evolve, marks compression and "not
// found", carries what refresh-ahead and stale serving need, and a checksum of the entry.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rediscache::detail {

/// Header layout (little endian), format version 2 (written):
///   byte 0      magic 0xCA
///   byte 1      format version (2)
///   byte 2      flags: bit 0 payload is a zstd frame, bit 1 "not found" (no payload), bit 2
///               tagged (a tag section follows the header)
///   byte 3      reserved, 0
///   bytes 4-11  logical expiry, int64 milliseconds since the Unix epoch; 0 = never
///   bytes 12-15 load time of the value, uint32 microseconds (saturating), for XFetch
///   bytes 16-23 checksum: hash64 (util/hash64.hpp) of the payload as stored, seeded with
///               hash64 of bytes 0-15, so a truncated entry or a flipped byte anywhere is caught
/// Tag section (flag bit 2), between the header and the payload, covered by the checksum:
///   8 bytes     the tag clock read before the value was loaded (TagSpace): the entry is valid
///               while no tag's invalidation stamp is above it
///   1 byte      tag count, 1..kMaxEntryTags; then per tag: 1 byte length (1..kMaxTagBytes) and
///               the tag's bytes
/// Readers of before tags treat a tagged entry as corrupt (unknown flag): deleted and reloaded.
/// Version 1 (written before 0.x hardening) is the same without bytes 16-23; it is still read,
/// without a check, so a rolling upgrade keeps its entries (an older reader treats version 2 as
/// corrupt: counted, deleted, reloaded).
inline constexpr std::size_t kEntryHeaderSize = 24;
inline constexpr std::size_t kEntryHeaderSizeV1 = 16;
inline constexpr std::uint8_t kEntryMagic = 0xCA;
inline constexpr std::uint8_t kEntryFormatVersion = 2;
/// A compressed payload may inflate to at most this many times the entry's size (plus
/// kMaxInflationSlack): the writer stores a payload that compresses better than this plain, and
/// the reader refuses a frame that claims more before allocating, so a small planted entry cannot
/// cost a reader more than a small multiple of an honest entry of its size.
inline constexpr std::size_t kMaxCompressionRatio = 256;
inline constexpr std::size_t kMaxInflationSlack = 4096;
/// Bounds of an entry's tags (LoadContext::set_tags, CacheAside::set): what the one-byte fields
/// of the tag section hold.
inline constexpr std::size_t kMaxEntryTags = 32;
inline constexpr std::size_t kMaxTagBytes = 200;

/// What the header says about an entry.
struct EntryMeta {
  bool negative = false;                       ///< A cached "not found".
  bool compressed = false;                     ///< Set by encode_entry; ignored on input.
  std::int64_t expires_at_ms = 0;              ///< Logical expiry; 0 = never.
  std::uint32_t load_time_us = 0;              ///< How long the load took.
  std::size_t header_size = kEntryHeaderSize;  ///< Where the payload starts (set on input).
  /// The entry's tags (none: untagged) and the tag clock before its load (see TagSpace).
  std::vector<std::string> tags;
  std::uint64_t tag_clock = 0;
};

/// `expires_at_ms - now_ms`, saturated to the range of int64 milliseconds: a header from Redis
/// may hold any value (INT64_MIN included), and the difference must never wrap.
std::chrono::milliseconds remaining_lifetime(std::int64_t expires_at_ms,
                                             std::int64_t now_ms) noexcept;

/// `a + b` clamped to the int64 range: expiry arithmetic on a header from Redis never wraps.
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b < 0 ? std::numeric_limits<std::int64_t>::min()
               : std::numeric_limits<std::int64_t>::max();
}

/// Compression settings for encode_entry.
struct CompressionSettings {
  std::optional<std::size_t> threshold;  ///< Compress payloads of at least this size.
  int level = 3;                         ///< zstd level.
};

/// Header + tag section (when meta.tags is not empty: each 1..kMaxTagBytes, at most
/// kMaxEntryTags, checked by the caller) + payload; the payload is compressed when it reaches the
/// threshold and compression makes it smaller. Throws std::bad_alloc only.
std::string encode_entry(const EntryMeta& meta, std::string_view payload,
                         const CompressionSettings& compression);

/// Reads the header and checks the entry's checksum. Throws CodecError for a value that is not an
/// entry (wrong magic, unknown format version, too short, flags we do not know) or whose
/// checksum does not match (truncated, damaged).
EntryMeta decode_entry_header(std::string_view entry);

/// The payload as stored (compressed or not), without a copy: the bytes after the header.
inline std::string_view entry_body(std::string_view entry, const EntryMeta& meta) noexcept {
  return entry.substr(meta.header_size);
}

/// The payload, decompressed if needed. Throws CodecError for a damaged or oversized frame
/// (decompressed size above `max_payload_bytes` or above kMaxCompressionRatio times the entry),
/// or a frame without zstd's content checksum (the writer always adds one).
std::string decode_entry_payload(std::string_view entry, const EntryMeta& meta,
                                 std::size_t max_payload_bytes);

}  // namespace rediscache::detail
