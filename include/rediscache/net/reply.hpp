// Reply: a Redis (RESP2) reply as a plain value. No hiredis type ever reaches a public header;
// the connection layer parses straight into this type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rediscache/export.hpp"

namespace rediscache {

/// The RESP2 reply kinds.
enum class ReplyType : std::uint8_t { kNil, kString, kStatus, kError, kInteger, kArray };

/// One reply. `str` holds bulk strings, status lines and error messages; `integer` holds
/// integers; `elements` holds array items. Thread-safety: a plain value.
struct Reply {
  ReplyType type = ReplyType::kNil;
  long long integer = 0;
  std::string str;
  std::vector<Reply> elements;

  [[nodiscard]] bool is_nil() const noexcept { return type == ReplyType::kNil; }
  [[nodiscard]] bool is_error() const noexcept { return type == ReplyType::kError; }
  [[nodiscard]] bool is_string() const noexcept { return type == ReplyType::kString; }
  [[nodiscard]] bool is_status() const noexcept { return type == ReplyType::kStatus; }
  [[nodiscard]] bool is_integer() const noexcept { return type == ReplyType::kInteger; }
  [[nodiscard]] bool is_array() const noexcept { return type == ReplyType::kArray; }
};

/// A readable name of a reply type, for messages ("nil", "bulk string", ...).
[[nodiscard]] REDISCACHE_EXPORT const char* to_string(ReplyType type) noexcept;

}  // namespace rediscache
