// Subscriber: channels, patterns, timeouts, array payloads, and connection loss.
#include "rediscache/client/subscriber.hpp"

#include <string>

#include <gtest/gtest.h>

#include "redis_fixture.hpp"
#include "rediscache/util/errors.hpp"

namespace {

using namespace std::chrono_literals;
using rediscache::MessageKind;
using SubscriberTest = rediscache::test::RedisTest;

TEST_F(SubscriberTest, SubscribePublishReceive) {
  auto sub = client().subscriber();
  sub.subscribe({key("ch1"), key("ch2")});
  sub.psubscribe({key("p:*")});
  for (int i = 0; i < 3; ++i) {
    const auto confirm = sub.next(2s);
    ASSERT_TRUE(confirm);
    EXPECT_EQ(confirm->subscriptions, i + 1);
  }
  EXPECT_EQ(client().publish(key("ch2"), std::string("bin\0ary", 7)), 1);
  const auto m = sub.next(2s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MessageKind::kMessage);
  EXPECT_EQ(m->channel, key("ch2"));
  EXPECT_EQ(m->payload, std::string("bin\0ary", 7));

  client().publish(key("p:x"), "pattern");
  const auto pm = sub.next(2s);
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->kind, MessageKind::kPatternMessage);
  EXPECT_EQ(pm->pattern, key("p:*"));
  EXPECT_EQ(pm->channel, key("p:x"));

  sub.unsubscribe({key("ch1")});
  const auto un = sub.next(2s);
  ASSERT_TRUE(un);
  EXPECT_EQ(un->kind, MessageKind::kUnsubscribe);
  sub.ping();
  const auto pong = sub.next(2s);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->kind, MessageKind::kPong);
}

TEST_F(SubscriberTest, Next_TimesOutAndStaysUsable) {
  auto sub = client().subscriber();
  sub.subscribe({key("quiet")});
  ASSERT_TRUE(sub.next(2s));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sub.next(100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  client().publish(key("quiet"), "late");
  const auto m = sub.next(2s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "late");
}

TEST_F(SubscriberTest, ClientTrackingInvalidations_ArriveAsArrayPayloads) {
  // Tracking redirects to a connection on the same node; a cluster needs one per node.
  REDISCACHE_SINGLE_NODE_ONLY();
  auto sub = client().subscriber();
  sub.subscribe({"__redis__:invalidate"});
  ASSERT_TRUE(sub.next(2s));
  rediscache::PoolOptions p;
  p.size = 1;
  rediscache::Client tracked(options_, p);
  tracked.command({"CLIENT", "TRACKING", "on", "REDIRECT", std::to_string(sub.client_id()), "BCAST",
                   "PREFIX", prefix_});
  client().set(key("tracked"), "v", rediscache::SetOptions{60s});
  const auto m = sub.next(2s);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->payload_items.size(), 1u);
  EXPECT_EQ(m->payload_items[0], key("tracked"));
  tracked.command({"CLIENT", "TRACKING", "off"});
}

TEST_F(SubscriberTest, ConnectionKilled_NextThrowsIoError) {
  auto sub = client().subscriber();
  sub.subscribe({key("k")});
  ASSERT_TRUE(sub.next(2s));
  // The subscriber's own server (on a cluster, the node subscriber() chose).
  const std::string& at = sub.endpoint();
  const rediscache::test::Endpoint server{at.substr(0, at.rfind(':')),
                                          std::stoi(at.substr(at.rfind(':') + 1)), endpoint_.tls};
  rediscache::test::raw_command(server, {"CLIENT", "KILL", "ID", std::to_string(sub.client_id())});
  EXPECT_THROW(
      {
        for (int i = 0; i < 50; ++i) (void)sub.next(100ms);
      },
      rediscache::IoError);
}

}  // namespace
