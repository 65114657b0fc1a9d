#include "rediscache/client/script.hpp"

#include <stdexcept>

#include "util/sha1.hpp"

namespace rediscache {

Script::Script(std::string source) : source_(std::move(source)) {
  if (source_.empty()) throw std::invalid_argument("Script source must not be empty");
  sha1_ = detail::sha1_hex(source_);
}

}  // namespace rediscache
