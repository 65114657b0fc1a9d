// What the interop tests share (interop_test.cpp, interop_python_test.cpp): a JSON struct like
// the seed's user row, options of a cache in EntryFormat::kPlain under a custom key layout, and
// cleanup of the keys such a layout produces.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache_aside_support.hpp"

namespace interop_support {

struct User {
  std::string id;
  std::string name;
  std::string email;
  bool operator==(const User& o) const { return id == o.id && name == o.name && email == o.email; }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, email)

using UserCache = rediscache::CacheAside<User>;

// Plain entries under `layout` (its literal text should make the keys unique to the test).
inline rediscache::CacheOptions plain_options(const std::string& layout) {
  rediscache::CacheOptions options = cache_aside_support::base_options();
  options.entry_format = rediscache::EntryFormat::kPlain;
  options.negative_ttl.reset();
  options.compress_above.reset();
  options.key_layout = layout;
  return options;
}

// Deletes every key containing `marker` when the test ends (entries and their lock keys).
struct MarkerCleanup {
  rediscache::test::Endpoint ep;
  std::string marker;
  ~MarkerCleanup() {
    try {
      rediscache::Client client = rediscache::test::make_client(ep);
      rediscache::ScanOptions scan;
      scan.match = "*" + marker + "*";
      std::vector<std::string> keys;
      client.scan_each(scan, [&](std::string_view k) { keys.emplace_back(k); });
      for (const std::string& key : keys) client.del({key});
    } catch (...) {  // NOLINT(bugprone-empty-catch): best effort
    }
  }
};

}  // namespace interop_support
