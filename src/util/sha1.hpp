// SHA1 of a byte string as lower-case hex: only for naming Lua scripts (EVALSHA), never for
// security.
#pragma once

#include <string>
#include <string_view>

namespace rediscache::detail {

[[nodiscard]] std::string sha1_hex(std::string_view data);

}  // namespace rediscache::detail
