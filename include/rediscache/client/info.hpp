// Info: the text of the INFO command parsed into sections of fields.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rediscache/export.hpp"

namespace rediscache {

/// INFO output, parsed. Section names are lower case ("stats", "memory", "keyspace"). A plain
/// value; thread-safe to read.
class REDISCACHE_EXPORT Info {
 public:
  using Fields = std::map<std::string, std::string, std::less<>>;
  using Sections = std::map<std::string, Fields, std::less<>>;

  /// Parses INFO text ("# Section" headers, "field:value" lines). Never throws on odd lines.
  [[nodiscard]] static Info parse(std::string_view text);

  /// The field's value in the given section, if present.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view section,
                                                    std::string_view field) const;
  /// The field's value from whichever section has it, if any.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view field) const;
  /// The field as an integer, if present and numeric.
  [[nodiscard]] std::optional<long long> get_int(std::string_view field) const;
  /// The field as a floating-point number, if present and numeric.
  [[nodiscard]] std::optional<double> get_double(std::string_view field) const;

  [[nodiscard]] const Sections& sections() const noexcept { return sections_; }

 private:
  Sections sections_;
};

}  // namespace rediscache
