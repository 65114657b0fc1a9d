// A fast reader of JSON text into nlohmann::json for Codec<T>::decode, the hot path of a cache hit.
// It covers the JSON that encoders write and hands anything else back to nlohmann's own parser.
// Private: the installed codec.hpp reaches it through detail::parse_json (json_reader.cpp).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

namespace rediscache::detail {

/// Reads one JSON text into an nlohmann::json value, several times faster than
/// `nlohmann::json::parse`: no per-character token copies, strings built in one allocation,
/// numbers read by std::from_chars.
///
/// It accepts only a subset of JSON it can read exactly as nlohmann does (strict RFC 8259:
/// objects, arrays, strings with UTF-8 and the short escapes, numbers, literals, whitespace;
/// nesting up to kMaxDepth). For anything else — `\u` escapes, invalid UTF-8, a byte-order mark,
/// numbers nlohmann turns into doubles because they overflow 64-bit integers, nesting deeper than
/// kMaxDepth, and every malformed text — `read` returns false, and the caller parses with
/// `nlohmann::json::parse`, which then gives the same value or its error. So the result of
/// "fast path, else nlohmann" is always the value (or error) nlohmann alone would give.
/// Duplicate keys: the last one wins, as in nlohmann's parser.
///
/// Throws only std::bad_alloc. Not thread-safe (use one reader per call; it is cheap).
class JsonReader {
 public:
  /// Deeper texts go to nlohmann (which parses without recursion), so the reader's recursion
  /// stays small whatever the input.
  static constexpr int kMaxDepth = 64;

  /// `max_depth` lowers kMaxDepth (the caller's nesting bound); deeper texts are refused.
  explicit JsonReader(std::string_view text, int max_depth = kMaxDepth) noexcept
      : pos_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth < kMaxDepth ? max_depth : kMaxDepth) {}

  /// Reads the whole text into `out`. False when the text is outside the subset (or malformed);
  /// `out` is then unspecified.
  bool read(nlohmann::json& out) {
    skip_whitespace();
    if (!read_value(out, 0)) return false;
    skip_whitespace();
    return pos_ == end_;
  }

 private:
  void skip_whitespace() noexcept {
    while (pos_ != end_ && (*pos_ == ' ' || *pos_ == '\n' || *pos_ == '\r' || *pos_ == '\t')) {
      ++pos_;
    }
  }

  bool consume(char c) noexcept {
    if (pos_ == end_ || *pos_ != c) return false;
    ++pos_;
    return true;
  }

  bool read_value(nlohmann::json& out, int depth) {
    if (pos_ == end_) return false;
    switch (*pos_) {
      case '{':
        return read_object(out, depth + 1);
      case '[':
        return read_array(out, depth + 1);
      case '"':
        // Read straight into the value's own string: no temporary to move.
        out = nlohmann::json::value_t::string;
        return read_string(out.get_ref<nlohmann::json::string_t&>());
      case 't':
        return read_literal("true", true, out);
      case 'f':
        return read_literal("false", false, out);
      case 'n':
        return read_literal("null", nullptr, out);
      default:
        return read_number(out);
    }
  }

  template <class V>
  bool read_literal(std::string_view word, V value, nlohmann::json& out) {
    if (static_cast<std::size_t>(end_ - pos_) < word.size() ||
        std::string_view(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    out = value;
    return true;
  }

  // Members are collected in a local map and moved into `out` whole, which also keeps
  // nlohmann's parent links right under JSON_DIAGNOSTICS. Encoders that write keys in order
  // (nlohmann does) make each insertion O(1) through the end() hint.
  bool read_object(nlohmann::json& out, int depth) {
    if (depth > max_depth_) return false;
    ++pos_;  // '{'
    nlohmann::json::object_t members;
    skip_whitespace();
    if (!consume('}')) {
      for (;;) {
        std::string key;
        if (pos_ == end_ || *pos_ != '"' || !read_string(key)) return false;
        skip_whitespace();
        if (!consume(':')) return false;
        skip_whitespace();
        // A repeated key finds its earlier member, which is overwritten: the last one wins.
        const auto slot = members.emplace_hint(members.end(), std::move(key), nullptr);
        if (!read_value(slot->second, depth)) return false;
        skip_whitespace();
        if (consume('}')) break;
        if (!consume(',')) return false;
        skip_whitespace();
      }
    }
    out = nlohmann::json(std::move(members));
    return true;
  }

  bool read_array(nlohmann::json& out, int depth) {
    if (depth > max_depth_) return false;
    ++pos_;  // '['
    nlohmann::json::array_t items;
    skip_whitespace();
    if (!consume(']')) {
      items.reserve(4);
      for (;;) {
        if (!read_value(items.emplace_back(), depth)) return false;
        skip_whitespace();
        if (consume(']')) break;
        if (!consume(',')) return false;
        skip_whitespace();
      }
    }
    out = nlohmann::json(std::move(items));
    return true;
  }

  // Length of the well-formed UTF-8 sequence at pos_ (whose lead byte is >= 0x80), 0 if it is
  // not well-formed: the table of RFC 3629, which nlohmann's lexer enforces too.
  [[nodiscard]] std::size_t utf8_length() const noexcept {
    const auto byte = [this](std::size_t i) {
      return static_cast<unsigned char>(pos_[static_cast<std::ptrdiff_t>(i)]);
    };
    const auto left = static_cast<std::size_t>(end_ - pos_);
    const auto in = [&](std::size_t i, unsigned lo, unsigned hi) {
      return i < left && byte(i) >= lo && byte(i) <= hi;
    };
    const unsigned lead = byte(0);
    if (lead >= 0xC2 && lead <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
      const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
      const unsigned hi = lead == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
      return in(1, lo, hi) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
      const unsigned lo = lead == 0xF0 ? 0x90 : 0x80;  // no overlong forms
      const unsigned hi = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
      return in(1, lo, hi) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
  }

  // pos_ is at the opening quote.
  bool read_string(std::string& out) {
    ++pos_;
    const char* run = pos_;  // start of the bytes not yet copied to `out`
    while (pos_ != end_) {
      const auto c = static_cast<unsigned char>(*pos_);
      if (c == '"') {
        out.append(run, pos_);
        ++pos_;
        return true;
      }
      if (c == '\\') {
        out.append(run, pos_);
        if (++pos_ == end_) return false;
        switch (*pos_) {
          case '"':
          case '\\':
          case '/':
            out.push_back(*pos_);
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          default:
            return false;  // \u escapes (and invalid ones) are nlohmann's
        }
        run = ++pos_;
      } else if (c < 0x20) {
        return false;  // control characters must be escaped
      } else if (c < 0x80) {
        ++pos_;
      } else {
        const std::size_t n = utf8_length();
        if (n == 0) return false;
        pos_ += n;
      }
    }
    return false;  // unterminated
  }

  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  void skip_digits() noexcept {
    while (pos_ != end_ && is_digit(*pos_)) ++pos_;
  }

  // RFC 8259 number grammar; integers as nlohmann types them (unsigned without a minus sign,
  // signed with one), everything else as double.
  bool read_number(nlohmann::json& out) {
    const char* start = pos_;
    const bool negative = consume('-');
    if (pos_ == end_ || !is_digit(*pos_)) return false;
    if (*pos_ == '0') {
      ++pos_;
    } else {
      skip_digits();
    }
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (pos_ == end_ || !is_digit(*pos_)) return false;
      skip_digits();
    }
    if (pos_ != end_ && (*pos_ == 'e' || *pos_ == 'E')) {
      integral = false;
      ++pos_;
      if (!consume('+')) consume('-');
      if (pos_ == end_ || !is_digit(*pos_)) return false;
      skip_digits();
    }
    if (integral) {
      if (negative) {
        nlohmann::json::number_integer_t value = 0;
        if (!parsed(std::from_chars(start, pos_, value))) return false;  // overflow: nlohmann's
        out = value;
      } else {
        nlohmann::json::number_unsigned_t value = 0;
        if (!parsed(std::from_chars(start, pos_, value))) return false;
        out = value;
      }
      return true;
    }
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    // from_chars and strtod (nlohmann's) both round correctly, so they agree; out-of-range and
    // non-finite results are left to nlohmann, which rejects or flushes them its own way.
    double value = 0;
    if (!parsed(std::from_chars(start, pos_, value)) || !std::isfinite(value)) return false;
    out = static_cast<nlohmann::json::number_float_t>(value);
    return true;
#else
    return false;  // no floating-point from_chars: nlohmann reads it
#endif
  }

  [[nodiscard]] bool parsed(std::from_chars_result result) const noexcept {
    return result.ec == std::errc() && result.ptr == pos_;
  }

  const char* pos_;
  const char* end_;
  int max_depth_;
};

/// True when arrays and objects in `text` nest deeper than `max_depth` (brackets inside strings
/// do not count). One pass that stops at the first level too deep, so a hostile text costs no
/// more than the bytes before that point. Malformed text may pass; the parser then rejects it.
inline bool json_nests_deeper_than(std::string_view text, std::size_t max_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace rediscache::detail
