// The checks behind LoadContext's setters, out of line so that the installed header needs no
// private one.
#include "rediscache/cache/load_context.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "cache/tag_space.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {

void check_loader_ttl(std::chrono::milliseconds ttl, std::chrono::milliseconds max_ttl) {
  require_duration(ttl, std::chrono::milliseconds(1), max_ttl, "LoadContext::ttl");
}

void throw_keep_stale_without_stale() {
  throw std::logic_error(
      "rediscache: LoadContext::keep_stale needs a stale copy (check has_stale())");
}

void set_loader_tags(LoadRequest& request, std::vector<std::string> tags) {
  if (!request.tags_enabled) {
    throw std::logic_error("rediscache: LoadContext::set_tags needs CacheOptions::tags");
  }
  TagSpace::check_tags(tags, "LoadContext::tags");
  request.decision.tags = TagSpace::normalized(std::move(tags));
}

void check_entry_tags(const std::vector<std::string>& tags, const CacheOptions& options,
                      const char* field) {
  if (!options.tags) {
    throw std::logic_error(std::string("rediscache: ") + field + " needs CacheOptions::tags");
  }
  TagSpace::check_tags(tags, field);
}

}  // namespace rediscache::detail
