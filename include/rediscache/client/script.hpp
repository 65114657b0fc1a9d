// Script: a Lua script identified by its SHA1, run with EVALSHA and loaded with EVAL on NOSCRIPT.
#pragma once

#include <string>

#include "rediscache/export.hpp"

namespace rediscache {

/// A Lua script. Construct once (a static or a member), run with `Client::eval`. The SHA1 is
/// computed locally, so the first run costs one round trip when the server already has the
/// script and two (EVALSHA, then EVAL) when it does not. Thread-safe (immutable).
class REDISCACHE_EXPORT Script {
 public:
  explicit Script(std::string source);

  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// Lower-case hex SHA1 of the source, as SCRIPT LOAD would return it.
  [[nodiscard]] const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace rediscache
