// Unit tests of the invalidation message format, the seam between publisher and listener, with
// no server: what the publisher encodes, the listener decodes to the same request.
#include "near/invalidation_message.hpp"

#include <string>

#include <gtest/gtest.h>

#include "rediscache/near/invalidation.hpp"

namespace rediscache::detail {
namespace {

TEST(InvalidationMessage, KeyMessage_RoundTrips) {
  const std::string payload = InvalidationPublisher::key_message("user:42");
  EXPECT_EQ(payload, "kuser:42");
  const InvalidationMessage m = decode_invalidation(payload);
  EXPECT_EQ(m.kind, InvalidationKind::kKey);
  EXPECT_EQ(m.subject, "user:42");
}

TEST(InvalidationMessage, PrefixMessage_RoundTrips) {
  const std::string payload = InvalidationPublisher::prefix_message("users:v3:");
  const InvalidationMessage m = decode_invalidation(payload);
  EXPECT_EQ(m.kind, InvalidationKind::kPrefix);
  EXPECT_EQ(m.subject, "users:v3:");
}

TEST(InvalidationMessage, FlushMessage_RoundTrips) {
  EXPECT_EQ(decode_invalidation(InvalidationPublisher::flush_message()).kind,
            InvalidationKind::kFlush);
}

TEST(InvalidationMessage, KeysWithTagBytes_KeepEveryByte) {
  const std::string key = std::string("p*k\0x", 5);
  const std::string payload = encode_key_invalidation(key);  // the subject views it
  const InvalidationMessage m = decode_invalidation(payload);
  EXPECT_EQ(m.kind, InvalidationKind::kKey);
  EXPECT_EQ(m.subject, key);
}

TEST(InvalidationMessage, EmptyOrUnknownTag_Malformed) {
  EXPECT_EQ(decode_invalidation("").kind, InvalidationKind::kMalformed);
  EXPECT_EQ(decode_invalidation("xuser:1").kind, InvalidationKind::kMalformed);
  EXPECT_EQ(decode_invalidation("K").kind, InvalidationKind::kMalformed);
}

TEST(InvalidationMessage, EmptySubject_Allowed) {
  EXPECT_EQ(decode_invalidation("k").kind, InvalidationKind::kKey);
  EXPECT_EQ(decode_invalidation("p").subject, "");
}

// Payloads come from anyone who can PUBLISH on the channel: hostile shapes decode to a clear
// kind, never a crash, an exception or a read outside the payload.
TEST(InvalidationMessage, FlushTagWithTrailingBytes_MalformedNotAFlush) {
  EXPECT_EQ(decode_invalidation("*x").kind, InvalidationKind::kMalformed);
  EXPECT_EQ(decode_invalidation(std::string("*\0", 2)).kind, InvalidationKind::kMalformed);
  EXPECT_EQ(decode_invalidation("**").kind, InvalidationKind::kMalformed);
  EXPECT_EQ(decode_invalidation("*").kind, InvalidationKind::kFlush);
}

TEST(InvalidationMessage, EveryFirstByte_DecodesToOneClearKind) {
  for (int b = 0; b < 256; ++b) {
    const std::string payload = std::string(1, static_cast<char>(b)) + "rest";
    const InvalidationMessage m = decode_invalidation(payload);
    if (b == 'k' || b == 'p') {
      EXPECT_EQ(m.kind, b == 'k' ? InvalidationKind::kKey : InvalidationKind::kPrefix);
      EXPECT_EQ(m.subject, "rest");
      EXPECT_EQ(m.subject.data(), payload.data() + 1);  // a view into the payload, no copy
    } else {
      EXPECT_EQ(m.kind, InvalidationKind::kMalformed) << b;
      EXPECT_TRUE(m.subject.empty()) << b;
    }
  }
}

TEST(InvalidationMessage, TruncatedOrOversizedPayloads_DecodeWithoutThrowing) {
  // A lone tag is a message with an empty subject; a 16 MiB key is just a long key.
  EXPECT_EQ(decode_invalidation("p").kind, InvalidationKind::kPrefix);
  const std::string huge = "k" + std::string(std::size_t{16} << 20, '\xff');
  const InvalidationMessage m = decode_invalidation(huge);
  EXPECT_EQ(m.kind, InvalidationKind::kKey);
  EXPECT_EQ(m.subject.size(), huge.size() - 1);
  // Binary subjects (NUL, CR LF, bytes above 0x7f) keep every byte.
  const std::string binary("p\0\r\n\x80\xff", 6);
  EXPECT_EQ(decode_invalidation(binary).subject, binary.substr(1));
  static_assert(noexcept(decode_invalidation(std::string_view())));
}

}  // namespace
}  // namespace rediscache::detail
