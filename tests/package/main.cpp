// Consumer of an installed rediscache: proves the installed headers, targets and library link.
#include <iostream>
#include <string>

#include <rediscache/version.hpp>

int main() {
  std::cout << "rediscache " << rediscache::version() << '\n';
  // The installed header and the installed library must agree.
  const std::string expected = std::to_string(REDISCACHE_VERSION_MAJOR) + "." +
                               std::to_string(REDISCACHE_VERSION_MINOR) + "." +
                               std::to_string(REDISCACHE_VERSION_PATCH);
  if (rediscache::version() != expected) {
    std::cerr << "header says " << expected << '\n';
    return 1;
  }
  return 0;
}
