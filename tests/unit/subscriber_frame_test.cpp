// parse_subscriber_frame: pub/sub frames, including client tracking's invalidations, are
// untrusted: every shape either becomes a Message or a ProtocolError naming the server. No server.
#include "client/subscriber_frame.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/util/errors.hpp"
#include "reply_builders.hpp"

namespace rediscache::detail {
namespace {

using test::array;
using test::integer;
using test::str;

const std::string kEndpoint = "127.0.0.1:6379";

Reply nil() { return Reply{}; }

Reply status(std::string s) {
  Reply r = str(std::move(s));
  r.type = ReplyType::kStatus;
  return r;
}

// The message of the ProtocolError the frame raises, or "" if it parses.
std::string rejection(Reply frame) {
  try {
    (void)parse_subscriber_frame(std::move(frame), kEndpoint);
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "";
}

TEST(SubscriberFrame, TrackingInvalidation_KeysNilAndString) {
  Message m = parse_subscriber_frame(
      array({str("message"), str("__redis__:invalidate"), array({str("a"), str("b")})}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kMessage);
  EXPECT_EQ(m.channel, "__redis__:invalidate");
  EXPECT_EQ(m.payload_items, (std::vector<std::string>{"a", "b"}));
  m = parse_subscriber_frame(array({str("message"), str("__redis__:invalidate"), nil()}),
                             kEndpoint);
  EXPECT_TRUE(m.payload_nil);
  m = parse_subscriber_frame(array({str("pmessage"), str("p*"), str("pc"), str("x")}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kPatternMessage);
  EXPECT_EQ(m.pattern, "p*");
  EXPECT_EQ(m.payload, "x");
}

TEST(SubscriberFrame, HostileItems_BecomeEmptyStringsNotTrusted) {
  // Nested arrays, integers, errors where keys should be: taken apart, never dereferenced as
  // strings they are not.
  const Message m = parse_subscriber_frame(
      array({str("message"), str("__redis__:invalidate"),
             array({array({str("deep")}), integer(7), nil(), status("k"), str("")})}),
      kEndpoint);
  EXPECT_EQ(m.payload_items, (std::vector<std::string>{"", "", "", "k", ""}));
  const Message channel_not_a_string =
      parse_subscriber_frame(array({str("message"), array({}), integer(1)}), kEndpoint);
  EXPECT_TRUE(channel_not_a_string.channel.empty());
  EXPECT_TRUE(channel_not_a_string.payload.empty());
}

TEST(SubscriberFrame, WrongShapes_AreProtocolErrorsNamingTheServer) {
  const std::vector<Reply> hostile = {
      nil(),
      str("message"),
      integer(3),
      array({}),
      array({str("message")}),
      array({str("message"), str("c")}),
      array({str("message"), str("c"), str("p"), str("extra")}),
      array({str("pmessage"), str("p"), str("c")}),
      array({str("subscribe"), str("c"), str("not a count")}),
      array({str("nonsense"), str("c"), integer(1)}),
      array({array({str("message")}), str("c"), str("p")}),
      array({integer(1), str("c"), str("p")}),
  };
  for (const Reply& frame : hostile) {
    const std::string message = rejection(frame);
    EXPECT_NE(message.find(kEndpoint), std::string::npos) << "accepted or unnamed: " << message;
  }
}

TEST(SubscriberFrame, Confirmations_AndPong) {
  Message m = parse_subscriber_frame(array({str("subscribe"), str("c"), integer(2)}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kSubscribe);
  EXPECT_EQ(m.subscriptions, 2);
  m = parse_subscriber_frame(array({str("punsubscribe"), nil(), integer(0)}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kPatternUnsubscribe);
  m = parse_subscriber_frame(array({str("pong"), str("")}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kPong);
  m = parse_subscriber_frame(array({str("pong")}), kEndpoint);
  EXPECT_EQ(m.kind, MessageKind::kPong);
}

}  // namespace
}  // namespace rediscache::detail
