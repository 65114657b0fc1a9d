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

}  // namespace
}  // namespace rediscache::detail
