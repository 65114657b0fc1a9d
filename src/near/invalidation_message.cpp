#include "near/invalidation_message.hpp"

namespace rediscache::detail {
namespace {

std::string tagged(char tag, std::string_view subject) {
  std::string m;
  m.reserve(subject.size() + 1);
  m.push_back(tag);
  m.append(subject);
  return m;
}

}  // namespace

std::string encode_key_invalidation(std::string_view key) { return tagged('k', key); }
std::string encode_prefix_invalidation(std::string_view prefix) { return tagged('p', prefix); }
std::string encode_flush_invalidation() { return "*"; }

InvalidationMessage decode_invalidation(std::string_view payload) noexcept {
  if (payload.empty()) return {};
  switch (payload.front()) {
    case 'k':
      return {InvalidationKind::kKey, payload.substr(1)};
    case 'p':
      return {InvalidationKind::kPrefix, payload.substr(1)};
    case '*':
      // Exactly "*": a flush drops every instance's whole near cache, so nothing else that
      // happens to start with '*' may ask for one.
      if (payload.size() != 1) return {};
      return {InvalidationKind::kFlush, {}};
    default:
      return {};
  }
}

}  // namespace rediscache::detail
