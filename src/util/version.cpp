#include "rediscache/version.hpp"

#define REDISCACHE_STRINGIFY_IMPL(x) #x
#define REDISCACHE_STRINGIFY(x) REDISCACHE_STRINGIFY_IMPL(x)

namespace rediscache {

std::string_view version() noexcept {
  // Built from the macros so the header and the library cannot disagree about what they are.
  static constexpr char kVersion[] =
      REDISCACHE_STRINGIFY(REDISCACHE_VERSION_MAJOR) "." REDISCACHE_STRINGIFY(
          REDISCACHE_VERSION_MINOR) "." REDISCACHE_STRINGIFY(REDISCACHE_VERSION_PATCH);
  return kVersion;
}

}  // namespace rediscache
