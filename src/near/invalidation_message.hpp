// The invalidation message format: the one seam InvalidationPublisher and InvalidationListener
// must agree on. A payload is 'k' + key, 'p' + prefix, or "*" (drop everything). Pure.
#pragma once

#include <string>
#include <string_view>

namespace rediscache::detail {

/// What a payload on the library's channel asks of a near cache.
enum class InvalidationKind { kKey, kPrefix, kFlush, kMalformed };

/// A decoded payload; `subject` (the key or prefix) views the payload.
struct InvalidationMessage {
  InvalidationKind kind = InvalidationKind::kMalformed;
  std::string_view subject;
};

[[nodiscard]] std::string encode_key_invalidation(std::string_view key);
[[nodiscard]] std::string encode_prefix_invalidation(std::string_view prefix);
[[nodiscard]] std::string encode_flush_invalidation();
/// kMalformed for an empty payload, an unknown first byte, or '*' followed by anything. An empty
/// key or prefix is allowed ("k", "p"), as the publisher would send it. Payloads come from anyone
/// who can PUBLISH: any bytes of any length decode without copying and without throwing.
[[nodiscard]] InvalidationMessage decode_invalidation(std::string_view payload) noexcept;

}  // namespace rediscache::detail
