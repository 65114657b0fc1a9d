// Small pieces the helpers share: duration formatting. Reply checks are the client's
// (client/client_core.hpp: host:port and command in every message), backoff is util/backoff.hpp.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "client/client_core.hpp"

namespace rediscache::detail {

/// Milliseconds as the decimal string Redis expects.
inline std::string to_arg(std::chrono::milliseconds duration) {
  return std::to_string(duration.count());
}

}  // namespace rediscache::detail
