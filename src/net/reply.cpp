#include "rediscache/net/reply.hpp"

namespace rediscache {

const char* to_string(ReplyType type) noexcept {
  switch (type) {
    case ReplyType::kNil:
      return "nil";
    case ReplyType::kString:
      return "bulk string";
    case ReplyType::kStatus:
      return "status";
    case ReplyType::kError:
      return "error";
    case ReplyType::kInteger:
      return "integer";
    case ReplyType::kArray:
      return "array";
  }
  return "unknown";
}

}  // namespace rediscache
