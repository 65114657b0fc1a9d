#include "net/resp.hpp"

#include <cctype>
#include <cmath>

namespace rediscache::detail {

namespace {
void append_header(std::string& out, char kind, std::size_t n) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof buf, n);
  out.push_back(kind);
  out.append(buf, result.ptr);
  out.append("\r\n", 2);
}
}  // namespace

void append_resp(std::string& out, ArgList argv) {
  std::size_t total = 16;
  for (std::size_t i = 0; i < argv.size(); ++i) total += argv[i].size() + 16;
  out.reserve(out.size() + total);
  append_header(out, '*', argv.size());
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    append_header(out, '$', arg.size());
    out.append(arg.data(), arg.size());
    out.append("\r\n", 2);
  }
}

DoubleText::DoubleText(double value) noexcept {
  if (std::isinf(value)) {
    const std::string_view text = value > 0 ? "+inf" : "-inf";
    text.copy(buf_, text.size());
    len_ = text.size();
    return;
  }
  auto result = std::to_chars(buf_, buf_ + sizeof buf_, value);
  len_ = static_cast<std::size_t>(result.ptr - buf_);
}

std::string command_name(ArgList argv) {
  if (argv.empty()) return "(empty command)";
  std::string name(argv[0].substr(0, 32));
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace rediscache::detail
