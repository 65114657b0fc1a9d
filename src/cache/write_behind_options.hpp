// The write-behind queue's name rule, shared by WriteBehindOptions::validate and the queue's
// constructor. Private.
#pragma once

#include <string_view>

namespace rediscache::detail {

/// 1..128 characters of [A-Za-z0-9_.-].
[[nodiscard]] bool valid_queue_name(std::string_view name);

}  // namespace rediscache::detail
