// The checks behind LoadContext's setters, out of line so that the installed header needs no
// private one.
#include "rediscache/cache/load_context.hpp"

#include <stdexcept>

#include "util/validation.hpp"

namespace rediscache::detail {

void check_loader_ttl(std::chrono::milliseconds ttl, std::chrono::milliseconds max_ttl) {
  require_duration(ttl, std::chrono::milliseconds(1), max_ttl, "LoadContext::ttl");
}

void throw_keep_stale_without_stale() {
  throw std::logic_error(
      "rediscache: LoadContext::keep_stale needs a stale copy (check has_stale())");
}

}  // namespace rediscache::detail
