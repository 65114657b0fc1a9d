// parse_subscriber_frame: one pub/sub frame (a RESP2 array from a subscribed connection) into
// a Message, apart from the Subscriber so that hostile frames are tested without a server. The
// frames carry other processes' invalidations (client tracking's `__redis__:invalidate`, the
// pub/sub channel of rediscache's own messages), so they are untrusted bytes like any reply.
#pragma once

#include <string>

#include "rediscache/client/subscriber.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

/// Takes a frame apart: subscribe confirmations, messages, pattern messages, pongs; an array
/// payload (tracking invalidations) keeps its string items, a nil payload is "flush". Throws
/// ProtocolError naming `endpoint` on a frame of another shape; never anything else.
Message parse_subscriber_frame(Reply&& reply, const std::string& endpoint);

}  // namespace rediscache::detail
