#include "rediscache/client/info.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace rediscache {

Info Info::parse(std::string_view text) {
  Info info;
  Fields* current = &info.sections_["default"];
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      line.remove_prefix(1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      std::string name(line);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      current = &info.sections_[name];
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    (*current)[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  if (info.sections_["default"].empty()) info.sections_.erase("default");
  return info;
}

std::optional<std::string_view> Info::get(std::string_view section, std::string_view field) const {
  const auto s = sections_.find(section);
  if (s == sections_.end()) return std::nullopt;
  const auto f = s->second.find(field);
  if (f == s->second.end()) return std::nullopt;
  return std::string_view(f->second);
}

std::optional<std::string_view> Info::get(std::string_view field) const {
  for (const auto& [name, fields] : sections_) {
    const auto f = fields.find(field);
    if (f != fields.end()) return std::string_view(f->second);
  }
  return std::nullopt;
}

std::optional<long long> Info::get_int(std::string_view field) const {
  const auto text = get(field);
  if (!text) return std::nullopt;
  long long value = 0;
  const auto result = std::from_chars(text->data(), text->data() + text->size(), value);
  if (result.ec != std::errc() || result.ptr != text->data() + text->size()) return std::nullopt;
  return value;
}

std::optional<double> Info::get_double(std::string_view field) const {
  const auto text = get(field);
  if (!text || text->empty()) return std::nullopt;
  const std::string copy(*text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

}  // namespace rediscache
