// ArgList: a non-owning, binary-safe view of a command's arguments (or of a list of keys).
// It lets one signature accept braced lists, vectors of strings and vectors of string_views.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace rediscache {

/// A view of arguments; it never copies them. Use it only as a function parameter: it must not
/// outlive the list it was made from (a braced list lives until the end of the full expression).
/// Arguments may contain any bytes, NUL and CR/LF included. Thread-safe to read.
class ArgList {
 public:
  ArgList() noexcept = default;
// Keeping a braced list's array past the constructor is the point of a parameter-only view: the
// array lives until the end of the caller's full expression, which outlasts every use here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  ArgList(
      std::initializer_list<std::string_view> args) noexcept  // NOLINT(google-explicit-constructor)
      : views_(args.begin()), size_(args.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  ArgList(
      const std::vector<std::string_view>& args) noexcept  // NOLINT(google-explicit-constructor)
      : views_(args.data()), size_(args.size()) {}
  ArgList(const std::vector<std::string>& args) noexcept  // NOLINT(google-explicit-constructor)
      : strings_(args.data()), size_(args.size()) {}
  ArgList(const std::string_view* data, std::size_t size) noexcept : views_(data), size_(size) {}

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
    return views_ != nullptr ? views_[i] : std::string_view(strings_[i]);
  }

 private:
  const std::string_view* views_ = nullptr;
  const std::string* strings_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace rediscache
