#include "client/subscriber_frame.hpp"

#include <utility>

#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

namespace {

// Elements that are not strings (a nested array, an integer where a key should be) become
// empty strings: a frame is taken apart, never trusted to have the shape Redis sends.
std::string take_string(Reply& reply) {
  return reply.is_string() || reply.is_status() ? std::move(reply.str) : std::string();
}

}  // namespace

Message parse_subscriber_frame(Reply&& reply, const std::string& endpoint) {
  if (!reply.is_array() || reply.elements.empty()) {
    throw ProtocolError("redis " + endpoint + ": SUBSCRIBE: unexpected " + to_string(reply.type) +
                        " frame");
  }
  auto& e = reply.elements;
  const std::string& kind = e[0].str;
  Message m;
  if (kind == "pong") {
    m.kind = MessageKind::kPong;
    if (e.size() > 1) m.payload = take_string(e[1]);
    return m;
  }
  if (kind == "pmessage" && e.size() == 4) {
    m.kind = MessageKind::kPatternMessage;
    m.pattern = take_string(e[1]);
    m.channel = take_string(e[2]);
  } else if (kind == "message" && e.size() == 3) {
    m.kind = MessageKind::kMessage;
    m.channel = take_string(e[1]);
  } else if (e.size() == 3 && e[2].is_integer()) {
    if (kind == "subscribe")
      m.kind = MessageKind::kSubscribe;
    else if (kind == "unsubscribe")
      m.kind = MessageKind::kUnsubscribe;
    else if (kind == "psubscribe")
      m.kind = MessageKind::kPatternSubscribe;
    else if (kind == "punsubscribe")
      m.kind = MessageKind::kPatternUnsubscribe;
    else
      throw ProtocolError("redis " + endpoint + ": SUBSCRIBE: unknown frame kind");
    m.channel = take_string(e[1]);
    m.subscriptions = e[2].integer;
    return m;
  } else {
    throw ProtocolError("redis " + endpoint + ": SUBSCRIBE: malformed frame");
  }
  Reply& payload = e.back();
  if (payload.is_nil()) {
    m.payload_nil = true;
  } else if (payload.is_array()) {
    m.payload_items.reserve(payload.elements.size());
    for (Reply& item : payload.elements) m.payload_items.push_back(take_string(item));
  } else {
    m.payload = take_string(payload);
  }
  return m;
}

}  // namespace rediscache::detail
