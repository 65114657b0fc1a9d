// Codec<T>: JSON by default, raw bytes for strings, pluggable; the entry envelope around it.
#include "rediscache/cache/codec.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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
  const std::string payload(100'000, 'x');
  const std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1024, 3});
  const EntryMeta meta = decode_entry_header(entry);
  EXPECT_TRUE(meta.compressed);
  EXPECT_LT(entry.size(), payload.size() / 10);
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
  const std::string payload(50'000, 'y');
  std::string entry = encode_entry(EntryMeta{}, payload, CompressionSettings{1, 3});
  const EntryMeta meta = decode_entry_header(entry);
  ASSERT_TRUE(meta.compressed);
  entry[entry.size() - 6] = static_cast<char>(entry[entry.size() - 6] ^ 0x5A);
  EXPECT_THROW(decode_entry_payload(entry, meta, 1 << 20), CodecError);
  // A frame that would inflate beyond the limit is refused before allocating.
  const std::string ok = encode_entry(EntryMeta{}, payload, CompressionSettings{1, 3});
  EXPECT_THROW(decode_entry_payload(ok, decode_entry_header(ok), 1000), CodecError);
}

}  // namespace
