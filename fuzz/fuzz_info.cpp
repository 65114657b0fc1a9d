// INFO parsing from arbitrary text: never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rediscache/client/info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const rediscache::Info info = rediscache::Info::parse(text);
  for (const auto& [section, fields] : info.sections()) {
    for (const auto& [name, value] : fields) {
      (void)info.get_int(name);
      (void)info.get_double(name);
      (void)info.get(section, name);
    }
  }
  return 0;
}
