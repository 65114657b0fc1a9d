// The envelope of a cache entry in Redis: a fixed 16-byte header, then the codec's payload,
// zstd-compressed when that pays. The header lets formats evolve, marks compression and "not
// found", and carries what refresh-ahead and stale serving need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rediscache::detail {

/// Header layout (little endian):
///   byte 0      magic 0xCA
///   byte 1      format version (1)
///   byte 2      flags: bit 0 payload is a zstd frame, bit 1 "not found" (no payload)
///   byte 3      reserved, 0
///   bytes 4-11  logical expiry, int64 milliseconds since the Unix epoch; 0 = never
///   bytes 12-15 load time of the value, uint32 microseconds (saturating), for XFetch
inline constexpr std::size_t kEntryHeaderSize = 16;
inline constexpr std::uint8_t kEntryMagic = 0xCA;
inline constexpr std::uint8_t kEntryFormatVersion = 1;

/// What the header says about an entry.
struct EntryMeta {
  bool negative = false;           ///< A cached "not found".
  bool compressed = false;         ///< Set by encode_entry; ignored on input.
  std::int64_t expires_at_ms = 0;  ///< Logical expiry; 0 = never.
  std::uint32_t load_time_us = 0;  ///< How long the load took.
};

/// Compression settings for encode_entry.
struct CompressionSettings {
  std::optional<std::size_t> threshold;  ///< Compress payloads of at least this size.
  int level = 3;                         ///< zstd level.
};

/// Header + payload; the payload is compressed when it reaches the threshold and compression
/// makes it smaller. Throws std::bad_alloc only.
std::string encode_entry(const EntryMeta& meta, std::string_view payload,
                         const CompressionSettings& compression);

/// Reads only the header. Throws CodecError for a value that is not an entry (wrong magic,
/// unknown format version, too short, flags we do not know).
EntryMeta decode_entry_header(std::string_view entry);

/// The payload, decompressed if needed. Throws CodecError for a damaged or oversized frame
/// (decompressed size above `max_payload_bytes`).
std::string decode_entry_payload(std::string_view entry, const EntryMeta& meta,
                                 std::size_t max_payload_bytes);

}  // namespace rediscache::detail
