#include "cache/entry.hpp"

#include <limits>
#include <memory>

#include <zstd.h>

#include "rediscache/cache/codec.hpp"
#include "util/hash64.hpp"

namespace rediscache::detail {
namespace {

constexpr std::uint8_t kFlagCompressed = 1U << 0U;
constexpr std::uint8_t kFlagNegative = 1U << 1U;
constexpr std::uint8_t kFlagTagged = 1U << 2U;
constexpr std::uint8_t kKnownFlags = kFlagCompressed | kFlagNegative | kFlagTagged;

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFU));
  }
}

std::uint64_t get_le(std::string_view in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  return value;
}

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const noexcept { ZSTD_freeCCtx(ctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const noexcept { ZSTD_freeDCtx(ctx); }
};

// Contexts are expensive to create and not thread-safe: one per thread, reused.
ZSTD_CCtx* compression_context() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* decompression_context() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

std::size_t max_inflated_size(std::size_t entry_size) noexcept {
  return entry_size * kMaxCompressionRatio + kMaxInflationSlack;
}

std::uint64_t entry_checksum(std::string_view entry) noexcept {
  return hash64(entry.substr(kEntryHeaderSize), hash64(entry.substr(0, kEntryHeaderSizeV1)));
}

// Compresses `payload` after `out`'s header; false when zstd fails, saves nothing, or compresses
// so well that a reader would refuse to inflate it (see kMaxCompressionRatio).
bool append_compressed(std::string& out, std::string_view payload, int level) {
  ZSTD_CCtx* ctx = compression_context();
  if (ctx == nullptr) return false;
  ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  // The frame checksum turns a damaged compressed entry into a clean decode error.
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  const std::size_t header = out.size();
  out.resize(header + ZSTD_compressBound(payload.size()));
  const std::size_t n =
      ZSTD_compress2(ctx, out.data() + header, out.size() - header, payload.data(), payload.size());
  if (ZSTD_isError(n) != 0U || n >= payload.size() ||
      payload.size() > max_inflated_size(header + n)) {
    out.resize(header);
    return false;
  }
  out.resize(header + n);
  return true;
}

// The tag section after a version 2 header (bounds-checked: the checksum matched, but the bytes
// may still be another writer's). Moves meta.header_size past it.
void read_tag_section(std::string_view entry, EntryMeta& meta) {
  std::size_t at = meta.header_size;
  const auto need = [&](std::size_t n) {
    if (entry.size() - at < n) throw CodecError("rediscache: cache entry tag section truncated");
  };
  if (meta.header_size != kEntryHeaderSize) {
    throw CodecError("rediscache: tagged cache entry of format version 1");
  }
  need(9);
  meta.tag_clock = get_le(entry, at, 8);
  const auto count = static_cast<unsigned char>(entry[at + 8]);
  at += 9;
  if (count == 0 || count > kMaxEntryTags) {
    throw CodecError("rediscache: cache entry tag count out of range");
  }
  meta.tags.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    need(1);
    const auto len = static_cast<unsigned char>(entry[at]);
    ++at;
    if (len == 0 || len > kMaxTagBytes) {
      throw CodecError("rediscache: cache entry tag length out of range");
    }
    need(len);
    meta.tags.emplace_back(entry.substr(at, len));
    at += len;
  }
  meta.header_size = at;
}

}  // namespace

std::chrono::milliseconds remaining_lifetime(std::int64_t expires_at_ms,
                                             std::int64_t now_ms) noexcept {
  std::int64_t left = 0;
  if (__builtin_sub_overflow(expires_at_ms, now_ms, &left)) {
    // Only a far-future expiry minus a negative now, or a far-past one minus a positive now,
    // overflows: the sign of expires_at_ms says which way to clamp.
    left = expires_at_ms < 0 ? std::numeric_limits<std::int64_t>::min()
                             : std::numeric_limits<std::int64_t>::max();
  }
  return std::chrono::milliseconds(left);
}

std::string encode_entry(const EntryMeta& meta, std::string_view payload,
                         const CompressionSettings& compression) {
  std::string out;
  out.reserve(kEntryHeaderSize + payload.size());
  out.push_back(static_cast<char>(kEntryMagic));
  out.push_back(static_cast<char>(kEntryFormatVersion));
  out.push_back('\0');  // flags, set below
  out.push_back('\0');
  put_le(out, static_cast<std::uint64_t>(meta.expires_at_ms), 8);
  put_le(out, meta.load_time_us, 4);
  put_le(out, 0, 8);  // checksum, set below
  std::uint8_t flags = meta.negative ? kFlagNegative : 0;
  if (!meta.tags.empty()) {
    flags |= kFlagTagged;
    put_le(out, meta.tag_clock, 8);
    out.push_back(static_cast<char>(meta.tags.size()));
    for (const std::string& tag : meta.tags) {
      out.push_back(static_cast<char>(tag.size()));
      out.append(tag);
    }
  }
  if (!meta.negative) {
    if (compression.threshold && payload.size() >= *compression.threshold &&
        append_compressed(out, payload, compression.level)) {
      flags |= kFlagCompressed;
    } else {
      out.append(payload);
    }
  }
  out[2] = static_cast<char>(flags);
  const std::uint64_t checksum = entry_checksum(out);
  for (int i = 0; i < 8; ++i) {
    out[kEntryHeaderSizeV1 + i] = static_cast<char>((checksum >> (8 * i)) & 0xFFU);
  }
  return out;
}

EntryMeta decode_entry_header(std::string_view entry) {
  if (entry.size() < kEntryHeaderSizeV1) throw CodecError("rediscache: cache entry too short");
  if (static_cast<std::uint8_t>(entry[0]) != kEntryMagic) {
    throw CodecError("rediscache: not a cache entry (bad magic byte)");
  }
  const auto version = static_cast<std::uint8_t>(entry[1]);
  if (version != kEntryFormatVersion && version != 1) {
    throw CodecError("rediscache: unknown cache entry format version");
  }
  const std::size_t header_size = version == 1 ? kEntryHeaderSizeV1 : kEntryHeaderSize;
  if (entry.size() < header_size) throw CodecError("rediscache: cache entry too short");
  if (version != 1 && get_le(entry, kEntryHeaderSizeV1, 8) != entry_checksum(entry)) {
    throw CodecError("rediscache: cache entry checksum mismatch (truncated or damaged)");
  }
  const auto flags = static_cast<std::uint8_t>(entry[2]);
  if ((flags & ~kKnownFlags) != 0 || entry[3] != '\0') {
    throw CodecError("rediscache: unknown cache entry flags");
  }
  EntryMeta meta;
  meta.compressed = (flags & kFlagCompressed) != 0;
  meta.negative = (flags & kFlagNegative) != 0;
  meta.expires_at_ms = static_cast<std::int64_t>(get_le(entry, 4, 8));
  meta.load_time_us = static_cast<std::uint32_t>(get_le(entry, 12, 4));
  meta.header_size = header_size;
  if ((flags & kFlagTagged) != 0) read_tag_section(entry, meta);
  if (meta.negative && (meta.compressed || entry.size() != meta.header_size)) {
    throw CodecError("rediscache: malformed negative cache entry");
  }
  return meta;
}

std::string decode_entry_payload(std::string_view entry, const EntryMeta& meta,
                                 std::size_t max_payload_bytes) {
  const std::string_view body = entry_body(entry, meta);
  if (!meta.compressed) return std::string(body);
  const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    throw CodecError("rediscache: damaged compressed cache entry");
  }
  // Never inflate a (damaged or hostile) frame beyond what the cache could have stored, nor
  // beyond what the writer would have compressed an entry of this size from.
  if (size > max_payload_bytes || size > max_inflated_size(entry.size())) {
    throw CodecError("rediscache: compressed cache entry inflates beyond the size limit");
  }
  // RFC 8878 3.1.1: after the 4-byte magic, the frame header descriptor; bit 2 is
  // Content_Checksum_flag. (ZSTD_getFrameContentSize accepted the frame, so both bytes exist.)
  constexpr unsigned kContentChecksumFlag = 1U << 2U;
  if (body.size() < 5 || (static_cast<unsigned char>(body[4]) & kContentChecksumFlag) == 0) {
    throw CodecError("rediscache: compressed cache entry without a frame checksum");
  }
  ZSTD_DCtx* ctx = decompression_context();
  if (ctx == nullptr) throw CodecError("rediscache: cannot create a zstd context");
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompressDCtx(ctx, out.data(), out.size(), body.data(), body.size());
  if (ZSTD_isError(n) != 0U || n != out.size()) {
    throw CodecError("rediscache: damaged compressed cache entry");
  }
  return out;
}

}  // namespace rediscache::detail
