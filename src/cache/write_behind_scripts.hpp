// The write-behind queue's Lua scripts, built on first use. Private; write_behind_scripts.cpp
// gives each one's KEYS, ARGV and result.
#pragma once

#include "rediscache/client/script.hpp"

namespace rediscache::detail::wb {

struct Scripts {
  Script enqueue;
  Script latest;
  Script acquire;
  Script release;
  Script read;
  Script ack;
  Script dead_letter;
  Script replay;
  Script delete_consumer;
};

[[nodiscard]] const Scripts& scripts();

}  // namespace rediscache::detail::wb
