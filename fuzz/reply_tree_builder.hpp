// ReplyTreeBuilder: turns fuzz bytes into a Reply tree (integers biased to the edges a parser
// checks, strings from a dictionary of the words it looks for, raw byte strings and statuses,
// arrays up to a fixed depth, nil, errors), for harnesses whose parser takes a Reply rather than
// RESP bytes (cluster slot maps, sentinel replies). One builder, so every such harness explores
// the same shapes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "rediscache/net/reply.hpp"

namespace rediscache::fuzz {

class ReplyTreeBuilder {
 public:
  /// `words`: the dictionary strings are drawn from; `edges`: integers worth hitting exactly;
  /// `max_elements`: the widest array built (arrays nest at most kMaxDepth deep).
  ReplyTreeBuilder(const std::uint8_t* data, std::size_t size,
                   std::initializer_list<std::string_view> words,
                   std::initializer_list<long long> edges, int max_elements)
      : p_(data), end_(data + size), words_(words), edges_(edges), max_elements_(max_elements) {}

  Reply next(int depth = 0) {
    Reply r;
    const std::uint8_t op = byte();
    switch (op % 7) {
      case 0:
        r.type = ReplyType::kInteger;
        r.integer = integer(op);
        break;
      case 1:
      case 2:
        r.type = ReplyType::kString;
        r.str = std::string(words_[byte() % words_.size()]);
        break;
      case 3: {  // raw bytes: any host, any port text
        r.type = (op & 0x80U) != 0 ? ReplyType::kStatus : ReplyType::kString;
        const std::size_t n = byte() % 32;
        for (std::size_t i = 0; i < n && p_ != end_; ++i)
          r.str.push_back(static_cast<char>(byte()));
        break;
      }
      case 4: {
        r.type = ReplyType::kArray;
        if (depth > kMaxDepth) break;
        const int count = byte() % (max_elements_ + 1);
        for (int i = 0; i < count && p_ != end_; ++i) r.elements.push_back(next(depth + 1));
        break;
      }
      case 5:
        r.type = ReplyType::kNil;
        break;
      default:
        r.type = ReplyType::kError;
        r.str = "ERR fuzz";
        break;
    }
    return r;
  }

 private:
  static constexpr int kMaxDepth = 6;

  std::uint8_t byte() { return p_ == end_ ? 0 : *p_++; }

  // Small values, the edges, or eight raw bytes (any 64-bit value).
  long long integer(std::uint8_t op) {
    if ((op & 0x80U) == 0) {
      const int pick = byte();
      return pick < 64 ? pick * 256 + byte()
                       : edges_[static_cast<std::size_t>(pick) % edges_.size()];
    }
    long long v = 0;
    const std::size_t n = std::min<std::size_t>(8, static_cast<std::size_t>(end_ - p_));
    std::memcpy(&v, p_, n);
    p_ += n;
    return v;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::vector<std::string_view> words_;
  std::vector<long long> edges_;
  int max_elements_;
};

}  // namespace rediscache::fuzz
