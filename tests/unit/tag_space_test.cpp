// Tags without a server: the entry's tag section (round trip, hostile bytes behind a valid
// checksum), the stamp arithmetic, tag validation, and the bounded memory of keys' tags.
#include "cache/tag_space.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cache/entry.hpp"
#include "rediscache/cache/codec.hpp"
#include "util/hash64.hpp"

namespace {

using rediscache::Reply;
using rediscache::ReplyType;
using rediscache::TagOptions;
using rediscache::detail::CompressionSettings;
using rediscache::detail::decode_entry_header;
using rediscache::detail::decode_entry_payload;
using rediscache::detail::encode_entry;
using rediscache::detail::EntryMeta;
using rediscache::detail::kEntryHeaderSize;
using rediscache::detail::TagSpace;

// Recomputes an entry's checksum after a test edited its bytes, so that the parser behind the
// checksum is what the test reaches (another writer's bytes can carry a valid checksum too).
std::string resealed(std::string entry) {
  using rediscache::detail::hash64;
  const std::uint64_t sum =
      hash64(std::string_view(entry).substr(kEntryHeaderSize), hash64(entry.substr(0, 16)));
  for (int i = 0; i < 8; ++i) entry[16 + i] = static_cast<char>((sum >> (8 * i)) & 0xFFU);
  return entry;
}

EntryMeta tagged(std::vector<std::string> tags, std::uint64_t clock) {
  EntryMeta meta;
  meta.expires_at_ms = 1'800'000'000'000;
  meta.tags = std::move(tags);
  meta.tag_clock = clock;
  return meta;
}

Reply bulk(std::string s) {
  Reply r;
  r.type = ReplyType::kString;
  r.str = std::move(s);
  return r;
}

TEST(EntryTags, TaggedEntry_RoundTripsTagsClockAndPayload) {
  const std::string entry =
      encode_entry(tagged({"a", "tenant:7", std::string(200, 'z')}, 1'796'236'032'404'361ULL),
                   "payload", CompressionSettings{});
  const EntryMeta back = decode_entry_header(entry);
  EXPECT_EQ(back.tags, (std::vector<std::string>{"a", "tenant:7", std::string(200, 'z')}));
  EXPECT_EQ(back.tag_clock, 1'796'236'032'404'361ULL);
  EXPECT_EQ(back.expires_at_ms, 1'800'000'000'000);
  EXPECT_EQ(decode_entry_payload(entry, back, 1 << 20), "payload");
}

TEST(EntryTags, TaggedCompressedAndNegativeEntries_RoundTrip) {
  const std::string big(5000, 'x');
  const std::string compressed = encode_entry(tagged({"t"}, 42), big, CompressionSettings{1024, 3});
  const EntryMeta c = decode_entry_header(compressed);
  EXPECT_TRUE(c.compressed);
  EXPECT_EQ(c.tags, std::vector<std::string>{"t"});
  EXPECT_EQ(decode_entry_payload(compressed, c, 1 << 20), big);
  EntryMeta negative = tagged({"t"}, 7);
  negative.negative = true;
  const EntryMeta n = decode_entry_header(encode_entry(negative, "", CompressionSettings{}));
  EXPECT_TRUE(n.negative);
  EXPECT_EQ(n.tag_clock, 7u);
}

TEST(EntryTags, UntaggedEntry_HasNoTagsAndTheSameSizeAsBefore) {
  const std::string entry = encode_entry(EntryMeta{}, "v", CompressionSettings{});
  EXPECT_EQ(entry.size(), kEntryHeaderSize + 1);
  EXPECT_TRUE(decode_entry_header(entry).tags.empty());
}

TEST(EntryTags, HostileTagSections_CodecErrorNeverAnOverread) {
  const std::string good = encode_entry(tagged({"ab", "c"}, 9), "p", CompressionSettings{});
  // Layout after the header: clock (8), count (1), then "\x02ab", "\x01c", then the payload.
  const std::size_t count_at = kEntryHeaderSize + 8;
  std::vector<std::string> bad;
  for (std::size_t cut = kEntryHeaderSize; cut < good.size() - 1; ++cut) {
    bad.push_back(resealed(good.substr(0, cut)));  // truncated anywhere in the section
  }
  std::string zero_count = good;
  zero_count[count_at] = '\0';
  bad.push_back(resealed(zero_count));
  std::string many = good;
  many[count_at] = static_cast<char>(33);
  bad.push_back(resealed(many));
  std::string long_tag = good;
  long_tag[count_at + 1] = static_cast<char>(250);  // beyond the entry and above the bound
  bad.push_back(resealed(long_tag));
  std::string empty_tag = good;
  empty_tag[count_at + 1] = '\0';
  bad.push_back(resealed(empty_tag));
  for (const std::string& entry : bad) {
    EXPECT_THROW(decode_entry_header(entry), rediscache::CodecError) << entry.size();
  }
  EXPECT_NO_THROW(decode_entry_header(good));
}

TEST(TagSpace, ParseCounter_OnlyDecimalNumbersUpToInt64) {
  EXPECT_EQ(TagSpace::parse_counter(Reply{}), 0u);  // nil: never invalidated
  EXPECT_EQ(TagSpace::parse_counter(bulk("0")), 0u);
  EXPECT_EQ(TagSpace::parse_counter(bulk("1796236032404361")), 1796236032404361u);
  EXPECT_EQ(TagSpace::parse_counter(bulk("9223372036854775807")), 9223372036854775807u);
  for (const char* garbage : {"", "-1", "1e15", " 5", "5 ", "9223372036854775808",
                              "99999999999999999999", "0x10", "1.5"}) {
    EXPECT_FALSE(TagSpace::parse_counter(bulk(garbage))) << "'" << garbage << "'";
  }
  Reply integer;
  integer.type = ReplyType::kInteger;
  integer.integer = 12;
  EXPECT_EQ(TagSpace::parse_counter(integer), 12u);
  integer.integer = -12;
  EXPECT_FALSE(TagSpace::parse_counter(integer));
  Reply error;
  error.type = ReplyType::kError;
  error.str = "ERR";
  EXPECT_FALSE(TagSpace::parse_counter(error));
}

TEST(TagSpace, StillValid_WhileEveryStampIsAtMostTheEntrysClock) {
  const Reply nil;
  const Reply at = bulk("100");
  const Reply after = bulk("101");
  const Reply garbage = bulk("x");
  EXPECT_TRUE(TagSpace::still_valid(100, {}));
  EXPECT_TRUE(TagSpace::still_valid(100, {&nil, &at}));  // invalidated before the load began
  EXPECT_FALSE(TagSpace::still_valid(100, {&nil, &after}));
  EXPECT_FALSE(TagSpace::still_valid(100, {&garbage}));  // unreadable: a miss is safe
  EXPECT_FALSE(TagSpace::still_valid(100, {nullptr}));
}

TEST(TagSpace, KeysShareOneHashSlot) {
  const TagSpace space(TagOptions{}, std::chrono::hours(1));
  EXPECT_EQ(space.clock_key(), "{rediscache:tags}:clock");
  EXPECT_EQ(space.stamp_key("tenant:7"), "{rediscache:tags}:t:tenant:7");
}

TEST(TagSpace, CheckTagsAndNormalized) {
  EXPECT_NO_THROW(TagSpace::check_tags({}, "F"));
  EXPECT_NO_THROW(TagSpace::check_tags(std::vector<std::string>(32, "t"), "F"));
  EXPECT_THROW(TagSpace::check_tags(std::vector<std::string>(33, "t"), "F"), std::invalid_argument);
  EXPECT_THROW(TagSpace::check_tags({""}, "F"), std::invalid_argument);
  try {
    TagSpace::check_tags({std::string(201, 't')}, "LoadContext::tags");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("LoadContext::tags"), std::string::npos) << e.what();
  }
  EXPECT_EQ(TagSpace::normalized({"b", "a", "b"}), (std::vector<std::string>{"a", "b"}));
}

TEST(TagSpace, Remembered_BoundedAndForgettable) {
  TagOptions options;
  options.remembered_keys = 3;
  TagSpace space(options, std::chrono::hours(1));
  for (int i = 0; i < 10; ++i) space.remember("k" + std::to_string(i), {"t"});
  int known = 0;
  for (int i = 0; i < 10; ++i) known += space.remembered("k" + std::to_string(i)).empty() ? 0 : 1;
  EXPECT_EQ(known, 3);
  space.remember("k9", {"u", "v"});
  EXPECT_EQ(space.remembered("k9"), (std::vector<std::string>{"u", "v"}));
  space.remember("k9", {});
  EXPECT_TRUE(space.remembered("k9").empty());
}

}  // namespace
