#include "util/validation.hpp"

#include <stdexcept>

namespace rediscache::detail {

void throw_invalid(std::string_view field, std::string_view rule) {
  std::string message(field);
  message += ' ';
  message += rule;
  throw std::invalid_argument(message);
}

void require_non_empty(std::string_view value, std::string_view field) {
  if (value.empty()) throw_invalid(field, "must not be empty");
}

std::string field_name(std::string_view qualified) {
  const std::size_t colons = qualified.rfind("::");
  return std::string(colons == std::string_view::npos ? qualified : qualified.substr(colons + 2));
}

std::string describe(std::chrono::milliseconds value) {
  constexpr std::chrono::milliseconds kDay = std::chrono::hours(24);
  if (value >= kDay && value % kDay == std::chrono::milliseconds::zero()) {
    const auto days = value / kDay;
    return std::to_string(days) + (days == 1 ? " day" : " days");
  }
  return std::to_string(value.count()) + " ms";
}

}  // namespace rediscache::detail
