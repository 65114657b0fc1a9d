#include "cache/entry.hpp"

#include <memory>

#include <zstd.h>

#include "rediscache/cache/codec.hpp"

namespace rediscache::detail {
namespace {

constexpr std::uint8_t kFlagCompressed = 1U << 0U;
constexpr std::uint8_t kFlagNegative = 1U << 1U;
constexpr std::uint8_t kKnownFlags = kFlagCompressed | kFlagNegative;

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

// Compresses `payload` after `out`'s header; false when zstd fails or saves nothing.
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
  if (ZSTD_isError(n) != 0U || n >= payload.size()) {
    out.resize(header);
    return false;
  }
  out.resize(header + n);
  return true;
}

}  // namespace

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
  std::uint8_t flags = meta.negative ? kFlagNegative : 0;
  if (!meta.negative) {
    if (compression.threshold && payload.size() >= *compression.threshold &&
        append_compressed(out, payload, compression.level)) {
      flags |= kFlagCompressed;
    } else {
      out.append(payload);
    }
  }
  out[2] = static_cast<char>(flags);
  return out;
}

EntryMeta decode_entry_header(std::string_view entry) {
  if (entry.size() < kEntryHeaderSize) throw CodecError("rediscache: cache entry too short");
  if (static_cast<std::uint8_t>(entry[0]) != kEntryMagic) {
    throw CodecError("rediscache: not a cache entry (bad magic byte)");
  }
  if (static_cast<std::uint8_t>(entry[1]) != kEntryFormatVersion) {
    throw CodecError("rediscache: unknown cache entry format version");
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
  if (meta.negative && (meta.compressed || entry.size() != kEntryHeaderSize)) {
    throw CodecError("rediscache: malformed negative cache entry");
  }
  return meta;
}

std::string decode_entry_payload(std::string_view entry, const EntryMeta& meta,
                                 std::size_t max_payload_bytes) {
  const std::string_view body = entry.substr(kEntryHeaderSize);
  if (!meta.compressed) return std::string(body);
  const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    throw CodecError("rediscache: damaged compressed cache entry");
  }
  // Never inflate a (damaged or hostile) frame beyond what the cache could have stored.
  if (size > max_payload_bytes) {
    throw CodecError("rediscache: compressed cache entry inflates beyond the size limit");
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
