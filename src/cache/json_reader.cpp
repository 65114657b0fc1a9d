// detail::parse_json, compiled into the library so that the installed codec.hpp need not carry
// the reader.
#include "cache/json_reader.hpp"

#include "rediscache/cache/codec.hpp"

namespace rediscache::detail {

bool parse_json(std::string_view text, nlohmann::json& out, std::size_t max_depth) {
  const int fast_depth = max_depth < static_cast<std::size_t>(JsonReader::kMaxDepth)
                             ? static_cast<int>(max_depth)
                             : JsonReader::kMaxDepth;
  if (JsonReader(text, fast_depth).read(out)) return true;
  if (json_nests_deeper_than(text, max_depth)) return false;
  out = nlohmann::json::parse(text.begin(), text.end());
  return true;
}

}  // namespace rediscache::detail
