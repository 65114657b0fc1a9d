// Replies built by hand, for unit tests of code that reads what Redis answers (stream entries,
// XPENDING, XINFO...) without a server.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rediscache/net/reply.hpp"

namespace rediscache::test {

inline Reply str(std::string s) {
  Reply r;
  r.type = ReplyType::kString;
  r.str = std::move(s);
  return r;
}

inline Reply integer(long long v) {
  Reply r;
  r.type = ReplyType::kInteger;
  r.integer = v;
  return r;
}

inline Reply array(std::vector<Reply> elements) {
  Reply r;
  r.type = ReplyType::kArray;
  r.elements = std::move(elements);
  return r;
}

inline Reply error(std::string s) {
  Reply r;
  r.type = ReplyType::kError;
  r.str = std::move(s);
  return r;
}

/// Any type with any payload, including shapes a well-behaved server never sends.
inline Reply of_type(ReplyType type, std::string s = {}, long long integer = 0) {
  Reply r;
  r.type = type;
  r.str = std::move(s);
  r.integer = integer;
  return r;
}

}  // namespace rediscache::test
