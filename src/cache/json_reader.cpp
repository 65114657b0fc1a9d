// detail::parse_json, compiled into the library so that the installed codec.hpp need not carry
// the reader.
#include "cache/json_reader.hpp"

#include "rediscache/cache/codec.hpp"

namespace rediscache::detail {

void parse_json(std::string_view text, nlohmann::json& out) {
  if (JsonReader(text).read(out)) return;
  out = nlohmann::json::parse(text.begin(), text.end());
}

}  // namespace rediscache::detail
