// Differential fuzzing of the JSON fast reader against nlohmann::json::parse: whatever the fast
// reader accepts, nlohmann accepts with the same value; parse_json (fast path, else nlohmann)
// accepts exactly what nlohmann accepts within the nesting bound, with the same value; and the
// codec never fails other than with CodecError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/json_reader.hpp"
#include "rediscache/cache/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kDepth = rediscache::kDefaultMaxJsonDepth;
  const bool too_deep = rediscache::detail::json_nests_deeper_than(text, kDepth);
  nlohmann::json reference;
  bool reference_ok = false;
  if (!too_deep) {  // nlohmann's values copy recursively: only within the bound
    try {
      reference = nlohmann::json::parse(text.begin(), text.end());
      reference_ok = true;
    } catch (const nlohmann::json::exception&) {
    }
  }

  nlohmann::json fast;
  if (rediscache::detail::JsonReader(text).read(fast)) {
    if (too_deep || !reference_ok || fast != reference) std::abort();  // fast accepted wrongly
  }

  nlohmann::json combined;
  bool combined_ok = false;
  try {
    combined_ok = rediscache::detail::parse_json(text, combined, kDepth);
  } catch (const nlohmann::json::exception&) {
  }
  if (combined_ok != (reference_ok && !too_deep)) std::abort();
  if (combined_ok && combined != reference) std::abort();

  try {
    (void)rediscache::Codec<std::vector<int>>::decode(text);
  } catch (const rediscache::CodecError&) {
  }
  try {
    (void)rediscache::Codec<std::map<std::string, std::uint16_t>>::decode(text);
  } catch (const rediscache::CodecError&) {
  }
  return 0;
}
