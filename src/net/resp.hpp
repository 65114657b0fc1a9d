// RESP encoding of argv commands into a caller-owned buffer (binary-safe, no printf).
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

#include "rediscache/net/args.hpp"

namespace rediscache::detail {

/// Appends `*N\r\n` then `$len\r\narg\r\n` per argument to `out`.
void append_resp(std::string& out, ArgList argv);

/// Decimal text of an integer, held inline so argv can point at it without allocating.
class IntText {
 public:
  explicit IntText(long long value) noexcept {
    auto result = std::to_chars(buf_, buf_ + sizeof buf_, value);
    len_ = static_cast<std::size_t>(result.ptr - buf_);
  }
  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }
  operator std::string_view() const noexcept {
    return view();
  }  // NOLINT(google-explicit-constructor)

 private:
  char buf_[24];
  std::size_t len_;
};

/// Shortest round-trip text of a double ("inf" and "-inf" as Redis expects them).
class DoubleText {
 public:
  explicit DoubleText(double value) noexcept;
  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }
  operator std::string_view() const noexcept {
    return view();
  }  // NOLINT(google-explicit-constructor)

 private:
  char buf_[32];
  std::size_t len_;
};

/// Upper-case command name for messages (argv[0] only: never keys or values).
[[nodiscard]] std::string command_name(ArgList argv);

}  // namespace rediscache::detail
