// Key building with arbitrary namespace names, ids and versions (KeySpace, no I/O): a name is
// accepted exactly when it is 1..128 bytes of [A-Za-z0-9_.-] (else std::invalid_argument, nothing
// else), every key has the documented layout, keys_for agrees with key_for, an entry and its lock
// share a cluster slot whatever the id, and two different ids never share a key.
//
// Input: byte 0 splits the rest into a name and ids (separated by 0xff bytes), byte 1 picks the
// version.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rediscache/cache/keys.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const rediscache::Client& client() {
  static const rediscache::Client kClient = [] {
    rediscache::ConnectionOptions options;
    options.port = 1;  // never contacted: key building does no I/O
    return rediscache::Client(options);
  }();
  return kClient;
}

long long version_of(std::uint8_t pick) {
  static const long long kVersions[] = {0,
                                        1,
                                        1795000000123LL,
                                        -1,
                                        std::numeric_limits<long long>::max(),
                                        std::numeric_limits<long long>::min()};
  return kVersions[pick % (sizeof kVersions / sizeof kVersions[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t name_len = std::min<std::size_t>(data[0], rest.size());
  const std::string name(rest.substr(0, name_len));
  const long long version = version_of(data[1]);

  std::vector<std::string> ids;
  std::string_view tail = rest.substr(name_len);
  while (!tail.empty() && ids.size() < 16) {
    const std::size_t cut = tail.find('\xff');
    ids.emplace_back(tail.substr(0, cut));
    tail = cut == std::string_view::npos ? std::string_view() : tail.substr(cut + 1);
  }
  if (ids.empty()) ids.emplace_back();

  try {
    const rediscache::KeySpace keys(client(), name);
    if (!valid_name(name)) std::abort();  // accepted a name the layout does not allow
    std::vector<std::string_view> views(ids.begin(), ids.end());
    const std::vector<std::string> batch = keys.keys_for(views, version);
    if (batch.size() != ids.size()) std::abort();
    const std::string prefix = name + ":v" + std::to_string(version) + "{:";
    const std::string lock_prefix = name + ":lock:v" + std::to_string(version) + "{:";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string key = keys.key_for(ids[i], version);
      const std::string lock = keys.lock_key_for(ids[i], version);
      if (key != prefix + ids[i] + "}" || lock != lock_prefix + ids[i] + "}") std::abort();
      if (batch[i] != key) std::abort();
      if (rediscache::cluster_slot(key) != rediscache::cluster_slot(lock)) std::abort();
      if (key == keys.version_key() || lock == keys.version_key()) std::abort();
      for (std::size_t j = 0; j < i; ++j) {
        if ((ids[i] == ids[j]) != (batch[i] == batch[j])) std::abort();
      }
    }
  } catch (const std::invalid_argument&) {
    if (valid_name(name)) std::abort();  // refused a valid name
  }
  return 0;
}
