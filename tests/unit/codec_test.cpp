// Codec<T>: JSON by default, raw bytes for strings, pluggable; the entry envelope around it.
#include "rediscache/cache/codec.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zstd.h>

#include "cache/entry.hpp"

namespace {

struct User {
  int id = 0;
  std::string name;
  std::vector<std::string> tags;
  friend bool operator==(const User& a, const User& b) {
    return a.id == b.id && a.name == b.name && a.tags == b.tags;
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, tags)

struct Upper {
  std::string text;
};

}  // namespace

template <>
struct rediscache::Codec<Upper> {
  static std::string encode(const Upper& v) { return "U" + v.text; }
  static Upper decode(std::string_view b) {
    if (b.empty() || b[0] != 'U') throw CodecError("not an Upper");
    return Upper{std::string(b.substr(1))};
  }
};

namespace {

using rediscache::Codec;
using rediscache::CodecError;

TEST(Codec, Json_UserType_RoundTrips) {
  const User user{42, "Ada \xC3\xA9", {"a", "b"}};
  const std::string bytes = Codec<User>::encode(user);
  EXPECT_EQ(bytes, R"({"id":42,"name":"Ada é","tags":["a","b"]})");
  EXPECT_EQ(Codec<User>::decode(bytes), user);
}

TEST(Codec, Json_BuiltinsAndContainers_RoundTrip) {
  EXPECT_EQ(Codec<int>::decode(Codec<int>::encode(-7)), -7);
  const std::map<std::string, double> m{{"x", 1.5}};
  EXPECT_EQ((Codec<std::map<std::string, double>>::decode(
                Codec<std::map<std::string, double>>::encode(m))),
            m);
}

TEST(Codec, Json_Malformed_ThrowsCodecError) {
  EXPECT_THROW(Codec<User>::decode("{not json"), CodecError);
  EXPECT_THROW(Codec<User>::decode(R"({"id":"x"})"), CodecError);  // older/other schema
  EXPECT_THROW(Codec<int>::decode(""), CodecError);
}

TEST(Codec, String_RawBytes_BinarySafe) {
  const std::string raw("a\0b\r\n\xff", 6);
  EXPECT_EQ(Codec<std::string>::encode(raw), raw);
  EXPECT_EQ(Codec<std::string>::decode(raw), raw);
}

TEST(Codec, Specialisation_UsedForUserType) {
  EXPECT_EQ(Codec<Upper>::encode(Upper{"x"}), "Ux");
  EXPECT_EQ(Codec<Upper>::decode("Uy").text, "y");
  EXPECT_THROW(Codec<Upper>::decode("y"), CodecError);
}

// --- Entry envelope -------------------------------------------------------------------------

using rediscache::detail::CompressionSettings;
using rediscache::detail::decode_entry_header;
using rediscache::detail::decode_entry_payload;
using rediscache::detail::encode_entry;
using rediscache::detail::EntryMeta;

// JSON records as a cache holds them: compressible (about 5-10x), not pathologically so.
std::string records(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    out += R"({"id":)" + std::to_string(i * 7919 % 100003) + R"(,"name":"user-)" +
           std::to_string(i) + R"(","active":true},)";
  }
  out.back() = ']';
  return out;
}

TEST(Entry, Plain_RoundTripsHeaderAndPayload) {
  EntryMeta meta;
  meta.expires_at_ms = 1'800'000'000'123;
  meta.load_time_us = 4567;
  const std::string entry = encode_entry(meta, "hello", CompressionSettings{});
  ASSERT_EQ(entry.size(), rediscache::detail::kEntryHeaderSize + 5);
  const EntryMeta back = decode_entry_header(entry);
  EXPECT_FALSE(back.compressed);
  EXPECT_FALSE(back.negative);
  EXPECT_EQ(back.expires_at_ms, meta.expires_at_ms);
  EXPECT_EQ(back.load_time_us, 4567u);
  EXPECT_EQ(decode_entry_payload(entry, back, 1 << 20), "hello");
}

TEST(Entry, AboveThreshold_CompressedAndSmaller) {
  const std::string payload = records(3000);
  const std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1024, 3});
  const EntryMeta meta = decode_entry_header(entry);
  EXPECT_TRUE(meta.compressed);
  EXPECT_LT(entry.size(), payload.size() / 3);
  EXPECT_EQ(decode_entry_payload(entry, meta, 1 << 20), payload);
}

TEST(Entry, Incompressible_StaysPlain) {
  std::string payload;
  for (int i = 0; i < 4096; ++i) payload.push_back(static_cast<char>((i * 7919 + i / 3) % 251));
  const std::string small = encode_entry(EntryMeta{}, "tiny", CompressionSettings{1024, 3});
  EXPECT_FALSE(decode_entry_header(small).compressed);  // below the threshold
  const std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1024, 3});
  const EntryMeta meta = decode_entry_header(entry);
  EXPECT_EQ(decode_entry_payload(entry, meta, 1 << 20), payload);
}

TEST(Entry, Negative_HasNoPayload) {
  EntryMeta meta;
  meta.negative = true;
  const std::string entry = encode_entry(meta, "", CompressionSettings{0, 3});
  EXPECT_TRUE(decode_entry_header(entry).negative);
  EXPECT_EQ(entry.size(), rediscache::detail::kEntryHeaderSize);
}

TEST(Entry, Garbage_ThrowsCodecError) {
  EXPECT_THROW(decode_entry_header(""), CodecError);
  EXPECT_THROW(decode_entry_header("{\"id\":1,\"name\":\"plain json\"}"), CodecError);
  std::string entry = encode_entry(EntryMeta{}, "x", CompressionSettings{});
  entry[1] = 99;  // a format version we do not know
  EXPECT_THROW(decode_entry_header(entry), CodecError);
}

TEST(Entry, DamagedCompressedFrame_ThrowsCodecError) {
  const std::string payload = records(1500);
  std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1, 3});
  const EntryMeta meta = decode_entry_header(entry);
  ASSERT_TRUE(meta.compressed);
  entry[entry.size() - 6] = static_cast<char>(entry[entry.size() - 6] ^ 0x5A);
  EXPECT_THROW(decode_entry_header(entry), CodecError);  // the entry checksum sees it first
  EXPECT_THROW(decode_entry_payload(entry, meta, 1 << 20), CodecError);
  // A frame that would inflate beyond the limit is refused before allocating.
  const std::string ok = encode_entry(EntryMeta{}, payload, CompressionSettings{1, 3});
  EXPECT_THROW(decode_entry_payload(ok, decode_entry_header(ok), 1000), CodecError);
}

}  // namespace

TEST(Entry, PlainEntryTruncatedOrFlipped_ChecksumMismatchCodecError) {
  EntryMeta meta;
  meta.expires_at_ms = 1'800'000'000'123;
  const std::string entry = encode_entry(meta, R"({"id":12345,"name":"alice"})", {});
  ASSERT_NO_THROW(decode_entry_header(entry));
  EXPECT_THROW(decode_entry_header(entry.substr(0, entry.size() - 1)), CodecError);
  for (std::size_t i = 0; i < entry.size(); ++i) {
    if (i == 1 || i == 2 || i == 3) continue;  // version and flags: refused for their own reasons
    std::string flipped = entry;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_THROW(decode_entry_header(flipped), CodecError) << "byte " << i;
  }
}

TEST(Entry, FormatVersion1_StillReadWithoutCheck) {
  // A version-1 entry as 0.x wrote it: the 16-byte header, then the payload.
  std::string v1;
  v1.push_back(static_cast<char>(0xCA));
  v1.push_back(1);
  v1.append(2, '\0');
  v1.append(8, '\0');  // never expires
  v1.append(4, '\0');
  v1.append("hello");
  const EntryMeta meta = decode_entry_header(v1);
  EXPECT_EQ(meta.header_size, rediscache::detail::kEntryHeaderSizeV1);
  EXPECT_EQ(decode_entry_payload(v1, meta, 1 << 20), "hello");
  EXPECT_EQ(rediscache::detail::entry_body(v1, meta), "hello");
}

TEST(Entry, CompressedFrameWithoutChecksum_CodecError) {
  const std::string payload = records(1500);
  std::string frame(ZSTD_compressBound(payload.size()), '\0');
  // ZSTD_compress writes no content checksum (level 3, default parameters).
  const std::size_t n =
      ZSTD_compress(frame.data(), frame.size(), payload.data(), payload.size(), 3);
  ASSERT_EQ(ZSTD_isError(n), 0u);
  frame.resize(n);
  std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1, 3});
  const EntryMeta honest = decode_entry_header(entry);
  ASSERT_TRUE(honest.compressed);
  EXPECT_EQ(decode_entry_payload(entry, honest, 1 << 20), payload);
  // Same header, the checksum-less frame as body (rebuild the entry checksum so only the frame
  // is at fault): refused.
  std::string planted = entry.substr(0, rediscache::detail::kEntryHeaderSizeV1);
  planted[1] = 1;  // version 1: no entry checksum to forge
  planted += frame;
  EXPECT_THROW(decode_entry_payload(planted, decode_entry_header(planted), 1 << 20), CodecError);
}

TEST(Entry, CompressedBomb_RefusedBeforeInflating) {
  // 64 MiB of '[' compresses to a few KiB: far beyond kMaxCompressionRatio of its entry.
  const std::string payload(std::size_t{64} << 20, '[');
  std::string frame(ZSTD_compressBound(payload.size()), '\0');
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  const std::size_t n =
      ZSTD_compress2(ctx, frame.data(), frame.size(), payload.data(), payload.size());
  ZSTD_freeCCtx(ctx);
  ASSERT_EQ(ZSTD_isError(n), 0u);
  frame.resize(n);
  std::string planted(rediscache::detail::kEntryHeaderSizeV1, '\0');
  planted[0] = static_cast<char>(0xCA);
  planted[1] = 1;
  planted[2] = 1;  // compressed
  planted += frame;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(decode_entry_payload(planted, decode_entry_header(planted), std::size_t{512} << 20),
               CodecError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  // The writer never produces such an entry: it stores the payload plain instead.
  const std::string repetitive(1 << 20, 'a');
  const std::string entry = encode_entry(EntryMeta{}, repetitive, CompressionSettings{1, 3});
  EXPECT_FALSE(decode_entry_header(entry).compressed);
}

TEST(Entry, RemainingLifetime_HostileExpiry_Saturates) {
  using rediscache::detail::remaining_lifetime;
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(remaining_lifetime(kMin, 1'800'000'000'000).count(), kMin);
  EXPECT_EQ(remaining_lifetime(kMin + 5, 1'800'000'000'000).count(), kMin);
  EXPECT_EQ(remaining_lifetime(kMax, -5).count(), kMax);
  EXPECT_EQ(remaining_lifetime(1'800'000'000'500, 1'800'000'000'000).count(), 500);
}

TEST(Codec, Json_NestedDeeperThanTheBound_CodecErrorQuickly) {
  const std::size_t depth = 1'000'000;  // the planted entry of issue 16: 2 MB
  const std::string planted = std::string(depth, '[') + std::string(depth, ']');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(Codec<nlohmann::json>::decode(planted), CodecError);
  EXPECT_THROW(Codec<std::vector<int>>::decode(planted), CodecError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  const std::string at_bound = std::string(rediscache::kDefaultMaxJsonDepth, '[') +
                               std::string(rediscache::kDefaultMaxJsonDepth, ']');
  EXPECT_NO_THROW(Codec<nlohmann::json>::decode(at_bound));
  const std::string past = "[" + at_bound + "]";
  EXPECT_THROW(Codec<nlohmann::json>::decode(past), CodecError);
  EXPECT_NO_THROW((rediscache::JsonCodec<nlohmann::json, 200>::decode(past)));
  EXPECT_THROW((rediscache::JsonCodec<nlohmann::json, 2>::decode("[[[1]]]")), CodecError);
}

TEST(Codec, Json_NumberOutOfRange_CodecErrorNotWrapped) {
  EXPECT_THROW(Codec<long long>::decode("18446744073709551616"), CodecError);  // 2^64: a double
  EXPECT_THROW(Codec<long long>::decode("9223372036854775808"), CodecError);   // 2^63
  EXPECT_THROW(Codec<int>::decode("4294967297"), CodecError);
  EXPECT_THROW(Codec<unsigned>::decode("-1"), CodecError);
  EXPECT_THROW(Codec<std::uint8_t>::decode("256"), CodecError);
  EXPECT_THROW(Codec<std::vector<int>>::decode("[1,2,4294967297]"), CodecError);
  EXPECT_THROW((Codec<std::map<std::string, unsigned>>::decode(R"({"a":1,"b":-1})")), CodecError);
  EXPECT_EQ(Codec<long long>::decode("-9223372036854775808"),
            std::numeric_limits<long long>::min());
  EXPECT_EQ(Codec<unsigned long long>::decode("18446744073709551615"),
            std::numeric_limits<unsigned long long>::max());
  EXPECT_EQ(Codec<int>::decode("-2147483648"), std::numeric_limits<int>::min());
}

TEST(Codec, Json_FloatInIntegerField_CodecErrorNotUndefined) {
  EXPECT_THROW(Codec<long long>::decode("1e19"), CodecError);
  EXPECT_THROW(Codec<std::vector<std::int64_t>>::decode("[1e19]"), CodecError);
  EXPECT_THROW(Codec<int>::decode("1.5"), CodecError);
  EXPECT_THROW(Codec<unsigned>::decode("-1.0"), CodecError);
  EXPECT_THROW(Codec<float>::decode("1e300"), CodecError);
  EXPECT_EQ(Codec<int>::decode("7.0"), 7);  // an exact integer written as a float converts
  EXPECT_EQ(Codec<double>::decode("1e19"), 1e19);
}
