#include "cache/key_layout.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "rediscache/topology/cluster.hpp"
#include "util/validation.hpp"

namespace rediscache::detail {
namespace {

constexpr std::string_view kIdPlaceholder = "{id}";
constexpr std::string_view kVersionPlaceholder = "{version}";
constexpr std::size_t kMaxLayout = 256;
constexpr std::size_t kSlots = 16384;

// For each cluster slot, the first string over [0-9A-Za-z] (by length, then order) that hashes
// to it. Three characters cover every slot (62^3 candidates); the loop goes on if one did not.
const std::array<std::string, kSlots>& slot_tags() {
  static const std::array<std::string, kSlots> kTags = [] {
    static constexpr std::string_view kAlphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::array<std::string, kSlots> tags;
    std::size_t filled = 0;
    for (std::size_t length = 1; filled < kSlots; ++length) {
      std::string candidate(length, kAlphabet[0]);
      std::vector<std::size_t> digits(length, 0);
      while (true) {
        std::string& tag = tags[cluster_slot(candidate)];
        if (tag.empty()) {
          tag = candidate;
          ++filled;
        }
        std::size_t i = 0;
        for (; i < length; ++i) {
          if (++digits[i] < kAlphabet.size()) break;
          digits[i] = 0;
        }
        if (i == length) break;
        for (std::size_t k = 0; k <= i && k < length; ++k) candidate[k] = kAlphabet[digits[k]];
      }
    }
    return tags;
  }();
  return kTags;
}

}  // namespace

KeyLayout::KeyLayout(std::string_view layout, std::string_view name, std::string_view field) {
  require(!layout.empty() && layout.size() <= kMaxLayout, field, "must be 1..256 bytes");
  std::size_t ids = 0;
  std::size_t versions = 0;
  std::string literal;
  bool before_placeholder = true;
  for (std::size_t i = 0; i < layout.size();) {
    const auto c = static_cast<unsigned char>(layout[i]);
    require(c >= 0x20 && c != 0x7F, field, "may not contain control characters");
    const std::string_view rest = layout.substr(i);
    const bool is_id = rest.substr(0, kIdPlaceholder.size()) == kIdPlaceholder;
    const bool is_version = rest.substr(0, kVersionPlaceholder.size()) == kVersionPlaceholder;
    if (!is_id && !is_version) {
      literal.push_back(layout[i]);
      ++i;
      continue;
    }
    if (!literal.empty()) segments_.push_back(Segment{Part::kLiteral, std::move(literal)});
    literal.clear();
    if (before_placeholder) prefix_ = layout.substr(0, i);
    before_placeholder = false;
    segments_.push_back(Segment{is_id ? Part::kId : Part::kVersion, {}});
    ++(is_id ? ids : versions);
    i += is_id ? kIdPlaceholder.size() : kVersionPlaceholder.size();
  }
  if (!literal.empty()) segments_.push_back(Segment{Part::kLiteral, std::move(literal)});
  require(ids == 1, field, "must contain \"{id}\" exactly once");
  require(versions <= 1, field, "may contain \"{version}\" at most once");
  require(!prefix_.empty() && prefix_[0] != '{', field,
          "must start with literal text other than '{' (for example \"user:{id}\")");
  // Keys under "<name>:" are the cache's own (version, WriteThrough locks): no key of the
  // layout may start with it, whatever the id, so neither prefix may extend the other.
  const std::string own = std::string(name) + ":";
  const std::size_t common = std::min(own.size(), prefix_.size());
  require(own.compare(0, common, prefix_, 0, common) != 0, field,
          "must not produce keys under \"<CacheOptions::name>:\" (the cache's own keys); choose "
          "another name or layout");
  versioned_ = versions == 1;
}

std::string KeyLayout::expand(std::string_view id, long long version) const {
  std::string key;
  key.reserve(prefix_.size() + id.size() + 32);
  for (const Segment& segment : segments_) {
    switch (segment.part) {
      case Part::kLiteral:
        key.append(segment.text);
        break;
      case Part::kId:
        key.append(id);
        break;
      case Part::kVersion:
        key.append(std::to_string(version));
        break;
    }
  }
  return key;
}

std::string layout_lock_key(std::string_view entry_key) {
  const std::string& tag = slot_tags()[cluster_slot(entry_key)];
  std::string key;
  key.reserve(tag.size() + entry_key.size() + 8);
  key.append("{").append(tag).append("}:lock:").append(entry_key);
  return key;
}

}  // namespace rediscache::detail
