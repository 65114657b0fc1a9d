// Codec<T>: how a cached value becomes bytes and back. JSON through nlohmann_json by default, raw
// bytes for std::string; specialise Codec for your own types or formats.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rediscache/export.hpp"

namespace rediscache {

namespace detail {
/// JSON text into `out`: a fast reader for the shapes encoders write (src/cache/json_reader.hpp),
/// else nlohmann::json::parse, whose errors propagate (nlohmann::json::parse_error for malformed
/// text, out_of_range for a number beyond double). Either way `out` is what nlohmann alone gives.
REDISCACHE_EXPORT void parse_json(std::string_view text, nlohmann::json& out);
}  // namespace detail

/// Thrown by a codec's `decode` when bytes are not a valid encoding of the type. The caches catch
/// any exception from `decode`, count it as a decode error, delete the entry and treat it as a
/// miss, so a custom codec may throw whatever it likes; this is the type ours throw.
class CodecError : public std::runtime_error {
 public:
  explicit CodecError(const std::string& what) : std::runtime_error(what) {}
};

/// The customisation point: `static std::string encode(const T&)` and `static T
/// decode(std::string_view bytes)` (throws on bad input). `decode(encode(v)) == v` must hold. Both
/// must be thread-safe (they are static and should keep no state).
///
/// The primary template encodes as JSON with nlohmann_json, so it serves every type nlohmann can
/// convert: built-ins, standard containers, and your types with `to_json`/`from_json` (or
/// `NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE`). To plug your own format, specialise it:
///
///     template <> struct rediscache::Codec<MyProto> {
///       static std::string encode(const MyProto& v) { return
///       v.SerializeAsString(); } static MyProto decode(std::string_view b) {
///       ...; throws on bad input }
///     };
///
/// or pass a codec type as the second template argument of a cache (`CacheAside<T, MyCodec>`).
/// `Enable` is for SFINAE-constrained partial specialisations.
template <class T, class Enable = void>
struct Codec {
  /// JSON text of `value`. Throws nlohmann::json::exception for values JSON cannot hold (invalid
  /// UTF-8 in strings).
  static std::string encode(const T& value) { return nlohmann::json(value).dump(); }

  /// Parses JSON and converts it to T. Throws CodecError on malformed JSON or a shape that does not
  /// convert (an older schema, a different type). Reads the same values as nlohmann::json::parse,
  /// through a faster reader for the common shapes (detail::parse_json).
  static T decode(std::string_view bytes) {
    try {
      nlohmann::json json;
      detail::parse_json(bytes, json);
      return json.template get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw CodecError(std::string("rediscache: cannot decode JSON value: ") + e.what());
    }
  }
};

/// Strings are stored as their raw bytes (binary-safe, no quoting, any length).
template <>
struct Codec<std::string> {
  static std::string encode(const std::string& value) { return value; }
  static std::string decode(std::string_view bytes) { return std::string(bytes); }
};

}  // namespace rediscache
