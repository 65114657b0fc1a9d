// EntryDecoder: a cache entry's bytes into its header and its value, the one place the core and
// its near tier turn what Redis holds into the cache's T.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"
#include "rediscache/cache/cache_options.hpp"
#include "rediscache/cache/detail/cache_core.hpp"

namespace rediscache::detail {

/// An entry decoded: its header (default for EntryFormat::kPlain, which has none) and its value
/// (null for a negative entry). Immutable once built: the near tier shares one among all readers.
struct DecodedEntry {
  EntryMeta meta;
  Object value;
};

/// What one read of an entry's key found: the bytes from Redis, or the near tier's decoded copy
/// (then `raw` is empty and `from_memory` set).
struct EntryRead {
  std::optional<std::string> raw;
  std::shared_ptr<const DecodedEntry> decoded;
  bool from_memory = false;
};

/// Decodes entries of one cache (its format, codec and size limit). Thread-safe (immutable).
class EntryDecoder {
 public:
  EntryDecoder(EntryFormat format, TypeOps ops, std::size_t decode_limit) noexcept
      : format_(format), ops_(ops), decode_limit_(decode_limit) {}

  [[nodiscard]] EntryFormat format() const noexcept { return format_; }
  /// The header of `raw` (checksum checked), or a default one for a plain entry. Throws
  /// CodecError for bytes that are not an entry.
  [[nodiscard]] EntryMeta header(std::string_view raw) const;
  /// The value of `raw` whose header is `meta`: decompressed and decoded by the codec; null for
  /// a negative entry. Throws CodecError, or the codec's exception.
  [[nodiscard]] Object value(std::string_view raw, const EntryMeta& meta) const;
  /// What a decoded entry costs held in memory, in bytes: the codec's estimate of its value
  /// (TypeOps::footprint, which falls back to the encoded size `raw_size`) plus its tags.
  [[nodiscard]] std::size_t footprint(const DecodedEntry& entry,
                                      std::size_t raw_size) const noexcept;

 private:
  EntryFormat format_;
  TypeOps ops_;
  std::size_t decode_limit_;
};

}  // namespace rediscache::detail
