// Codec<T>: how a cached value becomes bytes and back. JSON through nlohmann_json by default, raw
// bytes for std::string; specialise Codec for your own types or formats.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rediscache/export.hpp"

namespace rediscache {

namespace detail {
/// JSON text into `out`: a fast reader for the shapes encoders write (src/cache/json_reader.hpp),
/// else nlohmann::json::parse, whose errors propagate (nlohmann::json::parse_error for malformed
/// text, out_of_range for a number beyond double); either way `out` is what nlohmann alone gives.
/// False, with `out` unspecified, when the text nests deeper than `max_depth`: nothing deeper is
/// ever handed to nlohmann, whose values copy and destroy recursively.
[[nodiscard]] REDISCACHE_EXPORT bool parse_json(std::string_view text, nlohmann::json& out,
                                                std::size_t max_depth);
}  // namespace detail

/// Thrown by a codec's `decode` when bytes are not a valid encoding of the type. The caches catch
/// any exception from `decode`, count it as a decode error, delete the entry and treat it as a
/// miss, so a custom codec may throw whatever it likes; this is the type ours throw.
class CodecError : public std::runtime_error {
 public:
  explicit CodecError(const std::string& what) : std::runtime_error(what) {}
};

/// How deep arrays and objects may nest in JSON the default codec reads. Honest values nest a
/// few levels; a planted `[[[...]]]` a million deep would otherwise crash the reader (nlohmann
/// copies and destroys values recursively). Deeper input is a CodecError: counted, deleted, a
/// miss. Choose another bound per cache with `CacheAside<T, JsonCodec<T, Depth>>`.
inline constexpr std::size_t kDefaultMaxJsonDepth = 128;

namespace detail {

/// True when JSON number `j` converts to arithmetic T exactly as nlohmann would convert it, and
/// without leaving T's range: no wrap (2^64 into long long, -1 into unsigned), no float-to-int
/// cast outside the range (undefined behaviour), no fraction dropped. Not a number: true (the
/// conversion then fails with nlohmann's type_error).
template <class T>
bool json_number_fits(const nlohmann::json& j) noexcept {
  using L = std::numeric_limits<T>;
  if constexpr (std::is_integral_v<T>) {
    if (j.is_number_unsigned()) {
      return j.get_ref<const nlohmann::json::number_unsigned_t&>() <=
             static_cast<std::uint64_t>(L::max());
    }
    if (j.is_number_integer()) {
      const std::int64_t v = j.get_ref<const nlohmann::json::number_integer_t&>();
      if constexpr (std::is_signed_v<T>) {
        return v >= static_cast<std::int64_t>(L::min()) && v <= static_cast<std::int64_t>(L::max());
      } else {
        return v >= 0 && static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(L::max());
      }
    }
    if (j.is_number_float()) {
      const double v = j.get_ref<const nlohmann::json::number_float_t&>();
      const double limit = std::ldexp(1.0, L::digits);  // 2^digits: exact, one past max()
      const double low = std::is_signed_v<T> ? -limit : 0.0;
      return std::isfinite(v) && v == std::trunc(v) && v >= low && v < limit;
    }
    return true;
  } else {
    if (j.is_number_float() && !std::is_same_v<T, double> && !std::is_same_v<T, long double>) {
      const double v = j.get_ref<const nlohmann::json::number_float_t&>();
      return !std::isfinite(v) || std::fabs(v) <= static_cast<double>(L::max());
    }
    return true;
  }
}

/// Walks the JSON shape of T (arithmetic types, the standard containers, optional, pair) and
/// throws CodecError where a number does not fit its target. Other types (yours, with their own
/// from_json) are not walked: check ranges in your from_json (see docs/cache-aside.md).
template <class T, class Enable = void>
struct JsonRangeCheck {
  static void check(const nlohmann::json& /*j*/) {}
};

template <class T>
struct JsonRangeCheck<T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>> {
  static void check(const nlohmann::json& j) {
    if (!json_number_fits<T>(j)) {
      throw CodecError(
          "rediscache: cannot decode JSON value: a number is out of range of its type");
    }
  }
};

template <class V>
struct JsonRangeCheckElements {
  static void check(const nlohmann::json& j) {
    if (!j.is_array()) return;
    for (const nlohmann::json& e : j) JsonRangeCheck<V>::check(e);
  }
};
template <class V, class A>
struct JsonRangeCheck<std::vector<V, A>> : JsonRangeCheckElements<V> {};
template <class V, class A>
struct JsonRangeCheck<std::deque<V, A>> : JsonRangeCheckElements<V> {};
template <class V, class A>
struct JsonRangeCheck<std::list<V, A>> : JsonRangeCheckElements<V> {};
template <class V, std::size_t N>
struct JsonRangeCheck<std::array<V, N>> : JsonRangeCheckElements<V> {};
template <class V, class C, class A>
struct JsonRangeCheck<std::set<V, C, A>> : JsonRangeCheckElements<V> {};
template <class V, class H, class E, class A>
struct JsonRangeCheck<std::unordered_set<V, H, E, A>> : JsonRangeCheckElements<V> {};

template <class K, class V>
struct JsonRangeCheckMap {
  static void check(const nlohmann::json& j) {
    if (j.is_object()) {
      for (const auto& item : j.items()) JsonRangeCheck<V>::check(item.value());
    } else if (j.is_array()) {  // non-string keys: an array of [key, value] pairs
      for (const nlohmann::json& e : j) JsonRangeCheck<std::pair<K, V>>::check(e);
    }
  }
};
template <class K, class V, class C, class A>
struct JsonRangeCheck<std::map<K, V, C, A>> : JsonRangeCheckMap<K, V> {};
template <class K, class V, class H, class E, class A>
struct JsonRangeCheck<std::unordered_map<K, V, H, E, A>> : JsonRangeCheckMap<K, V> {};

template <class V>
struct JsonRangeCheck<std::optional<V>> {
  static void check(const nlohmann::json& j) {
    if (!j.is_null()) JsonRangeCheck<V>::check(j);
  }
};

template <class A, class B>
struct JsonRangeCheck<std::pair<A, B>> {
  static void check(const nlohmann::json& j) {
    if (!j.is_array() || j.size() != 2) return;
    JsonRangeCheck<A>::check(j[0]);
    JsonRangeCheck<B>::check(j[1]);
  }
};

}  // namespace detail

/// The JSON codec, with its nesting bound as a parameter. Codec<T> is JsonCodec<T>.
template <class T, std::size_t MaxDepth = kDefaultMaxJsonDepth>
struct JsonCodec {
  static_assert(MaxDepth >= 1, "JsonCodec: MaxDepth must be at least 1");

  /// JSON text of `value`. Throws nlohmann::json::exception for values JSON cannot hold (invalid
  /// UTF-8 in strings).
  static std::string encode(const T& value) { return nlohmann::json(value).dump(); }

  /// Parses JSON and converts it to T. Throws CodecError on malformed JSON, nesting deeper than
  /// MaxDepth, a number out of range of an arithmetic target (in T itself or the standard
  /// containers of it), or a shape that does not convert (an older schema, a different type).
  /// Reads the same values as nlohmann::json::parse, through a faster reader for the common
  /// shapes (detail/json_reader.hpp).
  static T decode(std::string_view bytes) {
    try {
      nlohmann::json json;
      if (!detail::parse_json(bytes, json, MaxDepth)) {
        throw CodecError(
            "rediscache: cannot decode JSON value: nested deeper than the codec allows");
      }
      detail::JsonRangeCheck<T>::check(json);
      return json.template get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw CodecError(std::string("rediscache: cannot decode JSON value: ") + e.what());
    }
  }
};

/// The customisation point: `static std::string encode(const T&)` and `static T
/// decode(std::string_view bytes)` (throws on bad input). `decode(encode(v)) == v` must hold. Both
/// must be thread-safe (they are static and should keep no state).
///
/// Optional: `static std::size_t estimated_size(const T&) noexcept`, the bytes a decoded value
/// holds in memory. A near tier (CacheOptions::near_cache) keeps decoded values and charges this
/// against NearCacheOptions::max_bytes; without it, it charges the encoded size, which for JSON
/// is usually close (strings) or larger (numbers) than the value itself.
///
/// The primary template is JsonCodec<T>: JSON with nlohmann_json, so it serves every type nlohmann
/// can convert: built-ins, standard containers, and your types with `to_json`/`from_json` (or
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
struct Codec : JsonCodec<T> {};

/// Strings are stored as their raw bytes (binary-safe, no quoting, any length).
template <>
struct Codec<std::string> {
  static std::string encode(const std::string& value) { return value; }
  static std::string decode(std::string_view bytes) { return std::string(bytes); }
  static std::size_t estimated_size(const std::string& value) noexcept {
    return sizeof(std::string) + value.capacity();
  }
};

}  // namespace rediscache
